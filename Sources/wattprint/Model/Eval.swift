import ArgumentParser
import Engine
import Measures

extension ModelCommand {
    /// `model eval CKPT --corpus FILE | --tokens FILE`: mean cross-entropy and perplexity.
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mean cross-entropy and perplexity of a checkpoint on a text or token file.",
            discussion:
                "Examples:\n  wattprint model eval small.safetensors --corpus /usr/share/games/fortunes/literature\n  wattprint model eval gpt2.safetensors --tokens val.bin --dtype u16 --vocab vocab.json --merges merges.txt"
        )

        @OptionGroup var checkpointFile: CheckpointOptions

        @Option(help: "Text file or directory, tokenised with the checkpoint's tokenizer.")
        var corpus: String?

        @Option(help: "Token file: raw little-endian ids (see --dtype) or a 1-D .npy array.")
        var tokens: String?

        @Option(help: "Element type of a raw token file: u16 or u32.")
        var dtype: TokenDType = .u16

        @Option(help: "Window length (default: the model's context, at most 1024).")
        var seq: Int?

        @Option(help: "Windows per forward pass.")
        var batch = 4

        @Option(help: "Stop after this many batches (default: the whole file).")
        var maxBatches: Int?

        @Option(help: "Evaluate with the weights stored in fp32, bf16 or int8 (GPT-2, dense Llama), to see what the precision costs.")
        var precision: WeightPrecision = .fp32

        @OptionGroup var tokenizer: TokenizerOptions
        @OptionGroup var threads: ThreadOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if (corpus == nil) == (tokens == nil) {
                throw ValidationError("pass exactly one of --corpus TEXT_FILE or --tokens TOKEN_FILE")
            }
            if batch < 1 { throw ValidationError("--batch must be at least 1") }
        }

        struct Report: Encodable {
            let checkpoint: String
            let source: String
            let tokens: Int
            let loss: Float
            let perplexity: Float
            /// Masked-token or span accuracy, where the objective reports it.
            let accuracy: Float?
            /// A VAE's reconstruction loss and ELBO per token (its `loss` is the negative ELBO).
            let reconstruction: Float?
            let evidenceLowerBound: Float?
            let objective: String
            let seconds: Double
            let tokensPerSecond: Double
            let forwardFLOPs: Double
        }

        func run() throws {
            try threads.apply()
            let (model, info) = try checkpointFile.loadTrainable()
            if precision != .fp32 {
                // The quality of the stored weights: evaluation computes with the values they stand for.
                guard let quantizable = model as? any QuantizableModel else {
                    throw ModelCommandError(
                        "--precision \(precision.rawValue) applies to GPT-2 and dense Llama checkpoints, not \(info.config.architecture.rawValue)",
                        fix: "drop --precision")
                }
                try quantizable.quantize(precision)
            }
            let ids: [Int32]
            if let corpus {
                let text = try Corpus.load(path: corpus)
                ids = try tokenizer.resolve(checkpoint: checkpointFile.checkpoint, info: info).encode(bytes: text.bytes)
            } else {
                ids = try TokenFile.load(path: tokens!, dtype: dtype)
            }
            let T = seq ?? min(model.maxSequence, 1024)
            guard T >= 1, T <= model.maxSequence else {
                throw ModelCommandError(
                    "--seq \(T) is outside 1…\(model.maxSequence)", fix: "use a window no longer than the model's context")
            }
            let start = ContinuousClock.now
            let report = try Evaluation.run(model: model, tokens: ids, B: batch, T: T, maxBatches: maxBatches)
            let seconds = secondsSince(start)
            let flops = report.forwardFLOPs
            let out = Report(
                checkpoint: checkpointFile.checkpoint, source: corpus ?? tokens!, tokens: report.tokens, loss: report.loss,
                perplexity: report.perplexity, accuracy: report.accuracy, reconstruction: report.reconstruction,
                evidenceLowerBound: report.evidenceLowerBound, objective: model.configuration.objective.name, seconds: seconds,
                tokensPerSecond: Double(report.tokens) / seconds,
                forwardFLOPs: flops)
            if output.isJSON { return try output.emitJSON(out) }
            var lines = ["evaluated \(report.tokens) scored tokens of \(out.source) in windows of \(T) (\(out.objective))"]
            if let accuracy = report.accuracy { lines.append("accuracy \(QuantityFormat.fixed(Double(accuracy) * 100, 2)) %") }
            lines.append(
                "loss \(QuantityFormat.fixed(Double(report.loss), 4)) nats/token, perplexity \(QuantityFormat.fixed(Double(report.perplexity), 3))"
            )
            if let reconstruction = report.reconstruction, let elbo = report.evidenceLowerBound {
                lines.append(
                    "reconstruction \(QuantityFormat.fixed(Double(reconstruction), 4)) nats/token, ELBO \(QuantityFormat.fixed(Double(elbo), 4)) nats/token"
                )
            }
            lines.append(
                "\(QuantityFormat.fixed(seconds, 2)) s, \(QuantityFormat.fixed(out.tokensPerSecond, 1)) tokens/s, \(QuantityFormat.flops(flops))"
            )
            try output.write(lines.joined(separator: "\n"))
        }
    }
}
