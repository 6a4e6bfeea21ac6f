import Foundation
import Measures

/// Where the sampler sends what it reads. The ledger's run recorder conforms in the CLI layer; tests use arrays.
public protocol SampleSink: AnyObject {
    /// Called once, before any sample, with every channel; returns the sink's index for each.
    func register(_ channels: [MeterChannel]) -> [Int]
    func record(channel: Int, tNs: Int64, value: Double)
    func event(tNs: Int64, kind: String, payload: String)
    /// Commits buffered samples; called at least every `flushInterval` and on stop.
    func flush() throws
}

/// What the sampler cost, measured on itself.
public struct SamplerOverhead: Sendable, Codable, Equatable {
    /// CPU time of the sampler thread (`CLOCK_THREAD_CPUTIME_ID`), seconds.
    public var cpuSeconds: Double
    public var wallSeconds: Double
    public var ticks: Int
    public var intervalSeconds: Double

    public init(cpuSeconds: Double, wallSeconds: Double, ticks: Int, intervalSeconds: Double) {
        self.cpuSeconds = cpuSeconds; self.wallSeconds = wallSeconds; self.ticks = ticks; self.intervalSeconds = intervalSeconds
    }

    /// CPU time ÷ wall time: the share of one core the sampler used.
    public var fractionOfOneCore: Double { wallSeconds > 0 ? cpuSeconds / wallSeconds : 0 }
}

/// Reads every meter on a background thread at a fixed interval on the monotonic clock, integrates each channel
/// exactly as it goes, and hands raw readings to a sink in batches.
///
/// The interval is bounded by the wrap rule: never longer than `MeterSet.maxSafeInterval`, so a counter cannot wrap
/// twice between reads.
public final class Sampler: @unchecked Sendable {
    public let meters: MeterSet
    public let interval: Double
    public let flushInterval: Double
    /// Why the interval is what it is (requested, or shortened by the wrap rule).
    public let intervalNote: String
    /// What the chosen interval costs in accuracy, for the user to see before the run.
    public let caveats: [String]
    public let channels: [MeterChannel]
    private let sink: SampleSink?
    private let lock = NSLock()
    private let integrator: RunIntegrator
    private var sinkIndex: [Int] = []
    private var values: [Double?]
    private var present: [Bool]
    private var wasRead: [Bool]
    private var thread: Thread?
    private var stopRequested = false
    private let done = DispatchSemaphore(value: 0)
    private var startNs: Int64 = 0
    private var cpuSeconds = 0.0
    private var ticks = 0
    private var lastFlushNs: Int64 = 0
    public private(set) var flushErrors: [String] = []

    public init(meters: MeterSet, interval requested: Double = 0.1, flushInterval: Double = 2, sink: SampleSink?) {
        self.meters = meters
        self.sink = sink
        self.flushInterval = flushInterval
        channels = meters.channels
        if let bound = meters.maxSafeInterval, bound < requested {
            interval = bound
            intervalNote = "\(requested) s requested; shortened to \(bound) s so no counter can wrap twice between reads"
        } else {
            interval = requested
            let bound = meters.maxSafeInterval.map { String(format: "%.0f s", $0) } ?? "none (no wrapping counter)"
            intervalNote = "\(requested) s; wrap bound \(bound)"
        }
        // NVML's power readings are integrated, and the H100 notes (shared/data/hardware/nvml_notes.md) ask for 10 Hz
        // or faster; a slower rate is the user's choice, said out loud.
        if interval > 0.1, channels.contains(where: { $0.role == .total && $0.kind == .power && $0.key.hasPrefix("nvml:") }) {
            caveats = [String(format: "a GPU's energy comes from integrated power readings; at one reading every %g s, bursts shorter than that are missed (use --interval 0.1 or less)", interval)]
        } else {
            caveats = []
        }
        let keys = Dictionary(channels.enumerated().map { ($0.element.key, $0.offset) }, uniquingKeysWith: { a, _ in a })
        var mirrors: [Int: Int] = [:]
        for d in meters.decisions where d.kind == .mirrored {
            if let m = keys[d.subject], let p = d.counterpart.flatMap({ keys[$0] }) { mirrors[m] = p }
        }
        integrator = RunIntegrator(channels: channels.map(RunIntegrator.Channel.init), mirrors: mirrors)
        values = Array(repeating: nil, count: channels.count)
        present = Array(repeating: true, count: channels.count)
        wasRead = Array(repeating: false, count: channels.count)
    }

    public func start() {
        sinkIndex = sink?.register(channels) ?? Array(channels.indices)
        startNs = MonotonicClock.nowNs()
        lastFlushNs = startNs
        sink?.event(tNs: startNs, kind: "sampler_start",
                    payload: "{\"interval_s\":\(interval),\"integration\":\(integrator.rules.version),\"note\":\(JSONText.quote(intervalNote))}")
        // A counter that exists but cannot be read is part of the record: the run says what it could not measure.
        if !meters.blocked.isEmpty, let data = try? JSONText.encoder.encode(meters.blocked) {
            sink?.event(tNs: startNs, kind: "meters_blocked", payload: String(decoding: data, as: UTF8.self))
        }
        // So are the meters' decisions (mirrored zones, skipped entries), which the recomputation needs too.
        if !meters.decisions.isEmpty, let data = try? JSONText.encoder.encode(meters.decisions) {
            sink?.event(tNs: startNs, kind: "meter_decisions", payload: String(decoding: data, as: UTF8.self))
        }
        tick(force: true)
        let t = Thread { [unowned self] in self.loop() }
        t.name = "wattprint-sampler"
        t.qualityOfService = .userInitiated
        thread = t
        t.start()
    }

    /// Stops the thread after one last reading, flushes, and returns the sampler's own cost.
    @discardableResult
    public func stop() -> SamplerOverhead {
        lock.lock(); stopRequested = true; lock.unlock()
        if thread != nil { done.wait() }
        thread = nil
        tick(force: true)
        lock.lock()
        record(integrator.finish(), at: MonotonicClock.nowNs())
        lock.unlock()
        let overhead = SamplerOverhead(cpuSeconds: cpuSeconds, wallSeconds: Double(MonotonicClock.nowNs() - startNs) / 1e9,
                                       ticks: ticks, intervalSeconds: interval)
        sink?.event(tNs: MonotonicClock.nowNs(), kind: "sampler_overhead",
                    payload: String(format: "{\"cpu_s\":%.6f,\"wall_s\":%.6f,\"ticks\":%d,\"interval_s\":%g}",
                                    overhead.cpuSeconds, overhead.wallSeconds, overhead.ticks, overhead.intervalSeconds))
        flush()
        return overhead
    }

    /// Energy so far per channel (J), in `channels` order: each channel's own integration.
    public func energies() -> [ChannelEnergy] {
        lock.lock(); defer { lock.unlock() }
        return channels.indices.map { integrator.energy(of: $0) }
    }

    /// Energy each channel contributed to the total while it counted, J, in `channels` order.
    public func countedJoules() -> [Double] {
        lock.lock(); defer { lock.unlock() }
        return integrator.countedJoules
    }

    /// Every decision the integration rules made so far (channel indices in `channels` order).
    public func anomalies() -> [ReadingAnomaly] {
        lock.lock(); defer { lock.unlock() }
        return integrator.anomalies
    }

    /// Takes a reading now (used by measurement windows so a window's edges are exact).
    public func sampleNow() { tick(force: true) }

    /// Wakes for the next reading or the next flush, whichever comes first, so samples reach the ledger within
    /// `flushInterval` even when readings are further apart.
    private func loop() {
        let step = Int64(interval * 1e9), flushStep = Int64(flushInterval * 1e9)
        var next = MonotonicClock.nowNs() + step
        while true {
            lock.lock(); let stop = stopRequested; lock.unlock()
            if stop { break }
            MonotonicClock.sleep(untilNs: min(next, lastFlushNs + flushStep))
            var now = MonotonicClock.nowNs()
            if now >= next {
                tick(force: false)
                now = MonotonicClock.nowNs()
                next += step
                if now > next { next = now + step }
            }
            if now - lastFlushNs >= flushStep {
                lastFlushNs = now
                flush()
            }
        }
        done.signal()
    }

    private func tick(force: Bool) {
        let cpu0 = MonotonicClock.threadCPUSeconds()
        lock.lock()
        for i in values.indices { values[i] = nil }
        let t = MonotonicClock.nowNs()
        meters.read(into: &values, read: &wasRead, nowNs: t, force: force)
        for i in values.indices where wasRead[i] {
            // A non-finite reading (a driver's bad conversion) is a gap, never a row the ledger would refuse.
            if let v = values[i], v.isFinite {
                if !present[i] {
                    present[i] = true
                    integrator.markGap(i)
                    sink?.event(tNs: t, kind: "channel_resumed", payload: "{\"channel\":\(sinkIndex[i])}")
                }
                integrator.add(i, tNs: t, value: v)
                sink?.record(channel: sinkIndex[i], tNs: t, value: v)
            } else if present[i] && ticks > 0 {
                present[i] = false
                sink?.event(tNs: t, kind: "channel_gap", payload: "{\"channel\":\(sinkIndex[i]),\"key\":\(JSONText.quote(channels[i].key))}")
            }
        }
        record(integrator.finishTick(tNs: t), at: t)
        ticks += 1
        cpuSeconds += MonotonicClock.threadCPUSeconds() - cpu0
        lock.unlock()
    }

    /// Writes the integration rules' decisions as `anomaly` events, in the sink's channel numbering.
    private func record(_ anomalies: [ReadingAnomaly], at t: Int64) {
        guard let sink, !anomalies.isEmpty else { return }
        for a in anomalies {
            guard let data = try? JSONText.encoder.encode(a.renumbered { self.sinkIndex[$0] }) else { continue }
            sink.event(tNs: t, kind: "anomaly", payload: String(decoding: data, as: UTF8.self))
        }
    }

    private func flush() {
        let cpu0 = MonotonicClock.threadCPUSeconds()
        do { try sink?.flush() } catch {
            lock.lock(); flushErrors.append("\(error)"); lock.unlock()
        }
        lock.lock(); cpuSeconds += MonotonicClock.threadCPUSeconds() - cpu0; lock.unlock()
    }
}

enum JSONText {
    /// Event payloads are hashed as written: keys sorted, so the same event is the same bytes every time.
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }()

    static func quote(_ s: String) -> String {
        let data = try? JSONEncoder().encode(s)
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
}
