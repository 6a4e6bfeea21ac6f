import Accounting
import ArgumentParser
import Engine
import Foundation
import Measures
import Meters
import Reports

extension ModelCommand {
    /// `model bench`: throughput and MFU against this machine's measured sgemm peak and memory bandwidth.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure training, prefill or decode throughput, MFU and peak memory.",
            discussion:
                "Every bench is recorded in the ledger as a run: the timed steps are a measurement window whose energy gives J/token (measured where counters exist, else estimated, and labelled). \n\nExamples:\n  wattprint model bench --preset gpt2-124m --phase train --batch 4 --seq 64\n  wattprint model bench --preset gpt2-124m --phase decode --json\n\nMeasures the sgemm peak first (best single repetition of 5 over 1024³ and two model-shaped products, same OpenBLAS and thread count), then the workload; decode also measures streaming-read bandwidth. FLOPs follow FLOPCount: 24·L·C² + 4·L·C·T_ctx per token plus 2·V·C per logits row; training = 3× forward."
        )

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
                config = GPT2Config(
                    layers: layers, channels: width, heads: heads ?? max(1, width / 64),
                    vocabularySize: vocab ?? 50257, maxSequence: context ?? 1024)
            } else {
                if let vocab { config.vocabularySize = vocab }
                if let context { config.maxSequence = context }
            }
            let options = BenchOptions(
                config: config, phase: phase, batch: batch ?? (phase == .train ? 4 : 1),
                sequence: seq ?? (phase == .prefill ? 256 : 64), steps: steps ?? (phase == .decode ? 32 : 3),
                warmupSteps: warmup, threads: threads.threads ?? Parallel.hardwareThreads(), seed: seed)
            let measured = try MeasuredSession.ownWork(ledger: ledger, region: try regionOption.resolution())
            var window: WindowMeasurement?
            var tokens = 0
            let result: BenchResult
            do {
                result = try Benchmark.run(
                    options, clock: ContinuousClock(),
                    events: { event in
                        switch event {
                        case .status(let line):
                            if !output.isJSON { FileHandleOutput.standardError("… " + line) }
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
                _ = try? measured.finish(status: .complete, exitCode: 1)
                throw error
            }
            let record = BenchReport.Record(
                bench: result, energy: BenchReport.Energy(runID: measured.runID, window: window, tokens: tokens))
            measured.record(.benchmark(try JSONValue(encoding: record)))
            try measured.finish()
            try output.emit(BenchReport.build(record))
        }
    }
}
