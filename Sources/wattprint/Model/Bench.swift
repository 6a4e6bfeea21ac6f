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
                "Every bench is recorded in the ledger as a run: the timed steps are a measurement window whose energy gives J/token (measured where counters exist, else estimated, and labelled). \n\nExamples:\n  wattprint model bench --preset gpt2-124m --phase train --batch 4 --seq 64\n  wattprint model bench --preset gpt2-124m --phase decode --json\n  wattprint model bench --arch moe --phase train --batch 4 --seq 64\n  wattprint model bench --arch bert --phase train --batch 8 --seq 128\n  wattprint model bench --arch t5 --phase encode --batch 8 --seq 128\n\nPhases: train (the architecture's objective: next-token, BERT's masked tokens, T5's span corruption), encode (BERT; T5's encoder), prefill and decode (decoders; T5 after encoding a source of --seq tokens). Measures the sgemm peak (best single repetition of 5 over 1024³ and two model-shaped products, same OpenBLAS and thread count) and the FMA peak (independent vector multiply-add chains on every thread) before and after the workload, and reports MFU against both; decode also measures streaming-read bandwidth (best pass before and after the steps) and then times up to 16 more steps, outside the measurement window, each against the better of the probe passes read just before and after it, since a shared machine's bandwidth moves. Products of 16 rows or more multiply with the engine's AVX-512F kernel where the CPU has it: a prefill of GPT-2 and Llama on weights packed once per session, training's forward products, input gradients and weight gradients packing as they go (inputs wider than 4096 in slices that add up where the weights are input-major; weight gradients over up to 4096 rows, B·T); weight gradients added to an earlier micro-batch's, and output-major products over more than 4096 inputs, run OpenBLAS (WATTPRINT_MATMUL_KERNEL=sgemm: OpenBLAS for all). One-row products (decode at batch 1) read a copy, made on each matrix's first one-row product (the warm-up step), of each matrix not already stored as output-major rows of up to 1024 inputs (GPT-2's block matrices, Llama's down projection at 124M), laid out as such rows in blocks of at most 768 inputs: 4 bytes a weight more, within half the memory available (WATTPRINT_DECODE_LAYOUT=stored reads the weights as stored). FLOPs follow the architecture's formula (printed by `model info`; GPT-2: 24·L·C² + 4·L·C·T_ctx per token plus 2·V·C per logits row; a mixture counts only the experts a token uses); training = 3× forward."
        )

        enum Preset: String, ExpressibleByArgument, CaseIterable {
            case gpt2_124m = "gpt2-124m"
            case llama_124m = "llama-124m"
            case moe_124m = "moe-124m"
            case bert_base = "bert-base"
            case t5_115m = "t5-115m"
            case rnn_1024 = "rnn-1024"
            case lstm_1024 = "lstm-1024"
            case gru_1024 = "gru-1024"
            case ae_byte64 = "ae-byte64"
            case vae_byte64 = "vae-byte64"
            case gan_byte16 = "gan-byte16"

            var configuration: AnyModelConfiguration {
                switch self {
                case .gpt2_124m: return .gpt2(.gpt2Small)
                case .llama_124m: return .llama(.small)
                case .moe_124m: return .llama(.smallMixture)
                case .bert_base: return .bert(.base)
                case .t5_115m: return .t5(.small)
                case .rnn_1024, .lstm_1024, .gru_1024:
                    var c = RecurrentConfig.lstm1024
                    c.cell = self == .rnn_1024 ? .rnn : self == .gru_1024 ? .gru : .lstm
                    return .recurrent(c)
                case .ae_byte64, .vae_byte64:
                    return .autoencoder(
                        AutoencoderConfig(
                            variational: self == .vae_byte64, window: 64, embedding: 16, hidden: 1024, latent: 64, vocabularySize: 256))
                case .gan_byte16: return .gan(GANConfig(dimension: 16, noise: 16, hidden: 512, window: 16, vocabularySize: 256))
                }
            }
        }

        @Option(
            help:
                "Model preset: gpt2-124m (GPT-2 small), llama-124m (12 × 768, 12 heads, 4 KV heads, SwiGLU 2048, vocab 32000), moe-124m (the same with 8 experts of 1024, top-2: 124 M active), bert-base (12 × 768, 12 heads, 3072, vocab 30522: 110 M), t5-115m (T5 v1.1, 4+4 layers × 768, 12 heads, gated-GELU 2048, vocab 32128), rnn-1024, lstm-1024, gru-1024 (2 layers of 1024 over byte embeddings of 1024), ae-byte64, vae-byte64 (64-byte windows, embedding 16, hidden 1024, latent 64), gan-byte16 (16-wide vectors from 16-byte windows, noise 16, hidden 512). Default: the --arch's preset."
        )
        var preset: Preset?
        @OptionGroup var shape: ModelShapeOptions
        @Option(help: "Vocabulary (default: the preset's: 50257 GPT-2, 32000 Llama and MoE, 30522 BERT, 32128 T5, 256 RNNs).")
        var vocab: Int?
        @Option(help: "Model context (default 1024).") var context: Int?
        @Option(help: "What to measure: train, encode, prefill or decode.") var phase: BenchPhase = .train
        @Option(help: "Batch (default 4 for train, 1 otherwise).") var batch: Int?
        @Option(help: "Sequence length / prompt length (default 64 train, 256 prefill, 64 decode, 128 encode; T5: the source length).")
        var seq: Int?
        @Option(help: "Timed steps (default 3, or 32 decode steps).") var steps: Int?
        @Option(help: "Untimed warm-up steps.") var warmup = 1
        @Option(help: "Seed for weights and tokens.") var seed: UInt64 = 1
        @Option(
            help:
                "Weights for prefill and decode: fp32, bf16 or int8 (groups of 32 with a scale each, as llama.cpp's Q8_0); GPT-2 and dense Llama. Activations stay fp32, except inside the AVX-512 BF16 / VNNI dot products where the CPU has them (WATTPRINT_QUANT_KERNEL=2 avoids them)."
        ) var precision: WeightPrecision = .fp32
        @Option(
            help: ArgumentHelp(
                "Bytes the decode bandwidth probe streams (default 1 GiB; far larger than the last-level cache or it measures the cache).",
                visibility: .hidden))
        var bandwidthProbeBytes = 1 << 30

        @OptionGroup var threads: ThreadOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var regionOption: RegionOption

        func validate() throws {
            if let preset, let arch = shape.architecture, arch != preset.configuration.architecture {
                throw ValidationError(
                    "--preset \(preset.rawValue) is \(preset.configuration.architecture.rawValue), not --arch \(arch.rawValue); drop one of them, or pick the \(arch.rawValue) preset"
                )
            }
            guard bandwidthProbeBytes >= 1 << 20 else {
                throw ValidationError(
                    "--bandwidth-probe-bytes \(bandwidthProbeBytes) is under 1 MiB; give at least 1048576 (the default is 1 GiB)")
            }
        }

        /// The preset (given, or the architecture's), with any shape flags applied over it.
        func configuration() throws -> AnyModelConfiguration {
            let base: Preset
            switch (preset, shape.architecture ?? .gpt2) {
            case let (given?, _): base = given
            case (nil, .gpt2): base = .gpt2_124m
            case (nil, .llama): base = .llama_124m
            case (nil, .moe): base = .moe_124m
            case (nil, .bert): base = .bert_base
            case (nil, .t5): base = .t5_115m
            case (nil, .rnn): base = .rnn_1024
            case (nil, .lstm): base = .lstm_1024
            case (nil, .gru): base = .gru_1024
            case (nil, .ae): base = .ae_byte64
            case (nil, .vae): base = .vae_byte64
            case (nil, .gan): base = .gan_byte16
            }
            let start = base.configuration.configuration
            return try shape.shape.configuration(
                vocabularySize: vocab ?? start.vocabularySize, maxSequence: context ?? start.maxSequence, base: base.configuration)
        }

        func run() throws {
            let config = try configuration()
            let options = BenchOptions(
                config: config, phase: phase, batch: batch ?? (phase == .train ? 4 : 1),
                sequence: seq
                    ?? (config.architecture.readsFixedWindows
                        ? config.configuration.maxSequence : [.prefill: 256, .encode: 128][phase] ?? 64),
                steps: steps ?? (phase == .decode ? 32 : 3),
                warmupSteps: warmup, threads: threads.threads ?? Parallel.hardwareThreads(), seed: seed,
                bandwidthProbeBytes: bandwidthProbeBytes, precision: precision == .fp32 ? nil : precision)
            let measured = try MeasuredSession.ownWork(ledger: ledger, region: try regionOption.resolution())
            measured.record(.workload(try WorkloadDescription(config)))
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
                            measured.record(.phaseStart(PhaseMark(name: phase.rawValue)))
                        case let .stepFinished(index, seconds, stepTokens, flops):
                            tokens += stepTokens
                            measured.record(.step(StepRecord(index: index, seconds: seconds, tokens: stepTokens, flops: flops)))
                            measured.record(.tokens(TokenCount(count: Double(stepTokens), phase: phase.rawValue)))
                        case .workloadFinished:
                            window = try? measured.monitor?.end("workload")
                            measured.record(.phaseEnd(PhaseMark(name: phase.rawValue)))
                        }
                    })
            } catch {
                // The job ended, badly: a closed run with exit code 1, as `wattprint run` records a failing command.
                _ = try? measured.finish(status: .complete, exitCode: 1)
                throw error
            }
            var record = BenchReport.Record(
                bench: result, energy: BenchReport.Energy(runID: measured.runID, window: window, tokens: tokens))
            measured.record(.benchmark(try JSONValue(encoding: record)))
            try measured.finish()
            // The footprint as `wattprint show` computes it, from the closed run's samples and recorded settings. The run is
            // recorded already: if this fails, the measurement still prints, and `show` can retry the carbon.
            do {
                let footprint = try RunFootprint.compute(ledger: measured.ledger, run: measured.runID, data: try CarbonTables.load())
                record.carbon = BenchReport.Carbon(footprint: footprint, energy: record.energy)
            } catch {
                FileHandleOutput.standardError("carbon not computed (\(error)); the run is recorded: wattprint show \(measured.runID)")
            }
            // JSON goes to standard output: the loud warnings still reach the terminal.
            if output.isJSON { for warning in record.carbon?.warnings ?? [] { FileHandleOutput.standardError(warning) } }
            try output.emit(BenchReport.build(record))
        }
    }
}
