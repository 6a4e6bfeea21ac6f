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

    public var seconds: Double {
        guard let a = firstNs, let b = lastNs else { return 0 }
        return Double(b - a) / 1e9
    }
    public var meanWatts: Double { seconds > 0 ? joules / seconds : 0 }
}

/// Turns a channel's successive raw readings into energy, exactly, one reading at a time.
///
/// Counters are accumulated as deltas. A counter that wraps at `wrapRange` takes values 0…wrapRange, so a
/// reading lower than the last one means it passed `wrapRange` once: delta = (wrapRange − last) + 1 unit + new.
/// This is exact as long as at most one wrap happens between two reads, which `Wraparound.maxSafeInterval`
/// guarantees for the sampler's interval. A drop whose wrap-corrected delta would imply more than the channel's
/// plausible maximum power is a reset (the counter restarted from 0): the delta is the new reading.
public struct EnergyAccumulator: Sendable {
    public let kind: ChannelKind
    public let toSI: Double
    public let wrapRange: Double?
    public let maxPlausibleWatts: Double
    public private(set) var energy = ChannelEnergy()
    private var last: (tNs: Int64, value: Double)?
    /// Counter units accumulated since the start, kept in the channel's own unit so integer counters stay exact.
    private var rawTotal: Double = 0

    public init(kind: ChannelKind, toSI: Double, wrapRange: Double?, maxPlausibleWatts: Double = Wraparound.defaultMaxPlausibleWatts) {
        self.kind = kind
        self.toSI = toSI
        self.wrapRange = wrapRange
        self.maxPlausibleWatts = maxPlausibleWatts
    }

    public init(channel: MeterChannel, maxPlausibleWatts: Double = Wraparound.defaultMaxPlausibleWatts) {
        self.init(kind: channel.kind, toSI: channel.toSI, wrapRange: channel.wrapRange, maxPlausibleWatts: maxPlausibleWatts)
    }

    /// Adds one reading; returns the energy (J) it added.
    @discardableResult
    public mutating func add(tNs: Int64, value: Double) -> Double {
        defer {
            last = (tNs, value)
            energy.samples += 1
            if energy.firstNs == nil { energy.firstNs = tNs }
            energy.lastNs = tNs
        }
        guard let last else { return 0 }
        let dt = Double(tNs - last.tNs) / 1e9
        let added: Double
        switch kind {
        case .energy:
            var delta = value - last.value
            if delta < 0 {
                // After a reset the counter restarted from 0, so the new reading is the energy since; unless even that
                // is implausible for the interval (a glitch, or a counter that restarted from another base): then 0.
                let sinceReset = (dt > 0 && value * toSI / dt > maxPlausibleWatts) ? 0 : value
                if let range = wrapRange {
                    let wrapped = (range - last.value) + 1 + value
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

    /// Integrates a whole series (ordered by time).
    public static func integrate(_ series: [(tNs: Int64, value: Double)], kind: ChannelKind, toSI: Double, wrapRange: Double?,
                                 maxPlausibleWatts: Double = Wraparound.defaultMaxPlausibleWatts) -> ChannelEnergy {
        var acc = EnergyAccumulator(kind: kind, toSI: toSI, wrapRange: wrapRange, maxPlausibleWatts: maxPlausibleWatts)
        for s in series { acc.add(tNs: s.tNs, value: s.value) }
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

    /// Longest interval (s) between reads of a counter that wraps after `rangeJoules` at `maxWatts`.
    public static func maxSafeInterval(rangeJoules: Double, maxWatts: Double = defaultMaxPlausibleWatts) -> Double {
        rangeJoules / maxWatts * safetyMargin
    }
}
