import Foundation
import Measures

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
/// guarantees for the sampler's interval.
///
/// Under integration rules version 3 every reading is judged against the channel's device bound
/// (`maxPlausibleWatts`, see `PowerBound`):
/// - a reading outside the counter's range, or a power reading above the bound, is a failed read (`outOfRange`):
///   a counter bridges it, a power reading leaves its interval unmeasured;
/// - a counter step implying more than the bound (a drop no single wrap explains, or a jump) is held as a suspect
///   until the next reading: if that one continues from the old value the suspect was a `glitch` and the counter
///   bridges it; if it continues from the suspect, either the reading before the suspect was the stray one (the
///   suspect continues from the one before that: it is taken back, a `glitch`, and `add` returns a negative
///   correction with the new energy) or the counter restarted (`reset`) and the interval holding the restart is
///   unmeasured. A restart is believed at once when the suspect is no more than the device could have drawn since
///   the last good reading (a counter restarted from zero), else only after `resetConfirmations` readings in a row
///   continue from it (a counter that came back at another base); a run that ends on suspects leaves them
///   `unresolved`;
/// - an interval of a wrapping counter longer than its wrap bound (`wrapRange` at the bound's power) may hide any
///   number of wraps: unmeasured (`lateInterval` tells the caller, who may bridge it with a wrap-free reading).
///
/// Versions 1 and 2 (recorded runs) keep their rules: a drop too large for a wrap is a reset whose new reading is
/// the energy since, and gaps are bridged by counters within the sampling bound.
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
    private var committed = ChannelEnergy()
    private var last: (tNs: Int64, value: Double)?
    /// Counter units accumulated since the start, kept in the channel's own unit so integer counters stay exact.
    private var rawTotal: Double = 0
    private var afterGap = false
    /// Counter readings that could not follow `last`, each following the one before, held until a later reading says
    /// what they were (version 3).
    private var suspects: [(tNs: Int64, value: Double)] = []
    /// Time of the first reading when it was not accepted (version 3): the time until the first accepted one is unmeasured.
    private var rejectedHeadNs: Int64?
    /// The accepted reading before `last` and what accepting `last` added (raw units, whether it wrapped), so a
    /// `last` that later readings show to have been the stray one can be taken back (version 3).
    private var previous: (tNs: Int64, value: Double)?
    private var lastStep: (delta: Double, wrapped: Bool) = (0, false)
    /// Time of the latest reading when it was not accepted (version 3): the run's tail after `last` is unmeasured.
    private var rejectedTailNs: Int64?
    /// What the rules decided about readings so far, in order; `channel` is -1 (the caller knows the channel).
    public private(set) var anomalies: [ReadingAnomaly] = []
    /// Set by the latest `add` when the interval it closed was longer than the wrap bound (version 3).
    public private(set) var lateInterval: (fromNs: Int64, toNs: Int64)?
    /// The latest reading as read, accepted or not, and the latest accepted one.
    public private(set) var latest: (tNs: Int64, value: Double)?
    public var lastAccepted: (tNs: Int64, value: Double)? { last }

    /// A counter step may lag its true time by up to one update of the counter (NVML's steps every 100 ms, RAPL's
    /// about every 1 ms: shared/data/hardware/nvml_notes.md), so steps are judged against the bound over dt + this.
    public static let counterUpdateSlack = 0.25

    public init(
        kind: ChannelKind, toSI: Double, wrapRange: Double?, maxPlausibleWatts: Double = Wraparound.defaultMaxPlausibleWatts,
        rules: IntegrationRules = .current
    ) {
        self.kind = kind
        self.toSI = toSI
        self.wrapRange = wrapRange
        self.maxPlausibleWatts = maxPlausibleWatts
        self.rules = rules
    }

    public init(channel: MeterChannel, rules: IntegrationRules = .current) {
        self.init(kind: channel.kind, toSI: channel.toSI, wrapRange: channel.wrapRange, maxPlausibleWatts: channel.maxWatts, rules: rules)
    }

    /// The energy so far. A run that ends on readings that were not accepted leaves the time since the last accepted
    /// one unmeasured.
    public var energy: ChannelEnergy {
        var e = committed
        if let tail = rejectedTailNs, let last { e.unmeasuredSeconds += Double(tail - last.tNs) / 1e9 }
        if last == nil, let head = rejectedHeadNs, let end = e.lastNs { e.unmeasuredSeconds += Double(end - head) / 1e9 }
        return e
    }

    /// The suspect readings the series ended on, as `unresolved` anomalies (empty when none).
    public var pendingAnomalies: [ReadingAnomaly] {
        guard let last else { return [] }
        return suspects.map {
            ReadingAnomaly(
                kind: .unresolved, channel: -1, tNs: $0.tNs, value: $0.value, seconds: Double($0.tNs - last.tNs) / 1e9,
                reason: "the run ended before later readings could show whether this step was a glitch or a reset")
        }
    }

    /// Readings in a row that must continue from a suspect before a counter that came back at a value it could not
    /// have reached from zero is believed to have restarted there.
    public static let resetConfirmations = 3

    /// The highest value a counter without a wrap range can hold: what its device could draw at its bound in 10⁹ s
    /// (31.7 years without pause). No counter started at boot or at a driver's load gets there, so a reading above it
    /// is outside the counter's range.
    public var ceiling: Double { wrapRange ?? maxPlausibleWatts * Self.counterLifetimeSeconds / toSI }
    public static let counterLifetimeSeconds = 1e9

    /// The longest interval between reads of this counter that cannot hide two wraps, seconds (nil: it never wraps).
    public var wrapBoundSeconds: Double? { wrapRange.map { $0 * toSI / maxPlausibleWatts } }

    /// Marks that the readings before the next one failed: the next reading follows a gap.
    public mutating func resumeAfterGap() { afterGap = rules.handlesGaps }

    /// Takes back the unmeasured time of the latest late interval, which the caller bridged with another reading.
    public mutating func bridgeLateInterval() {
        guard let late = lateInterval else { return }
        committed.unmeasuredSeconds -= Double(late.toNs - late.fromNs) / 1e9
        lateInterval = nil
    }

    /// Adds one reading; returns the energy (J) it added.
    @discardableResult
    public mutating func add(tNs: Int64, value: Double) -> Double {
        latest = (tNs, value)
        committed.samples += 1
        if committed.firstNs == nil { committed.firstNs = tNs }
        committed.lastNs = tNs
        if rules.judgesReadings { return judgedAdd(tNs: tNs, value: value) }
        return legacyAdd(tNs: tNs, value: value)
    }

    // MARK: Version 3

    private enum Step { case counted(delta: Double, wrapped: Bool), late, implausible }

    /// How a counter moved from one reading to another: a plausible delta (raw units), too late to know, or impossible.
    private func step(from a: (tNs: Int64, value: Double), to b: (tNs: Int64, value: Double)) -> Step {
        let dt = Double(b.tNs - a.tNs) / 1e9
        if let bound = wrapBoundSeconds, dt > bound { return .late }
        let allowed = maxPlausibleWatts * (max(dt, 0) + Self.counterUpdateSlack)
        if b.value >= a.value {
            return (b.value - a.value) * toSI <= allowed ? .counted(delta: b.value - a.value, wrapped: false) : .implausible
        }
        guard let range = wrapRange else { return .implausible }
        let wrapped = (range - a.value) + range / Wraparound.counterMaximum + b.value
        return wrapped * toSI <= allowed ? .counted(delta: wrapped, wrapped: true) : .implausible
    }

    private mutating func note(
        _ kind: ReadingAnomaly.Kind, _ reading: (tNs: Int64, value: Double), seconds: Double? = nil, _ reason: String
    ) {
        anomalies.append(ReadingAnomaly(kind: kind, channel: -1, tNs: reading.tNs, value: reading.value, seconds: seconds, reason: reason))
    }

    private mutating func accept(_ reading: (tNs: Int64, value: Double), delta: Double, wrapped: Bool) -> Double {
        if wrapped { committed.wraps += 1 }
        rawTotal += delta
        committed.joules = rawTotal * toSI
        previous = last
        lastStep = (delta, wrapped)
        last = reading
        rejectedTailNs = nil
        return delta * toSI
    }

    /// A new baseline that no earlier reading may be compared with (the first reading, after a late read or a reset).
    private mutating func rebase(_ reading: (tNs: Int64, value: Double)) {
        if last == nil, let head = rejectedHeadNs { committed.unmeasuredSeconds += Double(reading.tNs - head) / 1e9 }
        rejectedHeadNs = nil
        previous = nil
        lastStep = (0, false)
        last = reading
        rejectedTailNs = nil
    }

    /// Takes back the latest accepted reading; returns the joules removed (negative).
    private mutating func takeBackLast() -> Double {
        if lastStep.wrapped { committed.wraps -= 1 }
        rawTotal -= lastStep.delta
        committed.joules = rawTotal * toSI
        let removed = -lastStep.delta * toSI
        last = previous
        previous = nil
        lastStep = (0, false)
        return removed
    }

    private mutating func judgedAdd(tNs: Int64, value: Double) -> Double {
        lateInterval = nil
        let reading = (tNs: tNs, value: value)
        switch kind {
        case .cpuTime, .context:
            return 0
        case .power, .intervalPower:
            guard value.isFinite, value >= 0, value * toSI <= maxPlausibleWatts else {
                note(.outOfRange, reading, "a power reading outside 0…\(Int(maxPlausibleWatts)) W, the device's bound: a failed read")
                if last != nil { rejectedTailNs = tNs } else if rejectedHeadNs == nil { rejectedHeadNs = tNs }
                afterGap = true
                return 0
            }
            if last == nil, let head = rejectedHeadNs {
                committed.unmeasuredSeconds += Double(tNs - head) / 1e9
                rejectedHeadNs = nil
                afterGap = false
            }
            return legacyAdd(tNs: tNs, value: value)
        case .energy:
            break
        }
        guard value.isFinite, value >= 0, value <= ceiling else {
            note(
                .outOfRange, reading,
                String(
                    format: "outside the counter's range 0…%.0f%@: a failed read, bridged by the next reading", ceiling,
                    wrapRange == nil ? " (its device's bound for 10⁹ s)" : ""))
            if last != nil { rejectedTailNs = tNs } else if rejectedHeadNs == nil { rejectedHeadNs = tNs }
            return 0
        }
        afterGap = false
        guard let base = last else {
            rebase(reading)
            return 0
        }
        if suspects.isEmpty {
            switch step(from: base, to: reading) {
            case let .counted(delta, wrapped): return accept(reading, delta: delta, wrapped: wrapped)
            case .late: return lateRead(from: base, to: reading)
            case .implausible:
                suspects = [reading]
                rejectedTailNs = tNs
                return 0
            }
        }
        let held = suspects
        switch step(from: base, to: reading) {
        case let .counted(delta, wrapped):
            suspects = []
            for h in held {
                note(
                    .glitch, h,
                    "a step to this value implied over \(Int(maxPlausibleWatts)) W and a later reading continued from the one before: a glitch, bridged"
                )
            }
            return accept(reading, delta: delta, wrapped: wrapped)
        case .late:
            suspects = []
            for h in held { note(.unresolved, h, "the next reading came too late to show whether this step was a glitch or a reset") }
            return lateRead(from: base, to: reading)
        case .implausible:
            guard case let .counted(delta, wrapped) = step(from: held[held.count - 1], to: reading) else {
                // The reading follows neither the baseline nor the suspects: they were strays; it is the new suspect.
                for h in held {
                    note(
                        .glitch, h,
                        "a step to this value implied over \(Int(maxPlausibleWatts)) W and no later reading continued from it: a glitch")
                }
                suspects = [reading]
                rejectedTailNs = tNs
                return 0
            }
            let first = held[0]
            if held.count == 1, let before = previous, case let .counted(firstDelta, firstWrapped) = step(from: before, to: first) {
                // The suspect continues from the reading before `base`: `base` was the stray one (a low glitch that
                // looked like a wrap, say). Take it back.
                suspects = []
                note(.glitch, base, "the readings after this one continued from the one before it: a glitch, taken back")
                let undone = takeBackLast()
                return undone + accept(first, delta: firstDelta, wrapped: firstWrapped) + accept(reading, delta: delta, wrapped: wrapped)
            }
            let sinceBase = Double(first.tNs - base.tNs) / 1e9
            let fromZero = first.value * toSI <= maxPlausibleWatts * (sinceBase + Self.counterUpdateSlack)
            guard fromZero || held.count + 1 >= Self.resetConfirmations else {
                suspects.append(reading)
                rejectedTailNs = tNs
                return 0
            }
            suspects = []
            note(
                .reset, first, seconds: sinceBase,
                fromZero
                    ? "the counter restarted from zero: the following readings continue from this value; the interval holding the restart is unmeasured"
                    : "the counter came back at another value and \(held.count) reading(s) continued from it: a restart; the interval holding it is unmeasured"
            )
            committed.resets += 1
            committed.unmeasuredSeconds += sinceBase
            rebase(first)
            // The held readings each followed the one before (checked as they came); the new one follows the last.
            var added = 0.0
            for (a, b) in zip(held, held.dropFirst()) {
                if case let .counted(d, w) = step(from: a, to: b) { added += accept(b, delta: d, wrapped: w) }
            }
            return added + accept(reading, delta: delta, wrapped: wrapped)
        }
    }

    /// An interval longer than the wrap bound: unmeasured, and the reading is the new baseline.
    private mutating func lateRead(from base: (tNs: Int64, value: Double), to reading: (tNs: Int64, value: Double)) -> Double {
        let seconds = Double(reading.tNs - base.tNs) / 1e9
        committed.unmeasuredSeconds += seconds
        lateInterval = (base.tNs, reading.tNs)
        note(
            .lateRead, reading, seconds: seconds,
            String(
                format:
                    "read %.3g s after the previous reading, beyond the %.3g s in which this counter can wrap at most once: how many wraps happened is unknowable",
                seconds, wrapBoundSeconds ?? 0))
        rebase(reading)
        return 0
    }

    // MARK: Versions 1 and 2

    private mutating func legacyAdd(tNs: Int64, value: Double) -> Double {
        let bridging = afterGap
        defer {
            last = (tNs, value)
            afterGap = false
            rejectedTailNs = nil
        }
        guard let last else { return 0 }
        let dt = Double(tNs - last.tNs) / 1e9
        if bridging && !canBridge(seconds: dt) {
            committed.unmeasuredSeconds += dt
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
                        committed.resets += 1
                    } else {
                        delta = wrapped
                        committed.wraps += 1
                    }
                } else {
                    delta = sinceReset
                    committed.resets += 1
                }
            }
            rawTotal += delta
            committed.joules = rawTotal * toSI
            return delta * toSI
        case .power:
            added = (value + last.value) / 2 * dt * toSI
        case .intervalPower:
            added = value * dt * toSI
        case .cpuTime, .context:
            return 0
        }
        rawTotal += added
        committed.joules = rawTotal
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
    public static func integrate(
        _ series: [(tNs: Int64, value: Double)], kind: ChannelKind, toSI: Double, wrapRange: Double?,
        resumptions: Set<Int64> = [], rules: IntegrationRules = .current,
        maxPlausibleWatts: Double = Wraparound.defaultMaxPlausibleWatts
    ) -> ChannelEnergy {
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
