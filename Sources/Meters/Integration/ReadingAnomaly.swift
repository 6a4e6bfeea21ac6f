/// A reading that was not counted as it stood, or a counted method that was replaced: what the integration rules
/// (version 3) decided and why. The sampler records each one as an `anomaly` event when it decides; a recomputation
/// from the raw samples reaches the same list, which `verify` compares.
public struct ReadingAnomaly: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// Outside the counter's range (above `max_energy_range_uj`, negative, not finite), or a power reading above
        /// the device's bound: a failed read.
        case outOfRange = "out-of-range"
        /// A counter step implying more power than the device can draw, followed by a reading that continued from
        /// the old value: the step was a glitch, and the counter bridged it.
        case glitch
        /// A counter drop followed by readings that continued from the new value: the counter restarted. The
        /// interval holding the restart is unmeasured.
        case reset
        /// A counter step the run ended on, with no later reading to say whether it was a glitch or a reset:
        /// not counted, and its interval unmeasured.
        case unresolved
        /// A wrapping counter read later than its wrap bound: how many wraps happened is unknowable. Bridged by a
        /// wrap-free reading of the same device when there is one (`bridgedBy`), else unmeasured.
        case lateRead = "late-read"
        /// A counted channel that did not move for `RunIntegrator.stuckWindow` while its device was busy; counting
        /// moved to `switchedTo` from the last time it moved, or its time since then is unmeasured.
        case stuck
        /// A zone counted once as a mirror of another whose readings then differed: counted on its own from then.
        case mirrorDiverged = "mirror-diverged"
    }

    public var kind: Kind
    /// The channel, as an index into the run's channels.
    public var channel: Int
    /// When the judged reading was taken (for `stuck`, the last time the channel moved: counting switched there).
    public var tNs: Int64
    /// The reading judged, in the channel's unit.
    public var value: Double?
    /// For `lateRead` and `reset`: the seconds that were not counted or had to be bridged.
    public var seconds: Double?
    /// For `stuck`: the channel that counts from `tNs` on.
    public var switchedTo: Int?
    /// For `lateRead`: the wrap-free channel whose reading bridged the interval.
    public var bridgedBy: Int?
    /// Why, in words.
    public var reason: String

    public init(
        kind: Kind, channel: Int, tNs: Int64, value: Double? = nil, seconds: Double? = nil, switchedTo: Int? = nil,
        bridgedBy: Int? = nil, reason: String
    ) {
        self.kind = kind; self.channel = channel; self.tNs = tNs; self.value = value; self.seconds = seconds
        self.switchedTo = switchedTo; self.bridgedBy = bridgedBy; self.reason = reason
    }

    /// The same anomaly for another numbering of the channels (the sampler's order → a sink's indices).
    public func renumbered(_ index: (Int) -> Int) -> ReadingAnomaly {
        var copy = self
        copy.channel = index(channel)
        copy.switchedTo = switchedTo.map(index)
        copy.bridgedBy = bridgedBy.map(index)
        return copy
    }
}
