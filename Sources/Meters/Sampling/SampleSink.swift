import Foundation

/// Something the sampler says besides readings, in the order it happens.
public enum SamplerEvent: Sendable, Equatable {
    /// Sampling began: interval and why, and the integration rules it integrates under.
    case started(SamplerStart)
    /// Counters that exist but cannot be read, with their fixes.
    case metersBlocked([BlockedChannel])
    /// What the meters skipped or decided about what counts.
    case meterDecisions([MeterDecision])
    /// A channel stopped answering (`channel` in the sink's numbering).
    case channelGap(channel: Int, key: String)
    /// A channel answered again; its next reading follows a gap.
    case channelResumed(channel: Int)
    /// A decision of the integration rules (channel indices in the sink's numbering).
    case anomaly(ReadingAnomaly)
    /// The sampler's own cost, when it stops.
    case overhead(SamplerOverhead)
}

/// How sampling began.
public struct SamplerStart: Codable, Sendable, Equatable {
    public var intervalSeconds: Double
    /// The integration rules' version (`IntegrationRules`).
    public var integration: Int
    /// Why the interval is what it is.
    public var note: String

    public init(intervalSeconds: Double, integration: Int, note: String) {
        self.intervalSeconds = intervalSeconds; self.integration = integration; self.note = note
    }
}

/// Where the sampler sends what it reads; several can listen at once (the ledger, a live exporter, a progress
/// display), each with its own channel numbering.
public protocol SampleSink: AnyObject {
    /// Called once, before any sample, with every channel; returns the sink's index for each.
    func register(_ channels: [MeterChannel]) -> [Int]
    /// A raw reading, in the channel's unit.
    func record(channel: Int, tNs: Int64, value: Double)
    /// The energy a channel's reading at `toNs` added since its reading at `fromNs`, J (its own integration), and
    /// what it added to the run's total (0 for a channel that does not count; a share where a decision of the
    /// integration rules moved energy, negative where a stray reading was taken back). After the tick's `record`s.
    func energy(channel: Int, fromNs: Int64, toNs: Int64, joules: Double, counted: Double)
    /// The tick at `tNs` is complete: every `record` and `energy` of it has been sent. A sink that others read while
    /// sampling goes on (an exporter) publishes here, so a reader never sees half a tick.
    func tickFinished(tNs: Int64)
    func event(tNs: Int64, _ event: SamplerEvent)
    /// Commits buffered samples; called at least every `flushInterval` and on stop.
    func flush() throws
}

extension SampleSink {
    public func energy(channel: Int, fromNs: Int64, toNs: Int64, joules: Double, counted: Double) {}
    public func tickFinished(tNs: Int64) {}
}
