/// Options for `Generator.generate`.
public struct GenerationOptions: Sendable {
    public var maxNewTokens: Int
    public var sampling: SamplingOptions
    /// Generation of a sequence ends when it samples one of these (the stop token is not returned).
    public var stopTokens: Set<Int32>
    /// Generation ends when the output ends with one of these id sequences (removed from the output).
    public var stopSequences: [[Int32]]
    /// Sequence i samples with seed `seed &+ i`, so a batch reproduces its single-prompt runs.
    public var seed: UInt64

    public init(
        maxNewTokens: Int, sampling: SamplingOptions = SamplingOptions(), stopTokens: Set<Int32> = [],
        stopSequences: [[Int32]] = [], seed: UInt64 = 0
    ) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stopTokens = stopTokens
        self.stopSequences = stopSequences
        self.seed = seed
    }
}

/// Why a sequence stopped.
public enum StopReason: String, Codable, Sendable {
    case maxTokens, stopToken, stopSequence, contextFull
}

/// One prompt's output.
public struct GenerationOutput: Codable, Sendable {
    public var tokens: [Int32]
    public var stopReason: StopReason
}

/// Counters of one `generate` call, for energy-per-token accounting.
public struct GenerationStats: Codable, Sendable {
    public var promptTokens: Int
    public var generatedTokens: Int
    public var prefillFLOPs: Double
    public var decodeFLOPs: Double
}

/// Batched autoregressive generation over an `InferenceSession`. An encoder–decoder's prompts are its sources, and
/// its outputs start after the decoder's start token.
public final class Generator {
    public let session: InferenceSession

    public init(model: any DecodingModel, maxBatch: Int = 1, maxChunk: Int = 256) {
        session = InferenceSession(model: model, maxBatch: maxBatch, maxChunk: maxChunk)
    }

    /// Generates up to `options.maxNewTokens` tokens after each prompt; all active sequences decode
    /// together, one sgemm per layer matmul (sgemv when one sequence is left).
    /// `onToken(sequence, token)` is called for each kept token, and `onPhase` when prefill ends.
    /// - Throws: `promptTooLong` (prompt ≥ context), `invalidArgument` (empty prompt, too many prompts), `tokenOutOfRange`.
    public func generate(
        prompts: [[Int32]], options: GenerationOptions,
        onPrefillDone: (() -> Void)? = nil,
        onToken: ((Int, Int32) -> Void)? = nil
    ) throws -> (outputs: [GenerationOutput], stats: GenerationStats) {
        guard prompts.count <= session.maxBatch, !prompts.isEmpty else {
            throw EngineError.invalidArgument(
                "\(prompts.count) prompts for a session of batch \(session.maxBatch)",
                fix: "pass between 1 and \(session.maxBatch) prompts")
        }
        guard options.maxNewTokens > 0 else {
            throw EngineError.invalidArgument("max new tokens \(options.maxNewTokens) asks for no output", fix: "ask for 1 or more tokens")
        }
        let context = session.model.configuration.maxSequence
        // A decoder's prompt shares the context with the output; an encoder–decoder's prompt is its source, apart.
        let promptLimit = session.model is any EncoderDecoderModel ? context : context - 1
        for prompt in prompts where prompt.count > promptLimit {
            throw EngineError(
                .promptTooLong, "prompt has \(prompt.count) tokens but the model's context is \(context)",
                fix: "shorten the prompt to at most \(promptLimit) tokens")
        }
        session.reset()
        var samplers = prompts.indices.map { TokenSampler(seed: options.seed &+ UInt64($0)) }
        var outputs = prompts.map { _ in GenerationOutput(tokens: [], stopReason: .maxTokens) }
        var next = [Int32](repeating: 0, count: prompts.count)
        var active: [Int] = []
        let flopsBefore = session.executedFLOPs
        for (s, prompt) in prompts.enumerated() {
            let logits: UnsafeBufferPointer<Float>
            if let encoderDecoder = session.model as? any EncoderDecoderModel {
                // The prompt is the source; the decoder starts from its start token.
                try session.setSource(sequence: s, tokens: prompt)
                logits = try session.prefill(sequence: s, tokens: [encoderDecoder.decoderStartToken])
            } else {
                logits = try session.prefill(sequence: s, tokens: prompt)
            }
            next[s] = samplers[s].sample(logits: logits, options: options.sampling)
            active.append(s)
        }
        let prefillFLOPs = session.executedFLOPs - flopsBefore
        onPrefillDone?()
        var generated = 0
        var step = 0
        while !active.isEmpty {
            var stillActive: [Int] = []
            for s in active {
                let token = next[s]
                if options.stopTokens.contains(token) {
                    outputs[s].stopReason = .stopToken
                    continue
                }
                outputs[s].tokens.append(token)
                generated += 1
                if let stop = options.stopSequences.first(where: { !$0.isEmpty && outputs[s].tokens.suffix($0.count).elementsEqual($0) }) {
                    outputs[s].tokens.removeLast(stop.count)
                    outputs[s].stopReason = .stopSequence
                    continue
                }
                onToken?(s, token)
                if outputs[s].tokens.count >= options.maxNewTokens { continue }
                if session.lengths[s] >= context {
                    outputs[s].stopReason = .contextFull
                    continue
                }
                stillActive.append(s)
            }
            active = stillActive
            guard !active.isEmpty else { break }
            try session.decode(active.map { (sequence: $0, token: next[$0]) })
            for (i, s) in active.enumerated() {
                next[s] = samplers[s].sample(logits: session.logits(at: i), options: options.sampling)
            }
            step += 1
        }
        let stats = GenerationStats(
            promptTokens: prompts.reduce(0) { $0 + $1.count }, generatedTokens: generated,
            prefillFLOPs: prefillFLOPs, decodeFLOPs: session.executedFLOPs - flopsBefore - prefillFLOPs)
        return (outputs, stats)
    }
}
