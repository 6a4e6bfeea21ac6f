import Accounting
import Measures

/// Finds waste in a benchmark's figures and, where it can, measures the alternative: it asks `runAlternative` to run
/// the first workload with a training phase once more, changed (another BLAS kernel family, every core), under the
/// meters, and compares J/token. Without a training phase or an alternative runner, the finding is predicted.
public enum EfficiencyProbe {
    /// A change to try and the benchmark run that measured it.
    public struct Alternative: Sendable {
        /// Environment variables to set (nil value: unset) and the thread count, for a one-repeat rerun.
        public var environment: [String: String?]
        public var threads: Int?
        public var workload: String
    }

    /// Runs an alternative and returns its analysis (its own ledger run).
    public typealias Runner = (Alternative) throws -> BenchAnalysis

    /// - Parameters:
    ///   - cpuVectorBits: the widest vector the CPU runs (512 for AVX-512F).
    ///   - runAlternative: nil: report predictions only.
    public static func findings(analysis: BenchAnalysis, cpuVectorBits: Int, runAlternative: Runner?) -> [EfficiencyFinding] {
        var found: [EfficiencyFinding] = []
        guard let peaks = analysis.peaks else { return [] }
        let target = analysis.workloads.first { w in w.phases.contains { $0.phase == "train" } }
        let targetPhase = target?.phases.first { $0.phase == "train" }
        let current = targetPhase?.joulesPerToken.median
        /// A measured alternative confirms a finding only with a clear saving on windows long enough to read.
        func verdict(_ now: Double, _ alternative: Double) -> String? {
            if targetPhase?.flags.contains(where: { $0.kind == .shortWindow }) == true {
                return "the training windows are under the 1 s steady-state minimum, so one rerun cannot tell; lengthen the workload"
            }
            if alternative > now * 0.95 {
                return "the alternative saved less than 5 % here (one rerun), so the fix is not confirmed on this workload"
            }
            return nil
        }
        func measure(_ alternative: Alternative) -> (Double, Int64)? {
            guard let runAlternative, let analysis = try? runAlternative(alternative),
                let value = analysis.workloads.first(where: { $0.name == alternative.workload })?.phases.first(where: {
                    $0.phase == "train"
                })?
                .joulesPerToken.median
            else { return nil }
            return (value, analysis.runID)
        }

        if let core = peaks.blasCore, let bits = BLASKernelWidth.bits[core.lowercased()], bits < cpuVectorBits,
            let family = BLASKernelWidth.family(forCPUBits: cpuVectorBits)
        {
            var detail =
                "OpenBLAS runs its \(core) kernels (\(bits)-bit vectors) on a CPU with \(peaks.vectorISA) (\(cpuVectorBits)-bit): the FMA probe reached \(String(format: "%.0f", peaks.fmaGFLOPs)) GFLOP/s, sgemm \(String(format: "%.0f", peaks.sgemmGFLOPs))"
            if let override = peaks.blasCoreOverride { detail += "; OPENBLAS_CORETYPE=\(override) in the environment forces them" }
            detail +=
                "; fix: \(peaks.blasCoreOverride != nil ? "unset OPENBLAS_CORETYPE or " : "")set OPENBLAS_CORETYPE=\(family) (or an OpenBLAS that detects this CPU)"
            if let target, let current,
                let (value, run) = measure(Alternative(environment: ["OPENBLAS_CORETYPE": family], threads: nil, workload: target.name))
            {
                found.append(
                    EfficiencyFinding(
                        kind: .narrowBLASKernels, evidence: .measured, workload: target.name, phase: "train", joulesPerToken: current,
                        alternativeJoulesPerToken: value, alternativeRun: run, detail: detail, inconclusive: verdict(current, value)))
            } else {
                // Predicted: the compute-bound part scales with the kernel width, at most bits ÷ cpu bits of the time.
                let predicted = current.map { $0 * Double(bits) / Double(cpuVectorBits) }
                found.append(
                    EfficiencyFinding(
                        kind: .narrowBLASKernels, evidence: .predicted, workload: target?.name, phase: current == nil ? nil : "train",
                        joulesPerToken: current, alternativeJoulesPerToken: predicted,
                        detail: detail
                            + "; prediction: J/token of compute-bound training scales with kernel width (an upper bound on the saving)"))
            }
        }

        if peaks.threads < peaks.cpus {
            let detail =
                "\(QuantityFormat.counted(peaks.threads, "compute thread")) on \(peaks.cpus) CPUs: idle cores still draw static power while the work takes longer; fix: --threads \(peaks.cpus) (the default)"
            if let target, let current,
                let (value, run) = measure(Alternative(environment: [:], threads: peaks.cpus, workload: target.name))
            {
                found.append(
                    EfficiencyFinding(
                        kind: .fewerThreadsThanCores, evidence: .measured, workload: target.name, phase: "train", joulesPerToken: current,
                        alternativeJoulesPerToken: value, alternativeRun: run, detail: detail, inconclusive: verdict(current, value)))
            } else {
                found.append(EfficiencyFinding(kind: .fewerThreadsThanCores, evidence: .predicted, detail: detail))
            }
        }
        return found
    }

    /// From a batch sweep: for each workload's phase, the batch with the lowest J/token against the one each spec names.
    /// `sweep` maps a swept workload's name to its base name and batch.
    public static func batchFindings(
        analysis: BenchAnalysis, sweep: [String: (base: String, batch: Int)], specBatches: [String: Int]
    ) -> [EfficiencyFinding] {
        var found: [EfficiencyFinding] = []
        let grouped = Dictionary(grouping: analysis.workloads.filter { sweep[$0.name] != nil }, by: { sweep[$0.name]!.base })
        for (base, variants) in grouped.sorted(by: { $0.key < $1.key }) {
            guard let chosen = specBatches[base] else { continue }
            for phase in Set(variants.flatMap { $0.phases.map(\.phase) }).sorted() {
                let points = variants.compactMap { w -> (batch: Int, jpt: Double, short: Bool)? in
                    guard let p = w.phases.first(where: { $0.phase == phase }), p.joulesPerToken.median.isFinite else { return nil }
                    return (sweep[w.name]!.batch, p.joulesPerToken.median, p.flags.contains { $0.kind == .shortWindow })
                }
                guard let best = points.min(by: { $0.jpt < $1.jpt }), let mine = points.first(where: { $0.batch == chosen }),
                    best.batch != chosen, best.jpt < mine.jpt * 0.95
                else { continue }
                let fix =
                    best.batch > chosen
                    ? "fix: raise the batch to \(best.batch) where latency allows"
                    : "a smaller batch measured less here, against the usual; check the windows before acting on it"
                found.append(
                    EfficiencyFinding(
                        kind: .batchBelowKnee, evidence: .measured, workload: base, phase: phase, joulesPerToken: mine.jpt,
                        alternativeJoulesPerToken: best.jpt,
                        detail:
                            "\(phase) at batch \(chosen) costs more per token than at batch \(best.batch) (swept: \(points.sorted { $0.batch < $1.batch }.map { "\($0.batch): \(String(format: "%.4g", $0.jpt))" }.joined(separator: ", ")) J/token); \(fix)",
                        inconclusive: points.contains(where: \.short)
                            ? "some swept windows are under the 1 s steady-state minimum; lengthen the workload's steps or rounds" : nil))
            }
        }
        return found
    }
}
