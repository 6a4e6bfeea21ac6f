import Accounting
import ArgumentParser
import Engine
import Foundation
import Measures
import Meters

extension ModelCommand {
    /// `model bench`: throughput and MFU against this machine's measured sgemm peak and memory bandwidth.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure training, prefill or decode throughput, MFU and peak memory.",
            discussion: "Every bench is recorded in the ledger as a run: the timed steps are a measurement window whose energy gives J/token (measured where counters exist, else estimated, and labelled). \n\nExamples:\n  wattprint model bench --preset gpt2-124m --phase train --batch 4 --seq 64\n  wattprint model bench --preset gpt2-124m --phase decode --json\n\nMeasures the sgemm peak first (best single repetition of 5 over 1024³ and two model-shaped products, same OpenBLAS and thread count), then the workload; decode also measures streaming-read bandwidth. FLOPs follow FLOPCount: 24·L·C² + 4·L·C·T_ctx per token plus 2·V·C per logits row; training = 3× forward.")

        enum Preset: String, ExpressibleByArgument, CaseIterable {
            case gpt2_124m = "gpt2-124m"
        }

        @Option(help: "Model preset.") var preset: Preset?
        @Option(help: "Transformer blocks (instead of a preset).") var layers: Int?
        @Option(help: "Channels.") var width: Int?
        @Option(help: "Attention heads (default width/64).") var heads: Int?
        @Option(help: "Vocabulary (default 50257).") var vocab: Int?
        @Option(help: "Model context (default 1024).") var context: Int?
        @Option(help: "What to measure.") var phase: BenchPhase = .train
        @Option(help: "Batch (default 4 for train, 1 otherwise).") var batch: Int?
        @Option(help: "Sequence length / prompt length (default 64 train, 256 prefill, 64 decode).") var seq: Int?
        @Option(help: "Timed steps (default 3, or 32 decode steps).") var steps: Int?
        @Option(help: "Untimed warm-up steps.") var warmup = 1
        @Option(help: "Seed for weights and tokens.") var seed: UInt64 = 1

        @OptionGroup var threads: ThreadOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var regionOption: RegionOption

        func validate() throws {
            if preset != nil, layers != nil || width != nil || heads != nil {
                throw ValidationError("pass either --preset or --layers/--width/--heads, not both")
            }
            if (layers == nil) != (width == nil) {
                throw ValidationError("--layers and --width go together")
            }
            if heads != nil && layers == nil {
                throw ValidationError("--heads only applies with --layers and --width; the preset fixes its own heads")
            }
        }

        func run() throws {
            var config = GPT2Config.gpt2Small
            if let layers, let width {
                config = GPT2Config(layers: layers, channels: width, heads: heads ?? max(1, width / 64),
                                    vocabularySize: vocab ?? 50257, maxSequence: context ?? 1024)
            } else {
                if let vocab { config.vocabularySize = vocab }
                if let context { config.maxSequence = context }
            }
            let options = BenchOptions(config: config, phase: phase, batch: batch ?? (phase == .train ? 4 : 1),
                                       sequence: seq ?? (phase == .prefill ? 256 : 64), steps: steps ?? (phase == .decode ? 32 : 3),
                                       warmupSteps: warmup, threads: threads.threads ?? Parallel.hardwareThreads(), seed: seed)
            let measured = try MeasuredSession.ownWork(ledger: ledger, region: try regionOption.resolution())
            var window: WindowMeasurement?
            var tokens = 0
            let result: BenchResult
            do {
                result = try Benchmark.run(options, clock: ContinuousClock(), events: { event in
                    switch event {
                    case .status(let line):
                        if !output.json { FileHandleOutput.standardError("… " + line) }
                    case .workloadStarted(let phase):
                        try? measured.monitor?.begin("workload")
                        measured.record(.phaseStart(name: phase.rawValue))
                    case let .stepFinished(index, seconds, stepTokens, flops):
                        tokens += stepTokens
                        measured.record(.step(StepRecord(index: index, seconds: seconds, tokens: stepTokens, flops: flops)))
                        measured.record(.tokens(TokenCount(count: Double(stepTokens), phase: phase.rawValue)))
                    case .workloadFinished:
                        window = try? measured.monitor?.end("workload")
                        measured.record(.phaseEnd(name: phase.rawValue))
                    }
                })
            } catch {
                // The job ended, badly: a closed run with exit code 1, as `wattprint run` records a failing command.
                try? measured.finish(status: .complete, exitCode: 1)
                throw error
            }
            let energy = BenchEnergy(runID: measured.runID, window: window, tokens: tokens)
            measured.record(.benchmark(try JSONValue(encoding: BenchRecord(bench: result, energy: energy))))
            try measured.finish()
            if output.json { return try output.emit(BenchRecord(bench: result, energy: energy)) }
            render(result)
            render(energy)
        }

        /// The energy of the timed steps only (the peak probes before and after are excluded).
        struct BenchEnergy: Codable {
            var runID: Int64
            var window: WindowMeasurement?
            var tokens: Int
            var joulesPerToken: Double?

            init(runID: Int64, window: WindowMeasurement?, tokens: Int) {
                self.runID = runID
                self.window = window
                self.tokens = tokens
                joulesPerToken = window.flatMap { tokens > 0 ? $0.totalJoules / Double(tokens) : nil }
            }
        }

        struct BenchRecord: Codable {
            var bench: BenchResult
            var energy: BenchEnergy
        }

        func render(_ e: BenchEnergy) {
            guard let w = e.window, let jpt = e.joulesPerToken else { return }
            let mode = w.includesEstimates ? "ESTIMATED (no energy counter readable here)" : "measured"
            print("energy       \(QuantityFormat.fixed(w.totalJoules, 2)) J over the timed steps (\(QuantityFormat.fixed(w.seconds, 2)) s), \(mode)")
            print("per token    \(QuantityFormat.fixed(jpt, 4)) J/token = \(String(format: "%.3g", jpt / 3.6e6)) kWh/token; recorded as run \(e.runID) (wattprint show \(e.runID))")
        }

        func render(_ r: BenchResult) {
            let o = r.options, c = o.config
            print("sgemm peak   \(QuantityFormat.fixed(r.sgemmPeakGFLOPs, 1)) GFLOP/s (best single rep; \(r.blasThreads) OpenBLAS threads, \(r.kernelWorkers) kernel workers)")
            for s in r.sgemmShapes {
                print("  \(s.m)×\(s.n)×\(s.k): best \(QuantityFormat.fixed(s.bestGFLOPs, 1)), median \(QuantityFormat.fixed(s.medianGFLOPs, 1)) GFLOP/s")
            }
            print("model        \(c.layers) layers × \(c.channels), \(c.heads) heads, vocab \(c.vocabularySize), context \(c.maxSequence): \(QuantityFormat.grouped(r.parameterCount)) parameters")
            let shape = o.phase == .decode ? "B \(o.batch), prompt \(o.sequence)" : "B×T \(o.batch)×\(o.sequence)"
            print("phase        \(o.phase.rawValue), \(shape), \(r.stepSeconds.count) timed steps: median \(QuantityFormat.fixed(r.medianStepSeconds * 1000, 2)) ms/step (all: \(r.stepSeconds.map { QuantityFormat.fixed($0 * 1000, 1) }.joined(separator: ", ")))")
            print("throughput   \(QuantityFormat.fixed(r.tokensPerSecond, 1)) tokens/s, \(QuantityFormat.fixed(r.achievedGFLOPs, 1)) GFLOP/s, MFU \(QuantityFormat.fixed(r.modelFLOPsUtilization * 100, 1)) % (\(QuantityFormat.flops(r.flopsPerStep))/step)")
            if let loss = r.lastLoss { print("loss         \(QuantityFormat.fixed(Double(loss), 4)) (random data)") }
            var memory = "peak RSS     \(QuantityFormat.bytes(Double(r.peakResidentBytes)))"
            if let state = r.optimizerStateBytes, let activations = r.activationBytes {
                memory += " (params + grads + AdamW m, v = \(QuantityFormat.bytes(Double(state))); activations + scratch = \(QuantityFormat.bytes(Double(activations))))"
            }
            print(memory)
            if let bandwidth = r.readBandwidthBytesPerSecond, let weights = r.weightBytesPerStep, let cache = r.cacheBytesPerStep,
               let bound = r.bandwidthBoundTokensPerSecond, let fraction = r.fractionOfBandwidthBound {
                print("bandwidth    \(QuantityFormat.fixed(bandwidth / 1e9, 1)) GB/s streaming read; \(QuantityFormat.fixed(weights / 1e6, 1)) MB weights + \(QuantityFormat.fixed(cache / 1e6, 2)) MB KV per step")
                print("decode bound \(QuantityFormat.fixed(bound, 1)) tokens/s; achieved \(QuantityFormat.fixed(fraction * 100, 1)) % of the bandwidth bound")
            }
        }
    }
}
