/// Waste a benchmark saw, and what removing it saves in J/token: measured when bench ran the alternative, predicted
/// (and labelled so) when it could not.
public struct EfficiencyFinding: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// The BLAS runs narrower vector kernels than the CPU has (e.g. AVX2 kernels on an AVX-512 CPU).
        case narrowBLASKernels
        /// Fewer compute threads than the CPUs the process may use.
        case fewerThreadsThanCores
        /// A batch size below where J/token stops falling.
        case batchBelowKnee
    }

    public enum Evidence: String, Codable, Sendable {
        /// The alternative was run under the meters in this benchmark.
        case measured
        /// Derived from what was measured, not run.
        case predicted
    }

    public var kind: Kind
    public var evidence: Evidence
    public var workload: String?
    public var phase: String?
    /// What was measured, and what the alternative gives (measured or predicted), J/token.
    public var joulesPerToken: Double?
    public var alternativeJoulesPerToken: Double?
    /// The ledger run that measured the alternative, where one did.
    public var alternativeRun: Int64?
    /// What the finding is and what to do, in words.
    public var detail: String
    /// Why a measured alternative does not confirm the finding (it saved nothing, or its windows were too short to
    /// tell); nil when it does, or for a prediction.
    public var inconclusive: String?

    public init(
        kind: Kind, evidence: Evidence, workload: String? = nil, phase: String? = nil, joulesPerToken: Double? = nil,
        alternativeJoulesPerToken: Double? = nil, alternativeRun: Int64? = nil, detail: String, inconclusive: String? = nil
    ) {
        self.inconclusive = inconclusive
        self.kind = kind; self.evidence = evidence; self.workload = workload; self.phase = phase; self.joulesPerToken = joulesPerToken
        self.alternativeJoulesPerToken = alternativeJoulesPerToken; self.alternativeRun = alternativeRun; self.detail = detail
    }

    /// current − alternative, J/token (positive: the alternative saves energy).
    public var savingJoulesPerToken: Double? {
        guard let a = joulesPerToken, let b = alternativeJoulesPerToken else { return nil }
        return a - b
    }

    /// One line: what, the saving with its evidence, and the fix.
    public var summary: String {
        var text = detail
        if let a = joulesPerToken, let b = alternativeJoulesPerToken, let s = savingJoulesPerToken {
            let where_ = [workload, phase].compactMap { $0 }.joined(separator: " ")
            text +=
                " — \(where_): \(sig(a)) → \(sig(b)) J/token, \(s >= 0 ? "saving" : "costing") \(sig(abs(s))) J/token (\(String(format: "%.0f", abs(s) / a * 100)) %), \(evidence.rawValue)"
            if let run = alternativeRun { text += " (run \(run))" }
            if let inconclusive { text += "; INCONCLUSIVE: \(inconclusive)" }
        } else {
            text += " (\(evidence.rawValue))"
        }
        return text
    }

    func sig(_ x: Double) -> String { String(format: "%.4g", x) }
}

/// Vector widths of OpenBLAS's x86 kernel families (its `kernel/x86_64/KERNEL.*` sets), by `openblas_get_corename`.
public enum BLASKernelWidth {
    public static let bits: [String: Int] = [
        "skylakex": 512, "cooperlake": 512, "sapphirerapids": 512,
        "haswell": 256, "zen": 256, "sandybridge": 256, "excavator": 256, "steamroller": 256, "piledriver": 256, "bulldozer": 256,
        "nehalem": 128, "core2": 128, "penryn": 128, "dunnington": 128, "prescott": 128, "atom": 128, "barcelona": 128, "opteron": 128,
        "katmai": 128, "coppermine": 128, "northwood": 128, "banias": 128, "nano": 128,
    ]

    /// The kernel family to ask OpenBLAS for (`OPENBLAS_CORETYPE`) to use a CPU's full width.
    public static func family(forCPUBits bits: Int) -> String? {
        switch bits {
        case 512: return "SkylakeX"
        case 256: return "Haswell"
        default: return nil
        }
    }
}
