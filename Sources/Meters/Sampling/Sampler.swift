import Foundation
import Measures

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

/// Reads every meter on a background thread at a fixed interval, integrates each channel exactly as it goes
/// (`RunIntegrator`), and hands raw readings, each interval's energy and its events to its sinks, in batches.
///
/// The interval is bounded by the wrap rule: never longer than `MeterSet.maxSafeInterval`, so a counter cannot wrap
/// twice between reads. Time comes from a `SamplerClock`: the monotonic clock, or a manual one in tests.
public final class Sampler: @unchecked Sendable {
    public let meters: MeterSet
    public let interval: Double
    public let flushInterval: Double
    /// Why the interval is what it is (requested, or shortened by the wrap rule).
    public let intervalNote: String
    /// What the chosen interval costs in accuracy, for the user to see before the run.
    public let caveats: [String]
    public let channels: [MeterChannel]
    public let clock: SamplerClock
    private let sinks: [SampleSink]
    private let lock = NSLock()
    private let integrator: RunIntegrator
    /// Each sink's index for each channel.
    private var sinkIndex: [[Int]] = []
    private var values: [Double?]
    private var present: [Bool]
    private var wasRead: [Bool]
    private var previousReadNs: [Int64?]
    private var countedBefore: [Double]
    private var addedJoules: [Double?]
    private let isEnergy: [Bool]
    private var thread: Thread?
    private var stopRequested = false
    private let done = DispatchSemaphore(value: 0)
    private var startNs: Int64 = 0
    private var cpuSeconds = 0.0
    private var ticks = 0
    private var lastFlushNs: Int64 = 0
    public private(set) var flushErrors: [String] = []

    /// - Parameters:
    ///   - interval: seconds between readings requested; shortened when a counter could wrap twice in it.
    ///   - flushInterval: longest time a reading waits before the sinks commit it, seconds.
    ///   - sinks: where readings, energy and events go, in order.
    public init(
        meters: MeterSet, interval requested: Double = 0.1, flushInterval: Double = 2, sinks: [SampleSink],
        clock: SamplerClock = SystemClock()
    ) {
        self.meters = meters
        self.sinks = sinks
        self.clock = clock
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
            caveats = [
                String(
                    format:
                        "a GPU's energy comes from integrated power readings; at one reading every %g s, bursts shorter than that are missed (use --interval 0.1 or less)",
                    interval)
            ]
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
        previousReadNs = Array(repeating: nil, count: channels.count)
        countedBefore = Array(repeating: 0, count: channels.count)
        addedJoules = Array(repeating: nil, count: channels.count)
        isEnergy = channels.map { $0.kind != .cpuTime && $0.kind != .context }
    }

    /// One sink, or none.
    public convenience init(
        meters: MeterSet, interval requested: Double = 0.1, flushInterval: Double = 2, sink: SampleSink?,
        clock: SamplerClock = SystemClock()
    ) {
        self.init(meters: meters, interval: requested, flushInterval: flushInterval, sinks: sink.map { [$0] } ?? [], clock: clock)
    }

    public func start() {
        sinkIndex = sinks.map { $0.register(channels) }
        startNs = clock.nowNs()
        lastFlushNs = startNs
        emit(.started(SamplerStart(intervalSeconds: interval, integration: integrator.rules.version, note: intervalNote)), at: startNs)
        // A counter that exists but cannot be read is part of the record: the run says what it could not measure.
        if !meters.blocked.isEmpty { emit(.metersBlocked(meters.blocked), at: startNs) }
        // So are the meters' decisions (mirrored zones, skipped entries), which the recomputation needs too.
        if !meters.decisions.isEmpty { emit(.meterDecisions(meters.decisions), at: startNs) }
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
        clock.wake()
        if thread != nil { done.wait() }
        thread = nil
        tick(force: true)
        lock.lock()
        let now = clock.nowNs()
        for a in integrator.finish() { emitAnomaly(a, at: now) }
        lock.unlock()
        let overhead = SamplerOverhead(
            cpuSeconds: cpuSeconds, wallSeconds: Double(clock.nowNs() - startNs) / 1e9,
            ticks: ticks, intervalSeconds: interval)
        emit(.overhead(overhead), at: clock.nowNs())
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

    /// The sampler's cost so far (its thread's CPU time over the time since `start`), while it runs.
    public func overheadSoFar() -> SamplerOverhead {
        lock.lock(); defer { lock.unlock() }
        return SamplerOverhead(
            cpuSeconds: cpuSeconds, wallSeconds: Double(clock.nowNs() - startNs) / 1e9, ticks: ticks, intervalSeconds: interval)
    }

    /// Readings taken so far, the forced ones at start and stop included.
    public var readings: Int { lock.lock(); defer { lock.unlock() }; return ticks }

    /// Takes a reading now (used by measurement windows so a window's edges are exact) and returns its time.
    @discardableResult
    public func sampleNow() -> Int64 { tick(force: true) }

    /// Wakes for the next reading or the next flush, whichever comes first, so samples reach the sinks within
    /// `flushInterval` even when readings are further apart.
    private func loop() {
        let step = Int64(interval * 1e9), flushStep = Int64(flushInterval * 1e9)
        var next = clock.nowNs() + step
        while true {
            lock.lock(); let stop = stopRequested; lock.unlock()
            if stop { break }
            clock.sleep(untilNs: min(next, lastFlushNs + flushStep))
            lock.lock(); let stopping = stopRequested; lock.unlock()
            if stopping { break }
            var now = clock.nowNs()
            if now >= next {
                tick(force: false)
                now = clock.nowNs()
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

    @discardableResult
    private func tick(force: Bool) -> Int64 {
        let cpu0 = MonotonicClock.threadCPUSeconds()
        lock.lock()
        for i in values.indices { values[i] = nil }
        let t = clock.nowNs()
        meters.read(into: &values, read: &wasRead, nowNs: t, force: force)
        for i in channels.indices {
            countedBefore[i] = integrator.countedJoules[i]
            addedJoules[i] = nil
        }
        for i in values.indices where wasRead[i] {
            // A non-finite reading (a driver's bad conversion) is a gap, never a row the ledger would refuse.
            if let v = values[i], v.isFinite {
                if !present[i] {
                    present[i] = true
                    integrator.markGap(i)
                    for (s, sink) in sinks.enumerated() { sink.event(tNs: t, .channelResumed(channel: sinkIndex[s][i])) }
                }
                addedJoules[i] = integrator.add(i, tNs: t, value: v)
                for (s, sink) in sinks.enumerated() { sink.record(channel: sinkIndex[s][i], tNs: t, value: v) }
            } else {
                wasRead[i] = false
                if present[i] && ticks > 0 {
                    present[i] = false
                    for (s, sink) in sinks.enumerated() { sink.event(tNs: t, .channelGap(channel: sinkIndex[s][i], key: channels[i].key)) }
                }
            }
        }
        for a in integrator.finishTick(tNs: t) { emitAnomaly(a, at: t) }
        for i in channels.indices where isEnergy[i] {
            let counted = integrator.countedJoules[i] - countedBefore[i]
            guard let from = previousReadNs[i], addedJoules[i] != nil || counted != 0 else { continue }
            for (s, sink) in sinks.enumerated() {
                sink.energy(channel: sinkIndex[s][i], fromNs: from, toNs: t, joules: addedJoules[i] ?? 0, counted: counted)
            }
        }
        for i in channels.indices where wasRead[i] { previousReadNs[i] = t }
        for sink in sinks { sink.tickFinished(tNs: t) }
        ticks += 1
        cpuSeconds += MonotonicClock.threadCPUSeconds() - cpu0
        lock.unlock()
        return t
    }

    private func emit(_ event: SamplerEvent, at t: Int64) {
        for sink in sinks { sink.event(tNs: t, event) }
    }

    /// An integration decision, in each sink's channel numbering.
    private func emitAnomaly(_ a: ReadingAnomaly, at t: Int64) {
        for (s, sink) in sinks.enumerated() { sink.event(tNs: t, .anomaly(a.renumbered { self.sinkIndex[s][$0] })) }
    }

    private func flush() {
        let cpu0 = MonotonicClock.threadCPUSeconds()
        for sink in sinks {
            do { try sink.flush() } catch {
                lock.lock(); flushErrors.append("\(error)"); lock.unlock()
            }
        }
        lock.lock(); cpuSeconds += MonotonicClock.threadCPUSeconds() - cpu0; lock.unlock()
    }
}
