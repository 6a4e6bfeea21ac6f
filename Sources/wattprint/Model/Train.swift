import Accounting
import ArgumentParser
import Crypto
import Engine
import Foundation
import Measures

extension ModelCommand {
    /// `model train`: train a model of any architecture from scratch on a text corpus and save a checkpoint.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train any of the engine's architectures from scratch on a text corpus (\(Architecture.list)).",
            discussion:
                "Options may also come from a SPEC json file with the same names (corpus, out, tokenizer, architecture, layers, width, heads, kvHeads, hidden, experts, expertsPerToken, latent, headSize, context, seq, batch, steps, lr, warmup, accumulation, weightDecay, clip, evalInterval, evalBatches, seed, dropout); flags override it.\n\nTraining is recorded in the ledger as a run (corpus SHA-256, each step's loss and tokens, evaluations), so `wattprint show N` gives its J/token.\n\nExamples:\n  wattprint model train Workloads/train/gpt2.json --region FR\n  wattprint model train --corpus /usr/share/games/fortunes --layers 4 --width 128 --heads 4 --steps 300 --out small.safetensors\n  wattprint model train --corpus /usr/share/games/fortunes --arch moe --experts 4 --steps 100"
        )

        @Argument(help: "Optional SPEC json file.")
        var spec: String?

        @Option(help: "Text file or directory (e.g. /usr/share/games/fortunes).")
        var corpus: String?
        @Option(help: "Tokenizer: byte (default) or gpt2 (needs --vocab and --merges).")
        var tokenizerKind: String?
        @OptionGroup var shape: ModelShapeOptions
        @Option(help: "Model context (default: --seq).") var context: Int?
        @Option(help: "Training sequence length.") var seq: Int?
        @Option(help: "Sequences per micro-batch.") var batch: Int?
        @Option(help: "Optimizer steps.") var steps: Int?
        @Option(help: "Peak learning rate.") var lr: Float?
        @Option(help: "Warmup steps.") var warmup: Int?
        @Option(help: "Micro-batches per optimizer step.") var accumulation: Int?
        @Option(help: "AdamW decoupled weight decay.") var weightDecay: Float?
        @Option(help: "Global gradient-norm clip (0: off).") var clip: Float?
        @Option(help: "Evaluate every N steps (0: at the end only).") var evalInterval: Int?
        @Option(help: "Validation batches per evaluation.") var evalBatches: Int?
        @Option(help: "Seed for initialisation and batch sampling.") var seed: UInt64?
        @Option(
            help:
                "Dropout while training (default 0: off): GPT-2's embeddings and residual branches, between recurrent layers (rnn, lstm, gru); the others refuse it."
        ) var dropout: Float?
        @Option(help: "Write the trained checkpoint here (.safetensors).") var out: String?
        @Option(
            help:
                "Start from this checkpoint's weights instead of a fresh model (fine-tuning, e.g. after `model prune`); its shape and tokenizer come with it, so shape flags are refused."
        ) var initial: String?

        @OptionGroup var tokenizer: TokenizerOptions
        @OptionGroup var threads: ThreadOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var regionOption: RegionOption

        /// The SPEC file's keys: the flag names above (`architecture` for --arch); any other key is refused.
        struct Spec: Decodable {
            static let keys: Set<String> = [
                "corpus", "out", "tokenizer", "architecture", "layers", "width", "heads", "kvHeads", "hidden", "experts", "expertsPerToken",
                "latent", "headSize",
                "context", "seq", "batch", "steps", "warmup", "accumulation", "evalInterval", "evalBatches", "lr", "weightDecay", "clip",
                "dropout", "seed",
            ]

            /// - Throws: `ModelCommandError` naming an unknown key, an unknown architecture or a value of the wrong type.
            static func read(_ data: Data, path: String) throws -> Spec {
                guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                    throw ModelCommandError(
                        "spec '\(path)' is not a JSON object", fix: "write it like {\"corpus\": \"text.txt\", \"layers\": 4}")
                }
                if let unknown = object.keys.filter({ !keys.contains($0) }).sorted().first {
                    throw ModelCommandError(
                        "spec '\(path)' has an unknown key '\(unknown)'",
                        fix: "use the flag names: \(keys.sorted().joined(separator: ", "))")
                }
                if let arch = object["architecture"], Architecture(rawValue: "\(arch)") == nil {
                    throw ModelCommandError(
                        "spec '\(path)' names an unknown architecture '\(arch)'", fix: "use one of \(Architecture.list)")
                }
                do { return try JSONDecoder().decode(Spec.self, from: data) } catch let DecodingError.typeMismatch(_, context) {
                    throw ModelCommandError(
                        "spec '\(path)': '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type",
                        fix: "give numbers for sizes and rates and strings for paths")
                } catch {
                    throw ModelCommandError("spec '\(path)' could not be read (\(error))", fix: "compare it with Workloads/train/gpt2.json")
                }
            }

            var corpus, out, tokenizer: String?
            var architecture: Architecture?
            var layers, width, heads, kvHeads, hidden, experts, expertsPerToken, latent, headSize: Int?
            var context, seq, batch, steps, warmup, accumulation, evalInterval, evalBatches: Int?
            var lr, weightDecay, clip, dropout: Float?
            var seed: UInt64?
        }

        struct Report: Encodable {
            let config: AnyModelConfiguration
            let options: TrainingOptions
            let corpusBytes: Int
            let trainTokens: Int
            let validationTokens: Int
            let steps: [TrainingStepReport]
            let evaluations: [EvaluationReport]
            let seconds: Double
            let tokensPerSecond: Double
            let checkpoint: String?
            let corpusSHA256: String
            let runID: Int64
        }

        func run() throws {
            var file = Spec()
            if let spec {
                guard let data = FileManager.default.contents(atPath: spec) else {
                    throw ModelCommandError("cannot read spec '\(spec)'", fix: "check the path")
                }
                file = try Spec.read(data, path: spec)
            }
            guard let corpusPath = corpus ?? file.corpus else {
                throw ModelCommandError(
                    "no corpus given", fix: "pass --corpus FILE (e.g. /usr/share/games/fortunes) or set \"corpus\" in the spec")
            }
            try threads.apply()
            var loaded: (model: any TrainableModel, info: CheckpointInfo)?
            if let initial {
                guard shape.shape == ModelShape(architecture: shape.architecture), context == nil else {
                    throw ModelCommandError(
                        "--initial \(initial) brings its own shape", fix: "drop the shape flags (--layers, --width, … and --context)")
                }
                let (model, info) = try Checkpoint.load(path: initial)
                guard let trainable = model as? any TrainableModel else {
                    throw ModelCommandError("--initial \(initial) holds a GAN", fix: "train a GAN from scratch")
                }
                if let architecture = shape.architecture, architecture != info.config.architecture {
                    throw ModelCommandError(
                        "--initial \(initial) holds a \(info.config.architecture.rawValue) model, not --arch \(architecture.rawValue)",
                        fix: "pass --arch \(info.config.architecture.rawValue) or drop --arch")
                }
                loaded = (trainable, info)
            }
            let kind = loaded?.info.tokenizer ?? tokenizerKind ?? file.tokenizer ?? "byte"
            if let loaded, let asked = tokenizerKind ?? file.tokenizer, asked != (loaded.info.tokenizer ?? asked) {
                throw ModelCommandError(
                    "--initial \(initial!) was trained with the \(loaded.info.tokenizer!) tokenizer, not \(asked)",
                    fix: "drop --tokenizer-kind; a checkpoint's tokenizer comes with it")
            }
            let tok: Tokenizer
            if let loaded, let initial {
                tok = try tokenizer.resolve(checkpoint: initial, info: loaded.info)
            } else {
                switch kind {
                case "byte": tok = ByteTokenizer()
                case "gpt2":
                    guard let vocab = tokenizer.vocab, let merges = tokenizer.merges else {
                        throw ModelCommandError("--tokenizer-kind gpt2 needs BPE files", fix: "pass --vocab vocab.json --merges merges.txt")
                    }
                    tok = try GPT2Tokenizer(vocabularyPath: vocab, mergesPath: merges)
                default:
                    throw ModelCommandError("unknown tokenizer '\(kind)'", fix: "use byte or gpt2")
                }
            }
            let architecture = shape.architecture ?? file.architecture
            // A GAN starts from DCGAN's optimiser settings (AdversarialTrainer.defaultOptions) unless flags say otherwise.
            var options = architecture == .gan ? AdversarialTrainer.defaultOptions : TrainingOptions()
            options.sequence = seq ?? file.seq ?? 64
            options.batch = batch ?? file.batch ?? 8
            options.steps = steps ?? file.steps ?? 200
            options.learningRate = lr ?? file.lr ?? (architecture == .gan ? options.learningRate : 1e-3)
            options.warmupSteps = warmup ?? file.warmup ?? max(1, options.steps / 20)
            options.accumulationSteps = accumulation ?? file.accumulation ?? 1
            options.adamW.weightDecay = weightDecay ?? file.weightDecay ?? (architecture == .gan ? 0 : 0.1)
            options.gradientClip = clip ?? file.clip ?? 1
            options.evaluationInterval = evalInterval ?? file.evalInterval ?? 0
            options.evaluationBatches = evalBatches ?? file.evalBatches ?? 8
            options.seed = seed ?? file.seed ?? 1337
            options.dropout = dropout ?? file.dropout ?? 0
            let fromFile = ModelShape(
                architecture: file.architecture, layers: file.layers, width: file.width, heads: file.heads, kvHeads: file.kvHeads,
                hidden: file.hidden, experts: file.experts, expertsPerToken: file.expertsPerToken, latent: file.latent,
                headSize: file.headSize)
            let config =
                try loaded?.info.config
                ?? shape.shape.over(fromFile).configuration(
                    vocabularySize: tok.vocabularySize, maxSequence: context ?? file.context ?? options.sequence)
            let described = config.configuration
            if ![.gpt2, .rnn, .lstm, .gru].contains(described.architecture) && options.dropout > 0 {
                throw ModelCommandError(
                    "--dropout \(options.dropout): \(described.architecture.rawValue) trains without dropout (the engine applies it to GPT-2 and the recurrent models)",
                    fix: "train it with --dropout 0")
            }
            let text = try Corpus.load(path: corpusPath)
            let split = try TokenSplit(tokens: tok.encode(bytes: text.bytes), window: options.sequence)
            let trainer: any TrainingLoop =
                config.isAdversarial
                ? try AdversarialTrainer(model: config.makeAdversarialModel(seed: options.seed), data: split, options: options)
                : try Trainer(model: loaded?.model ?? config.makeModel(seed: options.seed), data: split, options: options)
            // Training is recorded like any run: the corpus identity, every step's loss and tokens, evaluations.
            let corpusHash = SHA256.hash(data: Data(text.bytes)).map { String(format: "%02x", $0) }.joined()
            let measured = try MeasuredSession.ownWork(ledger: ledger, region: try regionOption.resolution())
            measured.record(.corpus(CorpusRecord(path: corpusPath, sha256: corpusHash, bytes: text.bytes.count, tokenizer: kind)))
            var workload = try WorkloadDescription(config)
            if let loaded, let initial {
                workload.origin = CheckpointOrigin(
                    path: initial, sha256: try fileSHA256(initial), pruning: try loaded.info.pruning.map { try JSONValue(encoding: $0) })
            }
            measured.record(.workload(workload))
            if !output.isJSON {
                print(
                    "corpus \(corpusPath): \(text.bytes.count) bytes, \(split.train.count) train / \(split.validation.count) val tokens (\(kind))"
                )
                var line =
                    "model \(described.architecture.rawValue), \(described.summary): \(QuantityFormat.grouped(described.parameterCount)) parameters"
                if described.activeParameterCount != described.parameterCount {
                    line += " (\(QuantityFormat.grouped(described.activeParameterCount)) active per token)"
                }
                print(line)
                switch described.objective {
                case is NextTokenObjective: break
                case is FrozenEmbeddingMeans:
                    print("objective adversarial (validation: both losses and the MMD² between real and generated vectors)")
                case is WindowReconstruction:
                    print(
                        "objective window reconstruction (loss per token, accuracy\(described.architecture == .vae ? ", reconstruction and ELBO" : ""))"
                    )
                default: print("objective \(described.objective.name) (loss and accuracy over the tokens it scores)")
                }
                if described.routedExpertsPerToken > 0 {
                    print("(training loss adds the router's load-balancing loss × its coefficient; validation loss is cross-entropy alone)")
                }
            }
            var steps: [TrainingStepReport] = []
            var evaluations: [EvaluationReport] = []
            let start = ContinuousClock.now
            var last = start
            do {
                try trainer.run(
                    onStep: { report in
                        steps.append(report)
                        measured.record(
                            .step(
                                StepRecord(
                                    index: report.step, tokens: report.tokens, flops: report.flops, loss: Double(report.loss),
                                    learningRate: Double(report.learningRate), gradientNorm: Double(report.gradientNorm))))
                        measured.record(.tokens(TokenCount(count: Double(report.tokens), phase: "train")))
                        let seconds = secondsSince(last)
                        last = ContinuousClock.now
                        if !output.isJSON {
                            print(
                                "step \(report.step)/\(options.steps) loss \(QuantityFormat.fixed(Double(report.loss), 4)) lr \(String(format: "%.2e", report.learningRate)) norm \(QuantityFormat.fixed(Double(report.gradientNorm), 3)) | \(QuantityFormat.fixed(seconds * 1000, 1)) ms, \(QuantityFormat.fixed(Double(report.tokens) / seconds, 0)) tok/s"
                            )
                        }
                    },
                    onEvaluation: { report in
                        evaluations.append(report)
                        measured.record(
                            .evaluation(
                                EvaluationRecord(
                                    step: report.step, loss: Double(report.loss), tokens: report.tokens,
                                    accuracy: report.accuracy.map(Double.init), reconstruction: report.reconstruction.map(Double.init),
                                    discriminatorLoss: report.discriminatorLoss.map(Double.init), discrepancy: report.discrepancy)))
                        last = ContinuousClock.now
                        if !output.isJSON {
                            var line =
                                "val loss \(QuantityFormat.fixed(Double(report.loss), 4)) (perplexity \(QuantityFormat.fixed(Double(report.perplexity), 3))) at step \(report.step)"
                            if let accuracy = report.accuracy {
                                line += ", accuracy \(QuantityFormat.fixed(Double(accuracy) * 100, 1)) % of \(report.tokens) scored tokens"
                            }
                            if let discriminator = report.discriminatorLoss, let discrepancy = report.discrepancy {
                                line =
                                    "val generator loss \(QuantityFormat.fixed(Double(report.loss), 4)), discriminator \(QuantityFormat.fixed(Double(discriminator), 4)), MMD² \(String(format: "%.4g", discrepancy)) at step \(report.step)"
                            }
                            if let reconstruction = report.reconstruction, let elbo = report.evidenceLowerBound {
                                line +=
                                    "; reconstruction \(QuantityFormat.fixed(Double(reconstruction), 4)) nats/token, ELBO \(QuantityFormat.fixed(Double(elbo), 4))"
                            }
                            print(line)
                        }
                    })
            } catch {
                // The job ended, badly: a closed run with exit code 1, as `wattprint run` records a failing command.
                _ = try? measured.finish(status: .complete, exitCode: 1)
                throw error
            }
            try measured.finish()
            let seconds = secondsSince(start)
            if !output.isJSON {
                print("corpus sha256 \(corpusHash); recorded as run \(measured.runID): wattprint show \(measured.runID)")
            }
            if let path = out ?? file.out {
                // A model fine-tuned from a pruned checkpoint is still that pruned model: its file keeps the record.
                let pruning = try loaded?.info.pruning.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
                try trainer.save(path: path, tokenizer: tok.kind, metadata: pruning.map { [Checkpoint.pruningKey: $0] } ?? [:])
                if !output.isJSON { print("saved \(path)") }
            }
            let tokens = steps.reduce(0) { $0 + $1.tokens }
            if output.isJSON {
                try output.emitJSON(
                    Report(
                        config: config, options: options, corpusBytes: text.bytes.count, trainTokens: split.train.count,
                        validationTokens: split.validation.count, steps: steps, evaluations: evaluations, seconds: seconds,
                        tokensPerSecond: Double(tokens) / seconds, checkpoint: out ?? file.out,
                        corpusSHA256: corpusHash, runID: measured.runID))
            }
        }
    }
}
