import Foundation
import Measures

/// Integrates every channel of a run together, one tick of readings at a time, and decides what counts: the same
/// code runs live in the sampler and again when a run is recomputed from the ledger, so both reach the same
/// energies and the same decisions.
///
/// Each channel has its own `EnergyAccumulator` (readings judged one by one). Under integration rules version 3
/// the integrator then looks across channels after each tick:
/// - **Late reads.** A counted wrapping counter read later than its wrap bound is bridged by a wrap-free reading of
///   the same device taken at both ends of the interval (perf's 64-bit count, an hwmon energy counter such as
///   amd_energy's socket, whose device is named `cpu-package-N (amd_energy)`); otherwise the interval stays
///   unmeasured.
/// - **Stuck meters.** A counted measured channel of a CPU package, DRAM or GPU that has not moved for
///   `stuckWindow` (and `stuckReads` readings) while its device shows work (another reading of the device moved by
///   at least `evidenceWatts`, or, for CPU and DRAM, the host was busy at `busyEvidence` CPU-seconds per second) is
///   replaced by the next method of the device from the last time it moved; with no other method, its time since
///   then is unmeasured.
/// - **Mirrors.** A zone counted once as a mirror of another (`mirrors`) whose readings differ from it for
///   `divergenceReads` ticks in a row counts on its own from then.
///
/// Energy is counted per channel while the channel counts (`countedJoules`); a channel's own integration
/// (`energy(of:)`) is kept beside it for display and cross-checks.
public final class RunIntegrator {
    /// What the integrator needs to know of a channel.
    public struct Channel: Sendable, Equatable {
        public var key: String
        public var device: String
        public var deviceClass: DeviceClass
        public var kind: ChannelKind
        public var role: ChannelRole
        public var mode: MeasurementMode
        public var toSI: Double
        public var wrapRange: Double?
        public var maxWatts: Double

        public init(
            key: String, device: String, deviceClass: DeviceClass, kind: ChannelKind, role: ChannelRole,
            mode: MeasurementMode, toSI: Double, wrapRange: Double?, maxWatts: Double
        ) {
            self.key = key; self.device = device; self.deviceClass = deviceClass; self.kind = kind; self.role = role
            self.mode = mode; self.toSI = toSI; self.wrapRange = wrapRange; self.maxWatts = maxWatts
        }

        public init(_ c: MeterChannel) {
            self.init(
                key: c.key, device: c.device, deviceClass: c.deviceClass, kind: c.kind, role: c.role, mode: c.mode,
                toSI: c.toSI, wrapRange: c.wrapRange, maxWatts: c.maxWatts)
        }

        var isEnergy: Bool { kind == .energy || kind == .power || kind == .intervalPower }

        /// The device without the meter's note in parentheses: `cpu-package-0 (amd_energy)` is `cpu-package-0`, the
        /// package RAPL reads as well.
        var baseDevice: Substring {
            guard let paren = device.range(of: " (") else { return device[...] }
            return device[..<paren.lowerBound]
        }
    }

    /// How long a counted channel may stay still while its device works before it is judged stuck, seconds.
    /// NVML's counter steps every 100 ms and RAPL's every millisecond, so a second without a step is ten missed steps.
    public static let stuckWindow = 1.0
    /// Readings within `stuckWindow` needed before judging, so a slow sampling interval is never mistaken for a stall.
    public static let stuckReads = 3
    /// Mean power another reading of the device must show over the stall to count as evidence that it works, W.
    public static let evidenceWatts = 1.0
    /// Host busy CPU-seconds per second that make a still CPU or DRAM counter implausible: half a core.
    public static let busyEvidence = 0.5
    /// Ticks in a row a mirror must differ from its counted zone before it counts on its own (one differing tick
    /// can be the counter updating between two file reads).
    public static let divergenceReads = 3

    public let channels: [Channel]
    public let rules: IntegrationRules
    private var accumulators: [EnergyAccumulator]
    /// Whether each channel counts now.
    public private(set) var counts: [Bool]
    /// Energy each channel contributed while it counted, J.
    public private(set) var countedJoules: [Double]
    /// Every decision so far, in the order made; `channel` indexes `channels`.
    public private(set) var anomalies: [ReadingAnomaly] = []

    private struct Watch {
        var tNs: Int64
        var joules: Double
        var fallbackJoules: [Double]
        var busy: (tNs: Int64, value: Double)?
        var reads: Int
    }

    private let mirrorOf: [Int: Int]
    private var divergence: [Int: Int] = [:]
    private let fallbacks: [[Int]]
    /// Counted measured channels of a CPU package, DRAM or GPU: the ones judged for stalls.
    private let judged: [Bool]
    private var watches: [Watch?]
    /// Counted channels judged stuck with nothing to switch to: unmeasured from this time until they move.
    private var stuckSince: [Int: Int64] = [:]
    private var stuckUnmeasured: [Double]
    private let hostBusy: Int?
    private var tickAdded: [Double]
    private var tickRead: [Bool]
    private var tickPreviousNs: [Int64?]
    private var tickAnomalies: [ReadingAnomaly] = []
    private var tickTouched: [Int] = []

    /// - Parameters:
    ///   - mirrors: for each channel kept as a mirror, the channel it mirrors (see `PowercapDiscovery.mirrors`).
    ///   - rules: the integration rules; under versions 1 and 2 only the per-channel rules apply.
    public init(channels: [Channel], mirrors: [Int: Int] = [:], rules: IntegrationRules = .current) {
        self.channels = channels
        self.rules = rules
        accumulators = channels.map {
            EnergyAccumulator(kind: $0.kind, toSI: $0.toSI, wrapRange: $0.wrapRange, maxPlausibleWatts: $0.maxWatts, rules: rules)
        }
        counts = channels.map { $0.role == .total && $0.isEnergy }
        countedJoules = Array(repeating: 0, count: channels.count)
        stuckUnmeasured = countedJoules
        tickAdded = countedJoules
        tickRead = Array(repeating: false, count: channels.count)
        tickPreviousNs = Array(repeating: nil, count: channels.count)
        mirrorOf = rules.judgesReadings ? mirrors : [:]
        hostBusy = channels.firstIndex { $0.kind == .cpuTime && $0.deviceClass == .hostCPU }
        fallbacks = channels.indices.map { Self.fallbacks(of: $0, in: channels) }
        judged = channels.map {
            $0.role == .total && $0.mode == .measured && $0.isEnergy && [.cpuPackage, .dram, .gpu].contains($0.deviceClass)
        }
        watches = Array(repeating: nil, count: channels.count)
    }

    /// The other readings of a counted channel's device, best first: measured detail readings of the same device in
    /// meter order (NVML: POWER_INSTANT, then GetPowerUsage; RAPL: perf beside powercap), then, for the only counted
    /// CPU package or DRAM channel, the estimate of the host's CPU or memory.
    static func fallbacks(of i: Int, in channels: [Channel]) -> [Int] {
        let c = channels[i]
        guard c.role == .total, c.mode == .measured, c.isEnergy, [.cpuPackage, .dram, .gpu].contains(c.deviceClass) else { return [] }
        var result = channels.indices.filter { j in
            j != i && channels[j].baseDevice == c.baseDevice && channels[j].role == .detail && channels[j].mode == .measured
                && (channels[j].kind == .energy || channels[j].kind == .power)
        }
        let estimateClass: DeviceClass? = c.deviceClass == .cpuPackage ? .hostCPU : c.deviceClass == .dram ? .hostMemory : nil
        let peers = channels.filter { $0.role == .total && $0.mode == .measured && $0.isEnergy && $0.deviceClass == c.deviceClass }
        if let estimateClass, peers.count == 1,
            let estimate = channels.firstIndex(where: {
                $0.deviceClass == estimateClass && $0.kind == .intervalPower && $0.mode == .estimated
            })
        {
            result.append(estimate)
        }
        return result
    }

    /// The channel's own energy, with any time it was judged stuck and not replaced counted as unmeasured.
    public func energy(of i: Int) -> ChannelEnergy {
        var e = accumulators[i].energy
        e.unmeasuredSeconds += stuckUnmeasured[i]
        if let since = stuckSince[i], let last = e.lastNs { e.unmeasuredSeconds += Double(last - since) / 1e9 }
        return e
    }

    /// The latest reading of a channel as read.
    public func latest(of i: Int) -> (tNs: Int64, value: Double)? { accumulators[i].latest }

    /// Marks that channel `i`'s readings failed until its next one, which follows a gap.
    public func markGap(_ i: Int) { accumulators[i].resumeAfterGap() }

    /// Adds one reading of channel `i` taken at the tick `tNs`; returns the joules it added to the channel.
    @discardableResult
    public func add(_ i: Int, tNs: Int64, value: Double) -> Double {
        let before = accumulators[i].anomalies.count
        tickPreviousNs[i] = accumulators[i].lastAccepted?.tNs
        let added = accumulators[i].add(tNs: tNs, value: value)
        tickAdded[i] = added
        tickRead[i] = true
        tickTouched.append(i)
        if counts[i] { countedJoules[i] += added }
        let all = accumulators[i].anomalies
        if all.count > before {
            for var a in all[before...] { a.channel = i; tickAnomalies.append(a) }
        }
        return added
    }

    /// Ends the tick at `tNs` after its readings were added: applies the rules that look across channels and returns
    /// the decisions made in this tick (also kept in `anomalies`).
    @discardableResult
    public func finishTick(tNs: Int64) -> [ReadingAnomaly] {
        if rules.judgesReadings {
            bridgeLateReads()
            judgeMirrors(tNs: tNs)
            judgeStillCounters(tNs: tNs)
        }
        for i in tickTouched { tickRead[i] = false; tickAdded[i] = 0 }
        tickTouched.removeAll(keepingCapacity: true)
        guard !tickAnomalies.isEmpty else { return [] }
        let made = tickAnomalies
        anomalies += made
        tickAnomalies.removeAll(keepingCapacity: true)
        return made
    }

    /// The decisions left open when the readings end (a suspect reading no later one confirmed), also added to
    /// `anomalies`. Call once, after the last tick.
    @discardableResult
    public func finish() -> [ReadingAnomaly] {
        var made: [ReadingAnomaly] = []
        for i in channels.indices {
            for var a in accumulators[i].pendingAnomalies { a.channel = i; made.append(a) }
        }
        anomalies += made
        return made
    }

    /// Anomalies, finished or not, as a recomputation lists them: decided ones and those still open at the end.
    public var allAnomalies: [ReadingAnomaly] {
        anomalies
            + channels.indices.flatMap { i in
                accumulators[i].pendingAnomalies.map {
                    var a = $0; a.channel = i; return a
                }
            }
    }

    // MARK: Rules across channels

    private func bridgeLateReads() {
        for k in tickAnomalies.indices where tickAnomalies[k].kind == .lateRead {
            let i = tickAnomalies[k].channel
            guard let late = accumulators[i].lateInterval, counts[i] else { continue }
            let bridge = channels.indices.first { j in
                j != i && tickRead[j] && channels[j].baseDevice == channels[i].baseDevice && channels[j].kind == .energy
                    && channels[j].wrapRange == nil && channels[j].mode == .measured && tickPreviousNs[j] == late.fromNs
                    && accumulators[j].lastAccepted?.tNs == late.toNs
            }
            guard let j = bridge else { continue }
            countedJoules[i] += tickAdded[j]
            accumulators[i].bridgeLateInterval()
            tickAnomalies[k].bridgedBy = j
            tickAnomalies[k].reason += String(
                format: "; bridged by %@, which read %.6g J over the same interval", channels[j].key, tickAdded[j])
        }
    }

    private func judgeMirrors(tNs: Int64) {
        for (m, p) in mirrorOf.sorted(by: { $0.key < $1.key }) where !counts[m] && tickRead[m] && tickRead[p] {
            guard let a = accumulators[m].latest?.value, let b = accumulators[p].latest?.value else { continue }
            divergence[m] = a == b ? 0 : (divergence[m] ?? 0) + 1
            if divergence[m] == Self.divergenceReads {
                counts[m] = true
                tickAnomalies.append(
                    ReadingAnomaly(
                        kind: .mirrorDiverged, channel: m, tNs: tNs, value: a,
                        reason:
                            "read differently from \(channels[p].key) for \(Self.divergenceReads) readings in a row: a counter of its own, counted from here (energy before this may be under-counted)"
                    ))
            }
        }
    }

    private func judgeStillCounters(tNs: Int64) {
        for i in channels.indices where counts[i] && tickRead[i] && judged[i] {
            let joules = accumulators[i].energy.joules
            guard var watch = watches[i], joules <= watch.joules else {
                if let since = stuckSince.removeValue(forKey: i) { stuckUnmeasured[i] += Double(tNs - since) / 1e9 }
                watches[i] = Watch(
                    tNs: tNs, joules: joules, fallbackJoules: fallbacks[i].map { accumulators[$0].energy.joules },
                    busy: hostBusy.flatMap { accumulators[$0].latest }, reads: 0)
                continue
            }
            watch.reads += 1
            watches[i] = watch
            let elapsed = Double(tNs - watch.tNs) / 1e9
            guard stuckSince[i] == nil, elapsed >= Self.stuckWindow, watch.reads >= Self.stuckReads else { continue }
            let moved = zip(fallbacks[i], watch.fallbackJoules).map { accumulators[$0.0].energy.joules - $0.1 }
            let evidence = fallbacks[i].indices.first { k in
                channels[fallbacks[i][k]].mode == .measured && moved[k] >= Self.evidenceWatts * elapsed
            }
            var busyRate: Double?
            if let h = hostBusy, let then = watch.busy, let now = accumulators[h].latest, now.tNs > then.tNs {
                busyRate = (now.value - then.value) / (Double(now.tNs - then.tNs) / 1e9)
            }
            let busy = channels[i].deviceClass != .gpu && (busyRate ?? 0) >= Self.busyEvidence
            guard evidence != nil || busy else { continue }
            let target = evidence ?? fallbacks[i].indices.first { moved[$0] > 0 }
            let what = channels[i].kind == .power ? "read 0 W" : "did not advance"
            var why = String(format: "%@ for %.2f s (%d readings)", what, elapsed, watch.reads)
            if let e = evidence {
                why += String(format: " while %@ read %.1f W", channels[fallbacks[i][e]].key, moved[e] / elapsed)
            } else if let rate = busyRate {
                why += String(format: " while the host was busy (%.2f CPU-s per s)", rate)
            }
            if let k = target {
                let j = fallbacks[i][k]
                counts[i] = false
                counts[j] = true
                countedJoules[j] += moved[k]
                tickAnomalies.append(
                    ReadingAnomaly(
                        kind: .stuck, channel: i, tNs: watch.tNs, seconds: elapsed, switchedTo: j,
                        reason: why + "; \(channels[j].key) counts from the last time it moved"
                            + (channels[j].mode == .estimated ? " (ESTIMATED)" : "")))
            } else {
                stuckSince[i] = watch.tNs
                tickAnomalies.append(
                    ReadingAnomaly(
                        kind: .stuck, channel: i, tNs: watch.tNs, seconds: elapsed,
                        reason: why
                            + "; no other reading of the device moved, so its time from then is unmeasured, not counted as 0 J measured"))
            }
        }
    }
}
