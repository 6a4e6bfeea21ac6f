import Foundation
import Ledger
import Meters

/// Sends the sampler's readings to a run in the ledger.
public final class LedgerSink: SampleSink {
    public let recorder: RunRecorder

    public init(recorder: RunRecorder) { self.recorder = recorder }

    public func register(_ channels: [MeterChannel]) -> [Int] {
        channels.map { c in
            recorder.addChannel(
                ChannelRecord(
                    index: 0, device: c.device, domain: c.domain, kind: c.kind, role: c.role, unit: c.unit,
                    source: c.source, mode: c.mode, resolution: c.resolution, wrapRange: c.wrapRange,
                    uncertainty: c.uncertainty, key: c.key, deviceClass: c.deviceClass, maxWatts: c.maxWatts))
        }
    }

    public func record(channel: Int, tNs: Int64, value: Double) {
        recorder.record(SampleRecord(channel: channel, tNs: tNs, value: value))
    }

    public func event(tNs: Int64, _ event: SamplerEvent) {
        let recorded: RunEvent
        switch event {
        case let .started(start): recorded = .samplerStart(start)
        case let .metersBlocked(blocked): recorded = .metersBlocked(blocked)
        case let .meterDecisions(decisions): recorded = .meterDecisions(decisions)
        case let .channelGap(channel, key): recorded = .channelGap(channel: channel, key: key)
        case let .channelResumed(channel): recorded = .channelResumed(channel: channel)
        case let .anomaly(anomaly): recorded = .anomaly(anomaly)
        case let .overhead(overhead): recorded = .samplerOverhead(overhead)
        }
        recorder.record(recorded.record(at: tNs))
    }

    public func flush() throws { try recorder.flush() }
}
