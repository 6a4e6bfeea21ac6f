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

    /// Version 1: wraps step 1 µJ; gaps are integrated across.
    public static let v1 = IntegrationRules(version: 1, wrapStepIsOneUnit: false, handlesGaps: false)
    /// Version 2: wraps step one counter unit; a power reading's gap is unmeasured, a counter's bridged within its wrap bound.
    public static let v2 = IntegrationRules(version: 2, wrapStepIsOneUnit: true, handlesGaps: true)
    public static let current = v2

    /// The rules a `sampler_start` payload names; a payload from before versioning (no `integration` key) means
    /// version 1, and no payload at all (a run written by another tool) the current rules. Nil for a version this
    /// build does not know (a newer wattprint's) or a payload that is not a JSON object: those are not guessed.
    public static func recorded(inSamplerStart payload: String?) -> IntegrationRules? {
        guard let payload else { return .current }
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else { return nil }
        guard let version = obj["integration"] else { return .v1 }
        return [v1, v2].first { $0.version == version as? Int }
    }
}
