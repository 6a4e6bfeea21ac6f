import Crypto
import Foundation

/// How a workload's energy per token is graded against the frozen reference workload measured alongside it.
///
/// A version is fixed: a change of bands, reference or rule is a new version, never a re-scaling of an old one, and a
/// run is graded on the version whose reference spec it recorded (`Comparison.build`). For each phase,
/// ratio = the workload's median J/token ÷ the reference's in the same benchmark run, so the grade does not depend on
/// the machine. Bands (both versions), ratio at most: A+ 0.5, A 0.7, B 0.9, C 1.1 (the reference itself), D 1.4, E 2.0,
/// F above. The reference is `small-gpt2` as `Workloads/small/gpt2.json` defined it when the version was made; its
/// spec's SHA-256 (canonical JSON with sorted keys) is `referenceSpecSHA256`:
/// - v1: 80 training steps, prefill of 16 prompts × 128 tokens and 128 new tokens, 40 rounds (its training and
///   prefill windows lasted 0.7–0.9 s on a 2-vCPU Zen 5, under the 1 s a window needs);
/// - v2: 200 training steps, prefill of 40 prompts × 128 tokens and 64 new tokens, 40 rounds.
public struct RatingScale: Sendable {
    public let version: Int
    public let referenceWorkload: String
    public let referenceSpecSHA256: String
    public let bands: [(grade: String, maximumRatio: Double)]

    static let standardBands: [(grade: String, maximumRatio: Double)] = [
        ("A+", 0.5), ("A", 0.7), ("B", 0.9), ("C", 1.1), ("D", 1.4), ("E", 2.0), ("F", .infinity),
    ]

    public static let v1 = RatingScale(
        version: 1, referenceWorkload: "small-gpt2",
        referenceSpecSHA256: "4b5f2b79654ab41a3b34234ea0f49b897202c078d011429b3b0c1f82c251a351", bands: standardBands)

    public static let v2 = RatingScale(
        version: 2, referenceWorkload: "small-gpt2",
        referenceSpecSHA256: "4139301e201dc6195653ce23a4a424a7f8e8b2022bcef1c925603723d0746682", bands: standardBands)

    /// Every version, newest first; the newest is the one `Workloads/small/gpt2.json` is the reference of.
    public static let versions: [RatingScale] = [v2, v1]
    public static var current: RatingScale { versions[0] }

    public func grade(ratio: Double) -> String? {
        guard ratio.isFinite, ratio > 0 else { return nil }
        return bands.first { ratio <= $0.maximumRatio }?.grade
    }

    /// SHA-256 of a spec as canonical JSON (sorted keys, no spaces).
    public static func specHash(_ spec: WorkloadSpec) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return SHA256.hash(data: try encoder.encode(spec)).map { String(format: "%02x", $0) }.joined()
    }
}
