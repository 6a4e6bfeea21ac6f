import ArgumentParser
import Engine
import Measures

extension ModelCommand {
    /// `model generate CKPT --prompt …`: KV-cached sampling.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate text from a checkpoint (a KV cache, or a recurrent model's state).",
            discussion:
                "Example:\n  wattprint model generate small.safetensors --prompt \"The \" --max-tokens 80 --temperature 0.8 --top-k 40 --seed 1"
        )

        @OptionGroup var checkpointFile: CheckpointOptions

        @Option(help: "Prompt text; repeat the option to generate a batch.")
        var prompt: [String] = []

        @Option(help: "Tokens to generate per prompt.")
        var maxTokens = 64

        @Option(help: "Sampling temperature; 0 is greedy.")
        var temperature: Float = 0.8

        @Option(help: "Keep only the k most likely tokens.")
        var topK: Int?

        @Option(help: "Keep the smallest set of tokens whose probability reaches p.")
        var topP: Float?

        @Option(help: "Random seed (prompt i uses seed + i).")
        var seed: UInt64 = 0

        @Option(help: "Stop when the output ends with this text (repeatable).")
        var stop: [String] = []

        @OptionGroup var tokenizer: TokenizerOptions
        @OptionGroup var threads: ThreadOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if prompt.isEmpty { throw ValidationError("pass at least one --prompt") }
            if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
            if temperature < 0 { throw ValidationError("--temperature must be ≥ 0") }
            if let topK, topK < 1 { throw ValidationError("--top-k must be ≥ 1") }
            if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        }

        struct Sample: Encodable {
            let prompt: String
            let completion: String
            let tokens: Int
            let stopReason: StopReason
        }

        struct Report: Encodable {
            let checkpoint: String
            let samples: [Sample]
            let stats: GenerationStats
            let prefillSeconds: Double
            let decodeSeconds: Double
            let decodeTokensPerSecond: Double
        }

        func run() throws {
            try threads.apply()
            let (model, info) = try checkpointFile.loadDecoder()
            let tok = try tokenizer.resolve(checkpoint: checkpointFile.checkpoint, info: info)
            var prompts = prompt.map { text -> [Int32] in
                let ids = tok.encode(text)
                if !ids.isEmpty { return ids }
                return [tok.endOfText ?? tok.encode("\n")[0]]
            }
            // A T5 source ends with </s>, as its tokenizer writes it and span corruption trained it.
            if case let .t5(config) = info.config { prompts = prompts.map { $0 + [Int32(config.endOfSequenceTokenID)] } }
            var stopTokens = Set<Int32>()
            if case let .t5(config) = info.config { stopTokens.insert(Int32(config.endOfSequenceTokenID)) }
            var stopSequences: [[Int32]] = []
            for text in stop {
                let ids = tok.encode(text)
                if ids.count == 1 { stopTokens.insert(ids[0]) } else if !ids.isEmpty { stopSequences.append(ids) }
            }
            let options = GenerationOptions(
                maxNewTokens: maxTokens,
                sampling: SamplingOptions(temperature: temperature, topK: topK, topP: topP),
                stopTokens: stopTokens, stopSequences: stopSequences, seed: seed)
            let generator = Generator(model: model, maxBatch: prompts.count, maxChunk: min(256, model.maxSequence))
            let start = ContinuousClock.now
            var prefillSeconds = 0.0
            let (outputs, stats) = try generator.generate(
                prompts: prompts, options: options, onPrefillDone: { prefillSeconds = secondsSince(start) })
            let decodeSeconds = secondsSince(start) - prefillSeconds
            let samples = zip(prompt, outputs).map {
                Sample(
                    prompt: $0, completion: SpecialTokens.render($1.tokens, tokenizer: tok, config: info.config), tokens: $1.tokens.count,
                    stopReason: $1.stopReason)
            }
            let report = Report(
                checkpoint: checkpointFile.checkpoint, samples: samples, stats: stats, prefillSeconds: prefillSeconds,
                decodeSeconds: decodeSeconds, decodeTokensPerSecond: Double(stats.generatedTokens) / max(decodeSeconds, 1e-9))
            if output.isJSON { return try output.emitJSON(report) }
            try output.write(samples.map { $0.prompt + $0.completion }.joined(separator: "\n---\n"))
            FileHandleOutput.standardError(
                "[\(stats.promptTokens) prompt tokens in \(QuantityFormat.fixed(prefillSeconds, 3)) s; \(stats.generatedTokens) generated in \(QuantityFormat.fixed(decodeSeconds, 3)) s, \(QuantityFormat.fixed(report.decodeTokensPerSecond, 1)) tokens/s]"
            )
        }
    }
}
