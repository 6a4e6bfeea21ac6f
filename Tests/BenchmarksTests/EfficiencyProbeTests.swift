import Accounting
@testable import Benchmarks
import XCTest

/// Waste found from the figures: narrow BLAS kernels and too few threads, measured through an alternative run when a
/// runner is given and predicted (and labelled so) when not; batch sizes below the knee from a sweep.
final class EfficiencyProbeTests: XCTestCase {
    func analysis(trainJPT: Double, blasCore: String = "Haswell", threads: Int = 2, cpus: Int = 2, run: Int64 = 1, name: String = "w")
        -> BenchAnalysis
    {
        let phase = BenchAnalysis.Phase(
            phase: "train", tokensPerRepeat: 100, seconds: RepeatSummary([1]), joules: RepeatSummary([trainJPT * 100]), dynamicJoules: nil,
            joulesPerToken: RepeatSummary([trainJPT]), dynamicJoulesPerToken: nil, kWhPer1kTokens: 0, tokensPerSecond: RepeatSummary([100]),
            flopsPerToken: nil, mfuSGEMM: nil, mfuFMA: nil, carbon: nil, energySource: "measured", flags: [])
        return BenchAnalysis(
            runID: run, analysisVersion: 1, suite: nil, repeats: 1, idle: nil,
            peaks: ComputePeaksRecord(
                sgemmGFLOPs: 245, fmaGFLOPs: 520, vectorISA: "AVX-512F", blasCore: blasCore, blasCoreOverride: "Haswell", threads: threads,
                cpus: cpus),
            workloads: [
                .init(
                    name: name, architecture: "gpt2", parameters: 1, activeParameters: 1, standard: true, corpusSHA256: "", phases: [phase],
                    channels: [], validationLoss: nil, perplexity: nil, inferenceClosure: nil, flags: [])
            ], samplerShareOfOneCore: nil, flags: [])
    }

    func testNarrowKernelsMeasuredThroughTheAlternative() {
        var asked: [EfficiencyProbe.Alternative] = []
        let found = EfficiencyProbe.findings(analysis: analysis(trainJPT: 0.02), cpuVectorBits: 512) { alternative in
            asked.append(alternative)
            return self.analysis(trainJPT: 0.012, blasCore: "SkylakeX", run: 7)
        }
        XCTAssertEqual(asked.count, 1)
        XCTAssertEqual(asked[0].environment["OPENBLAS_CORETYPE"], "SkylakeX")
        XCTAssertEqual(found.count, 1)
        let f = found[0]
        XCTAssertEqual(f.kind, .narrowBLASKernels)
        XCTAssertEqual(f.evidence, .measured)
        XCTAssertEqual(f.savingJoulesPerToken!, 0.008, accuracy: 1e-12)
        XCTAssertEqual(f.alternativeRun, 7)
        XCTAssertTrue(
            f.summary.contains("Haswell kernels (256-bit") && f.summary.contains("unset OPENBLAS_CORETYPE") && f.summary.contains("40 %"),
            f.summary)
    }

    func testAnAlternativeThatSavesNothingIsInconclusive() {
        let worse = EfficiencyProbe.findings(analysis: analysis(trainJPT: 0.02), cpuVectorBits: 512) { _ in
            self.analysis(trainJPT: 0.0202, run: 8)
        }
        XCTAssertEqual(worse.first?.evidence, .measured)
        XCTAssertTrue(worse.first?.inconclusive?.contains("saved less than 5 %") == true)
        XCTAssertTrue(worse.first?.summary.contains("INCONCLUSIVE") == true, worse.first?.summary ?? "")
        var short = analysis(trainJPT: 0.02)
        short.workloads[0].phases[0].flags = [BenchFlag(.shortWindow, "short")]
        let flagged = EfficiencyProbe.findings(analysis: short, cpuVectorBits: 512) { _ in self.analysis(trainJPT: 0.01, run: 9) }
        XCTAssertTrue(flagged.first?.inconclusive?.contains("under the 1 s steady-state minimum") == true)
    }

    func testPredictedWithoutARunnerAndNothingOnAMatchingKernel() {
        let found = EfficiencyProbe.findings(
            analysis: analysis(trainJPT: 0.02, threads: 1, cpus: 2), cpuVectorBits: 512, runAlternative: nil)
        XCTAssertEqual(found.map(\.kind), [.narrowBLASKernels, .fewerThreadsThanCores])
        XCTAssertTrue(found.allSatisfy { $0.evidence == .predicted })
        XCTAssertEqual(found[0].alternativeJoulesPerToken!, 0.01, accuracy: 1e-12, "half the width, half the compute-bound energy at most")
        XCTAssertTrue(found[0].summary.contains("predicted"))
        XCTAssertEqual(
            EfficiencyProbe.findings(analysis: analysis(trainJPT: 0.02, blasCore: "SkylakeX"), cpuVectorBits: 512, runAlternative: nil), [])
        XCTAssertEqual(
            EfficiencyProbe.findings(analysis: analysis(trainJPT: 0.02, blasCore: "Haswell"), cpuVectorBits: 256, runAlternative: nil), [])
    }

    func testBatchBelowTheKneeFromASweep() {
        var a = analysis(trainJPT: 0.04, name: "w@batch=1")
        for (b, jpt) in [(2, 0.025), (4, 0.012), (8, 0.0118)] {
            a.workloads.append(analysis(trainJPT: jpt, name: "w@batch=\(b)").workloads[0])
        }
        let sweep = Dictionary(uniqueKeysWithValues: [1, 2, 4, 8].map { ("w@batch=\($0)", (base: "w", batch: $0)) })
        let found = EfficiencyProbe.batchFindings(analysis: a, sweep: sweep, specBatches: ["w": 2])
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found[0].kind, .batchBelowKnee)
        XCTAssertEqual(found[0].alternativeJoulesPerToken, 0.0118)
        XCTAssertTrue(
            found[0].detail.contains("batch 2") && found[0].detail.contains("1: 0.04, 2: 0.025, 4: 0.012, 8: 0.0118"), found[0].detail)
        XCTAssertEqual(EfficiencyProbe.batchFindings(analysis: a, sweep: sweep, specBatches: ["w": 8]), [], "8 is already the best")
    }
}
