import Accounting
import Engine
import Foundation

/// Where a benchmark stands, for a progress display: units are workload repeats.
public struct BenchProgress: Sendable {
    public var done: Int
    public var total: Int
    /// What runs now ("idle baseline", "small-gpt2 repeat 2/5", …).
    public var label: String
    public var elapsedSeconds: Double
    /// From the pace so far; nil before the first unit ends.
    public var remainingSeconds: Double?
}

/// Runs a plan: records it, measures the arithmetic peaks, the idle baseline before, every workload's repeats
/// interleaved (repeat 1 of each workload, then repeat 2 of each, …, so slow drift spreads over all of them instead
/// of biasing one), the idle baseline after, and the peaks again.
public enum SuiteRunner {
    /// - Parameters:
    ///   - sleep: waits the idle baseline out (a test passes one that returns at once).
    ///   - probePeaks: false skips the sgemm and FMA probes (tests; MFU is then not reported).
    /// - Throws: what the engine throws for a workload; windows already recorded stay in the ledger.
    public static func run(
        _ plan: BenchPlan, threads: Int, recorder: PhaseRecorder, probePeaks: Bool = true,
        sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) },
        progress: (BenchProgress) -> Void = { _ in }
    ) throws {
        try Parallel.configure(threads: threads)
        recorder.record(.benchPlan(try record(plan, threads: threads)))
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        let total = plan.repeats * plan.workloads.count
        var done = 0
        func report(_ label: String) {
            let pace = done > 0 ? elapsed() / Double(done) : nil
            progress(
                BenchProgress(
                    done: done, total: total, label: label, elapsedSeconds: elapsed(),
                    remainingSeconds: pace.map { $0 * Double(total - done) + plan.idleSeconds }))
        }
        let shapes = peakShapes(plan)
        var sgemm = 0.0
        if probePeaks {
            report("measuring the sgemm and FMA peaks")
            sgemm = HardwarePeaks.sgemmPeak(shapes: shapes, clock: ContinuousClock()).peak
        }
        let fma = probePeaks ? ComputePeakProbe.fmaPeak(threads: threads) / 1e9 : 0
        if plan.idleSeconds > 0 {
            report("idle baseline before, \(Int(plan.idleSeconds)) s")
            idle("idle-before", seconds: plan.idleSeconds, recorder: recorder, sleep: sleep)
        }
        for r in 1...plan.repeats {
            for w in plan.workloads {
                report("\(w.name) repeat \(r)/\(plan.repeats)")
                _ = try WorkloadExecution.run(w, repeat: r, recorder: recorder)
                done += 1
            }
        }
        if plan.idleSeconds > 0 {
            report("idle baseline after, \(Int(plan.idleSeconds)) s")
            idle("idle-after", seconds: plan.idleSeconds, recorder: recorder, sleep: sleep)
        }
        if probePeaks {
            report("measuring the sgemm peak again")
            sgemm = max(sgemm, HardwarePeaks.sgemmPeak(shapes: shapes, clock: ContinuousClock()).peak)
            let environment = ProcessInfo.processInfo.environment
            recorder.record(
                .computePeaks(
                    ComputePeaksRecord(
                        sgemmGFLOPs: sgemm, fmaGFLOPs: fma, vectorISA: ComputePeakProbe.vectorISA, blasCore: Parallel.blasCoreName,
                        blasCoreOverride: environment["OPENBLAS_CORETYPE"], threads: threads, cpus: Parallel.hardwareThreads())))
        }
        done = total
        report("done")
    }

    static func idle(_ name: String, seconds: Double, recorder: PhaseRecorder, sleep: (Double) -> Void) {
        let mark = PhaseMark(name: name)
        recorder.begin(mark)
        sleep(seconds)
        recorder.end(mark)
    }

    /// 1024³ and the largest workload's model-shaped products (rows = batch × sequence, width → 4·width and back).
    static func peakShapes(_ plan: BenchPlan) -> [(m: Int, n: Int, k: Int)] {
        var shapes = [(m: 1024, n: 1024, k: 1024)]
        if let widest = plan.workloads.max(by: { $0.config.configuration.channels < $1.config.configuration.channels }) {
            let C = widest.config.configuration.channels
            let rows = max(
                256, plan.workloads.map { ($0.spec.phases.train?.batch ?? 1) * ($0.spec.phases.train?.sequence ?? 1) }.max() ?? 256)
            shapes += [(m: rows, n: 4 * C, k: C), (m: rows, n: C, k: 4 * C)]
        }
        return shapes
    }

    /// The plan as the ledger keeps it.
    static func record(_ plan: BenchPlan, threads: Int) throws -> BenchPlanRecord {
        let workloads = try plan.workloads.map { w -> BenchPlanRecord.Workload in
            let c = w.config.configuration
            var perToken: [String: Double] = [:]
            if let t = w.spec.phases.train { perToken["train"] = c.flopsPerToken(.train, context: t.sequence) }
            if let p = w.spec.phases.prefill {
                perToken["prefill"] = c.flopsPerToken(.prefill, context: p.promptTokens)
                if let d = w.spec.phases.decode { perToken["decode"] = c.flopsPerToken(.decode, context: p.promptTokens + d.newTokens / 2) }
            }
            return BenchPlanRecord.Workload(
                name: w.name, file: w.file, architecture: c.architecture.rawValue, parameters: c.parameterCount,
                activeParameters: c.activeParameterCount, flopsPerToken: perToken, configuration: try JSONValue(encoding: w.config),
                spec: try JSONValue(encoding: w.spec), corpus: w.spec.data.corpus, corpusSHA256: w.corpusSHA256, corpusBytes: w.corpusBytes,
                standard: w.standard, corpusChecked: w.corpusChecked, phases: w.spec.phaseNames,
                precision: w.precision == .fp32 ? nil : w.precision.rawValue,
                groupSize: w.precision == .int8 ? WeightPrecision.groupSize : nil,
                weightKernel: w.precision == .fp32 ? nil : QuantizedKernel.name(w.precision))
        }
        return BenchPlanRecord(
            analysis: BenchAnalysis.version, suite: plan.suite, repeats: plan.repeats, idleSeconds: plan.idleSeconds, threads: threads,
            workloads: workloads)
    }
}
