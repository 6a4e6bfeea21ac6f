import Foundation

/// Energy of one channel over a run, and what happened on the way.
public struct ChannelEnergy: Sendable, Codable, Equatable {
    public var joules: Double = 0
    /// Counter wraps crossed (at `wrapRange`).
    public var wraps: Int = 0
    /// Times the counter went backwards by more than a wrap can explain (driver reload, counter reset).
    public var resets: Int = 0
    public var samples: Int = 0
    public var firstNs: Int64?
    public var lastNs: Int64?
    /// Time spent in gaps that could not be bridged (a power reading missing, or a wrapping counter missing for
    /// longer than its wrap bound): no energy is counted for it.
    public var unmeasuredSeconds: Double = 0

    public var seconds: Double {
        guard let a = firstNs, let b = lastNs else { return 0 }
        return Double(b - a) / 1e9
    }
    /// Mean power over the time the channel was measured.
    public var meanWatts: Double { seconds - unmeasuredSeconds > 0 ? joules / (seconds - unmeasuredSeconds) : 0 }
}

/// Turns a channel's successive raw readings into energy, exactly, one reading at a time.
///
/// Counters are accumulated as deltas. A RAPL counter is a 32-bit count of energy units, shown in µJ, and
/// `max_energy_range_uj` is its largest value (2³² − 1 units), so a reading lower than the last one means it passed
/// `wrapRange` once and went one unit further to 0: delta = (wrapRange − last) + wrapRange ÷ (2³² − 1) + new.
/// This is exact as long as at most one wrap happens between two reads, which `Wraparound.maxSafeInterval`
/// guarantees for the sampler's interval. A drop whose wrap-corrected delta would imply more than the channel's
/// plausible maximum power is a reset (the counter restarted from 0): the delta is the new reading.
///
/// After a gap (reads failed for a while, `resumeAfterGap`), a counter still holds the energy drawn meanwhile, so
/// the gap is bridged when the counter cannot have wrapped twice in it (a 64-bit counter always). A power reading
/// says nothing about the gap: the gap's time is counted as unmeasured, never interpolated.
public struct EnergyAccumulator: Sendable {
    public let kind: ChannelKind
    public let toSI: Double
    public let wrapRange: Double?
    public let maxPlausibleWatts: Double
    public let rules: IntegrationRules
    public private(set) var energy = ChannelEnergy()
    private var last: (tNs: Int64, value: Double)?
    /// Counter units accumulated since the start, kept in the channel's own unit so integer counters stay exact.
    private var rawTotal: Double = 0
    private var afterGap = false

    public init(kind: ChannelKind, toSI: Double, wrapRange: Double?, maxPlausibleWatts: Double = Wraparound.defaultMaxPlausibleWatts,
                rules: IntegrationRules = .current) {
        self.kind = kind
        self.toSI = toSI
        self.wrapRange = wrapRange
        self.maxPlausibleWatts = maxPlausibleWatts
        self.rules = rules
    }

    public init(channel: MeterChannel, maxPlausibleWatts: Double = Wraparound.defaultMaxPlausibleWatts) {
        self.init(kind: channel.kind, toSI: channel.toSI, wrapRange: channel.wrapRange, maxPlausibleWatts: maxPlausibleWatts)
    }

    /// Marks that the readings before the next one failed: the next reading follows a gap.
    public mutating func resumeAfterGap() { afterGap = rules.handlesGaps }

    /// Adds one reading; returns the energy (J) it added.
    @discardableResult
    public mutating func add(tNs: Int64, value: Double) -> Double {
        let bridging = afterGap
        defer {
            last = (tNs, value)
            afterGap = false
            energy.samples += 1
            if energy.firstNs == nil { energy.firstNs = tNs }
            energy.lastNs = tNs
        }
        guard let last else { return 0 }
        let dt = Double(tNs - last.tNs) / 1e9
        if bridging && !canBridge(seconds: dt) {
            energy.unmeasuredSeconds += dt
            return 0
        }
        let added: Double
        switch kind {
        case .energy:
            var delta = value - last.value
            if delta < 0 {
                // After a reset the counter restarted from 0, so the new reading is the energy since; unless even that
                // is implausible for the interval (a glitch, or a counter that restarted from another base): then 0.
                let sinceReset = (dt > 0 && value * toSI / dt > maxPlausibleWatts) ? 0 : value
                if let range = wrapRange {
                    let step = rules.wrapStepIsOneUnit ? range / Wraparound.counterMaximum : 1
                    let wrapped = (range - last.value) + step + value
                    if dt > 0, wrapped * toSI / dt > maxPlausibleWatts {
                        delta = sinceReset
                        energy.resets += 1
                    } else {
                        delta = wrapped
                        energy.wraps += 1
                    }
                } else {
                    delta = sinceReset
                    energy.resets += 1
                }
            }
            rawTotal += delta
            energy.joules = rawTotal * toSI
            return delta * toSI
        case .power:
            added = (value + last.value) / 2 * dt * toSI
        case .intervalPower:
            added = value * dt * toSI
        case .cpuTime, .context:
            return 0
        }
        rawTotal += added
        energy.joules = rawTotal
        return added
    }

    private func canBridge(seconds: Double) -> Bool {
        switch kind {
        case .energy:
            guard let range = wrapRange else { return true }
            return seconds <= Wraparound.maxSafeInterval(rangeJoules: range * toSI, maxWatts: maxPlausibleWatts)
        case .cpuTime, .context: return true
        case .power, .intervalPower: return false
        }
    }

    /// Integrates a whole series (ordered by time); `resumptions` are the times of readings that followed a gap.
    public static func integrate(_ series: [(tNs: Int64, value: Double)], kind: ChannelKind, toSI: Double, wrapRange: Double?,
                                 resumptions: Set<Int64> = [], rules: IntegrationRules = .current,
                                 maxPlausibleWatts: Double = Wraparound.defaultMaxPlausibleWatts) -> ChannelEnergy {
        var acc = EnergyAccumulator(kind: kind, toSI: toSI, wrapRange: wrapRange, maxPlausibleWatts: maxPlausibleWatts, rules: rules)
        for s in series {
            if resumptions.contains(s.tNs) { acc.resumeAfterGap() }
            acc.add(tNs: s.tNs, value: s.value)
        }
        return acc.energy
    }
}

/// The rule that keeps wrap handling exact: sample often enough that a counter cannot wrap twice between reads.
public enum Wraparound {
    /// Highest power we consider plausible for one RAPL domain or GPU; above any shipping CPU package's
    /// limit (AMD EPYC 9965: 500 W TDP) and GPU (B200: 1000 W), with margin.
    public static let defaultMaxPlausibleWatts = 1500.0
    /// Fraction of the time-to-wrap we allow between reads, so a late wake-up cannot miss a wrap.
    public static let safetyMargin = 0.5
    /// Largest raw value of a RAPL energy counter (`ENERGY_STATUS_MASK` in the kernel's intel_rapl driver): the
    /// counter steps from here to 0, one energy unit on.
    public static let counterMaximum = Double(UInt32.max)

    /// Longest interval (s) between reads of a counter that wraps after `rangeJoules` at `maxWatts`.
    public static func maxSafeInterval(rangeJoules: Double, maxWatts: Double = defaultMaxPlausibleWatts) -> Double {
        rangeJoules / maxWatts * safetyMargin
    }
}
