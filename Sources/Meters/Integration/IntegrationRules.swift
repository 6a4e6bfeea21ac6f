import Foundation

/// The rules that turn a channel's readings into energy, versioned: each run records the version it was sampled
/// under (in its `sampler_start` event), so `verify` recomputes an old run by the rules it was recorded with and a
/// later refinement never reads as tampering.
public struct IntegrationRules: Sendable, Equatable {
    public var version: Int
    /// How far a RAPL counter moves when it wraps past `wrapRange`: one energy unit (`wrapRange ÷ (2³² − 1)`), or
    /// 1 µJ (version 1).
    public var wrapStepIsOneUnit: Bool
    /// Whether a reading after a gap starts a new baseline unless a counter can bridge the gap (version 2), or is
    /// integrated across it like any other interval (version 1).
    public var handlesGaps: Bool
    /// Version 3: a reading outside its counter's range, or implying more power than the channel's device can draw
    /// (`MeterChannel.maxWatts`), is a failed read; a counter's drop is held until the next reading says whether it
    /// was a glitch or a reset; an interval longer than a wrapping counter's wrap bound is unmeasured unless a
    /// wrap-free reading of the same device bridges it; a counted channel that stops moving while its device is
    /// busy hands counting to the next method (see `RunIntegrator`).
    public var judgesReadings: Bool

    /// Version 1: wraps step 1 µJ; gaps are integrated across.
    public static let v1 = IntegrationRules(version: 1, wrapStepIsOneUnit: false, handlesGaps: false, judgesReadings: false)
    /// Version 2: wraps step one counter unit; a power reading's gap is unmeasured, a counter's bridged within its wrap bound.
    public static let v2 = IntegrationRules(version: 2, wrapStepIsOneUnit: true, handlesGaps: true, judgesReadings: false)
    /// Version 3: version 2, plus impossible readings, late reads, stuck meters and mirrored zones judged.
    public static let v3 = IntegrationRules(version: 3, wrapStepIsOneUnit: true, handlesGaps: true, judgesReadings: true)
    public static let current = v3
    public static let known = [v1, v2, v3]

    /// The rules a `sampler_start` payload names; a payload from before versioning (no `integration` key) means
    /// version 1, and no payload at all (a run written by another tool) the current rules. Nil for a version this
    /// build does not know (a newer wattprint's) or a payload that is not a JSON object: those are not guessed.
    public static func recorded(inSamplerStart payload: String?) -> IntegrationRules? {
        guard let payload else { return .current }
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else { return nil }
        guard let version = obj["integration"] else { return .v1 }
        return known.first { $0.version == version as? Int }
    }
}
