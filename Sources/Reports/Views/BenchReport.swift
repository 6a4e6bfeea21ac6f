import Accounting
import Benchmarks
import Engine
import Foundation
import Measures
import Meters

/// A model benchmark: the sgemm peak it is measured against, the model, the timed phase's throughput and MFU, memory,
/// the bandwidth bound for decode, and the energy of the timed steps.
public enum BenchReport {
    /// The energy of the timed steps only (the peak probes before and after are excluded).
    public struct Energy: Codable, Sendable {
        public var runID: Int64
        public var window: WindowMeasurement?
        public var tokens: Int
        public var joulesPerToken: Double?

        public init(runID: Int64, window: WindowMeasurement?, tokens: Int) {
            self.runID = runID
            self.window = window
            self.tokens = tokens
            joulesPerToken = window.flatMap { tokens > 0 ? $0.totalJoules / Double(tokens) : nil }
        }
    }

    /// The timed steps' carbon, from the run's footprint once the run is closed. Printed, never recorded with the
    /// benchmark: `wattprint show` recomputes the run's footprint from the ledger.
    public struct Carbon: Codable, Sendable {
        /// The grid zone whose intensity was used (`CarbonEstimate.IntensityUsed.label`).
        public var grid: String
        public var gramsPerKilowattHour: Double
        public var pue: Double
        /// g CO2e of the timed steps: their IT energy × the run's g CO2e per IT joule (PUE and grid included).
        public var timedGrams: Double
        /// `timedGrams` over the timed steps' tokens.
        public var timedGramsPerToken: Double?
        /// Whether no PUE was given and an on-premises data centre's was assumed (the grams scale with the PUE).
        public var pueAssumed: Bool
        /// What the reader must know first (a region defaulted to the world average), loudly.
        public var warnings: [String]

        /// - Parameters:
        ///   - footprint: the closed run's footprint; its total grams over its IT energy scale the timed steps.
        ///   - energy: the timed steps' energy; nil when the window was not measured.
        public init?(footprint: RunFootprint, energy: Energy) {
            guard let window = energy.window, footprint.energy.totalJoules > 0 else { return nil }
            let c = footprint.carbon
            grid = c.intensity.label
            gramsPerKilowattHour = c.intensity.intensity.gramsPerKilowattHour
            pue = c.pue.value
            timedGrams = window.totalJoules * c.total.grams / footprint.energy.totalJoules
            timedGramsPerToken = energy.tokens > 0 ? timedGrams / Double(energy.tokens) : nil
            pueAssumed = c.flags.contains {
                if case .pueAssumedOnPremises = $0 { return true }
                return false
            }
            warnings = c.flags.compactMap {
                if case .regionDefaulted = $0 { return "WARNING: \($0)" }
                return nil
            }
        }
    }

    /// What a bench records and prints.
    public struct Record: Codable, Sendable {
        public var bench: BenchResult
        public var energy: Energy
        /// Set after the run closes, for printing only (see `Carbon`).
        public var carbon: Carbon?
        public init(bench: BenchResult, energy: Energy, carbon: Carbon? = nil) {
            self.bench = bench
            self.energy = energy
            self.carbon = carbon
        }
    }

    public static func build(_ record: Record) -> Report {
        let r = record.bench, o = r.options, c = o.config.configuration
        var lines: [String] = []
        lines.append(
            "sgemm peak   \(QuantityFormat.fixed(r.sgemmPeakGFLOPs, 1)) GFLOP/s (best single rep; \(r.blasThreads) OpenBLAS threads\(r.blasCore.map { ", \($0) kernels" } ?? ""), \(r.kernelWorkers) kernel workers)"
        )
        for s in r.sgemmShapes {
            lines.append(
                "  \(s.m)×\(s.n)×\(s.k): best \(QuantityFormat.fixed(s.bestGFLOPs, 1)), median \(QuantityFormat.fixed(s.medianGFLOPs, 1)) GFLOP/s"
            )
        }
        if let note = narrowKernelNote(r) { lines.append(note) }
        if let fma = r.fmaPeakGFLOPs {
            lines.append(
                "FMA peak     \(QuantityFormat.fixed(fma, 1)) GFLOP/s (independent \(r.fmaVectorISA ?? "vector") multiply-add chains on \(QuantityFormat.counted(o.threads, "thread")), best of before and after)"
            )
        }
        var model = "model        \(c.architecture.rawValue), \(c.summary): \(QuantityFormat.grouped(r.parameterCount)) parameters"
        if let active = r.activeParameterCount, active != r.parameterCount {
            model += " (\(QuantityFormat.grouped(active)) active per token)"
        }
        lines.append(model)
        if let precision = o.precision, precision != .fp32 {
            lines.append(
                "weights      \(precision.rawValue) for the block matrices and LM head (\(o.phase == .prefill ? "prefill: " : "")\(r.quantizedKernel ?? "?"))"
            )
        }
        let shape = o.phase == .decode ? "B \(o.batch), prompt \(o.sequence)" : "B×T \(o.batch)×\(o.sequence)"
        lines.append(
            "phase        \(o.phase.rawValue), \(shape), \(r.stepSeconds.count) timed step\(r.stepSeconds.count == 1 ? "" : "s"): median \(QuantityFormat.fixed(r.medianStepSeconds * 1000, 2)) ms/step (\(stepList(r.stepSeconds)))"
        )
        if let optimizer = r.medianOptimizerSeconds, r.medianStepSeconds > 0 {
            lines.append(
                "optimizer    median \(QuantityFormat.fixed(optimizer * 1000, 2)) ms/step for \(c.architecture == .gan ? "AdamW of both networks" : "clipping's gradient norm and AdamW"), \(QuantityFormat.fixed(100 * optimizer / r.medianStepSeconds, 1)) % of the step: a cost per step, not per token, so a larger batch spreads it thinner"
            )
        }
        if o.precision ?? .fp32 == .fp32, let kernel = r.prefillKernel { lines.append("products     prefill: \(kernel)") }
        if let kernel = r.productsKernel { lines.append("products     \(o.phase.rawValue): \(kernel)") }
        // MFU is against fp32 sgemm: a bf16 prefill's BF16 dot products do twice an fp32 FMA's work an instruction, VNNI
        // int8 four times, and the engine's fp32 kernel on packed weights skips sgemm's per-call packing (or outruns a
        // forced narrower core).
        var aboveNote = ""
        let engineNote = "; above 100 %: the engine's own fp32 kernel multiplied, not sgemm (see the FMA peak)"
        if r.modelFLOPsUtilization > 1 && o.phase != .prefill && r.productsKernel?.hasPrefix("engine") == true { aboveNote = engineNote }
        if r.modelFLOPsUtilization > 1 && o.phase == .prefill {
            if o.precision == .bf16 {
                aboveNote = "; above 100 %: bf16 dot products against the fp32 peaks"
            } else if o.precision == .int8 && r.quantizedKernel?.contains("VNNI") == true {
                aboveNote = "; above 100 %: int8 dot products against the fp32 peaks"
            } else if r.prefillKernel?.hasPrefix("engine") == true {
                aboveNote = engineNote
            }
        }
        let fmaShare = r.fractionOfFMAPeak.map { ", \(QuantityFormat.fixed($0 * 100, 1)) % of the FMA peak" } ?? ""
        lines.append(
            "throughput   \(QuantityFormat.fixed(r.tokensPerSecond, 1)) tokens/s, \(QuantityFormat.fixed(r.achievedGFLOPs, 1)) GFLOP/s, MFU \(QuantityFormat.fixed(r.modelFLOPsUtilization * 100, 1)) % of the sgemm peak\(fmaShare) (\(QuantityFormat.flops(r.flopsPerStep))/step)\(aboveNote)"
        )
        if let pool = r.poolBackoff, pool.backedOff > 0 {
            lines.append(
                "pool         \(QuantityFormat.fixed(100 * Double(pool.backedOff) / Double(max(1, pool.jobs)), 1)) % of the engine pool's \(QuantityFormat.grouped(pool.jobs)) parallel jobs ran on one thread: the pool was held up, a worker losing its core mid-job or the caller waiting for one (other processes, or more runnable threads than cores; \(QuantityFormat.counted(pool.backoffs, "backoff")); WATTPRINT_POOL_BACKOFF=off keeps every thread)"
            )
        }
        if let load = r.expertLoad, !load.isEmpty {
            let total = max(1, load.reduce(0, +))
            lines.append(
                "experts      tokens routed per expert (all layers): \(load.map { "\(QuantityFormat.fixed(100 * Double($0) / Double(total), 1)) %" }.joined(separator: ", "))"
            )
        }
        if let loss = r.lastLoss { lines.append("loss         \(QuantityFormat.fixed(Double(loss), 4)) (random data)") }
        var memory = "peak RSS     \(QuantityFormat.bytes(Double(r.peakResidentBytes)))"
        if let state = r.optimizerStateBytes, let activations = r.activationBytes {
            let rest = max(0, r.peakResidentBytes - state - activations)
            memory +=
                " (params + grads + AdamW m, v = \(QuantityFormat.bytes(Double(state))); activations + scratch = \(QuantityFormat.bytes(Double(activations))); the rest, \(QuantityFormat.bytes(Double(rest))): code, libraries, OpenBLAS's buffers)"
        }
        // Decode measures streaming-read bandwidth in this process: its buffer is part of the peak.
        if o.phase == .decode, r.readBandwidthBytesPerSecond != nil {
            let copy =
                (r.decodeCopyBytes ?? 0) > 0
                ? " and the copy of the weights laid out in rows that decoding reads, \(QuantityFormat.bytes(Double(r.decodeCopyBytes!))): WATTPRINT_DECODE_LAYOUT=stored reads them as stored"
                : ""
            memory += " (includes the bandwidth probe's \(QuantityFormat.bytes(Double(o.bandwidthProbeBytes))) buffer\(copy))"
        }
        lines.append(memory)
        if let bandwidth = r.readBandwidthBytesPerSecond, let weights = r.weightBytesPerStep, let cache = r.cacheBytesPerStep,
            let bound = r.bandwidthBoundTokensPerSecond, let fraction = r.fractionOfBandwidthBound
        {
            lines.append(
                "bandwidth    \(QuantityFormat.fixed(bandwidth / 1e9, 1)) GB/s streaming read; \(QuantityFormat.fixed(weights / 1e6, 1)) MB weights + \(QuantityFormat.fixed(cache / 1e6, 2)) MB KV per step"
            )
            lines.append(
                "decode bound \(QuantityFormat.fixed(bound, 1)) tokens/s; achieved \(QuantityFormat.fixed(fraction * 100, 1)) % of the bandwidth bound"
                    + (fraction > 1
                        ? "; above 100 %: the machine's bandwidth moved between the probes and the steps"
                            + (r.pairedBandwidthFractions == nil ? "" : " (the paired line holds each step to the probe read around it)")
                            + ", or the weights and cache fit in the CPU's caches, which outrun the probe"
                        : "")
            )
        }
        if let fractions = r.pairedBandwidthFractions, let median = r.medianPairedBandwidthFraction, let rates = r.pairedReadBandwidths,
            !rates.isEmpty
        {
            let percent = { (f: Double) in QuantityFormat.fixed(f * 100, 1) }
            lines.append(
                "paired       \(percent(median)) % of the bandwidth read around each step, median of \(fractions.count) more steps (\(percent(fractions.min()!))–\(percent(fractions.max()!)) %; probe \(QuantityFormat.fixed(rates.min()! / 1e9, 1))–\(QuantityFormat.fixed(rates.max()! / 1e9, 1)) GB/s), outside the energy window"
            )
        }
        let e = record.energy
        if let w = e.window, let jpt = e.joulesPerToken {
            let mode = w.includesEstimates ? "ESTIMATED (no energy counter readable here)" : "measured"
            lines.append(
                "energy       \(QuantityFormat.fixed(w.totalJoules, 2)) J over the timed steps (\(QuantityFormat.fixed(w.seconds, 2)) s), \(mode)"
            )
            lines.append(
                "per token    \(QuantityFormat.fixed(jpt, 4)) J/token = \(String(format: "%.3g", jpt / 3.6e6)) kWh/token; recorded as run \(e.runID) (wattprint show \(e.runID))"
            )
        }
        if let carbon = record.carbon {
            let perToken = carbon.timedGramsPerToken.map { "\(String(format: "%.3g", $0)) g CO2e/token, " } ?? ""
            let pue = "PUE \(QuantityFormat.fixed(carbon.pue, 2))\(carbon.pueAssumed ? ", assumed on-premises" : "")"
            lines.append(
                "carbon       \(perToken)\(String(format: "%.3g", carbon.timedGrams)) g CO2e over the timed steps (grid \(carbon.grid): \(QuantityFormat.fixed(carbon.gramsPerKilowattHour, 1)) g CO2e/kWh; \(pue)\(carbon.pueAssumed ? " (another PUE P scales it by P/\(QuantityFormat.fixed(carbon.pue, 2)))" : ""); the whole run's interval and sources: wattprint show \(e.runID))"
            )
            lines += carbon.warnings.map { "  \($0)" }
        }
        return Report(blocks: lines.map(Block.line), data: record)
    }

    /// Steps listed in milliseconds: all of them up to `listedSteps`, else the first `listedSteps` and the slowest (a
    /// 2,000-step decode listed every step on one line).
    static func stepList(_ seconds: [Double]) -> String {
        let ms = { (s: Double) in QuantityFormat.fixed(s * 1000, 1) }
        guard seconds.count > listedSteps else { return "all: " + seconds.map(ms).joined(separator: ", ") }
        return "first \(listedSteps): \(seconds.prefix(listedSteps).map(ms).joined(separator: ", ")); slowest \(ms(seconds.max()!))"
    }

    static let listedSteps = 32

    /// Where OpenBLAS runs kernels narrower than the CPU's vectors (a forced `OPENBLAS_CORETYPE`, or an OpenBLAS too old
    /// to know the CPU), what that costs and the fix; nil when the widths match or either is unknown.
    static func narrowKernelNote(_ r: BenchResult) -> String? {
        guard let core = r.blasCore, let bits = BLASKernelWidth.bits[core.lowercased()], let cpuBits = r.fmaVectorBits, bits < cpuBits,
            let family = BLASKernelWidth.family(forCPUBits: cpuBits)
        else { return nil }
        // An override that names a kernel as wide as the CPU's, yet a narrower core runs: this OpenBLAS ignores it.
        if let override = r.blasCoreOverride, let asked = BLASKernelWidth.bits[override.lowercased()], asked >= cpuBits {
            return
                "  narrow kernels: OpenBLAS runs its \(core) kernels (\(bits)-bit vectors) on a CPU with \(r.fmaVectorISA ?? "\(cpuBits)-bit vectors") (\(cpuBits)-bit) although OPENBLAS_CORETYPE=\(override) asks for wider ones: this OpenBLAS ignores the variable (built without DYNAMIC_ARCH?); fix: use an OpenBLAS that knows this CPU"
        }
        let forced = r.blasCoreOverride.map { "; OPENBLAS_CORETYPE=\($0) in the environment forces them" } ?? ""
        return
            "  narrow kernels: OpenBLAS runs its \(core) kernels (\(bits)-bit vectors) on a CPU with \(r.fmaVectorISA ?? "\(cpuBits)-bit vectors") (\(cpuBits)-bit): sgemm stays well below the FMA peak\(forced); fix: \(r.blasCoreOverride != nil ? "unset OPENBLAS_CORETYPE or " : "")set OPENBLAS_CORETYPE=\(family) (or use an OpenBLAS that knows this CPU)"
    }
}
