import Crypto
import Foundation

/// How a workload's energy per token is graded against the frozen reference workload measured alongside it.
///
/// Version 1 (fixed; a change of bands, reference or rule is a new version, never a re-scaling of this one): the
/// reference is `small-gpt2` as `Workloads/small/gpt2.json` defines it at schema 1 (its spec's SHA-256, canonical JSON
/// with sorted keys, is `referenceSpecSHA256`). For each phase, ratio = the workload's median J/token ÷ the reference's
/// in the same benchmark run, so the grade does not depend on the machine. Bands, ratio at most: A+ 0.5, A 0.7,
/// B 0.9, C 1.1 (the reference itself), D 1.4, E 2.0, F above.
public struct RatingScale: Sendable {
    public let version: Int
    public let referenceWorkload: String
    public let referenceSpecSHA256: String
    public let bands: [(grade: String, maximumRatio: Double)]

    public static let v1 = RatingScale(
        version: 1, referenceWorkload: "small-gpt2",
        referenceSpecSHA256: "4b5f2b79654ab41a3b34234ea0f49b897202c078d011429b3b0c1f82c251a351",
        bands: [("A+", 0.5), ("A", 0.7), ("B", 0.9), ("C", 1.1), ("D", 1.4), ("E", 2.0), ("F", .infinity)])

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
