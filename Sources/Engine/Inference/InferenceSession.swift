// Legend: S sequences (batch slots), M rows processed in one call, Vp padded vocabulary.

/// KV-cached inference for any `DecodingModel`: prefill prompts in chunks, then decode one token per sequence per step.
///
/// The model's `DecodeState` (its cache and scratch for `maxChunk` rows) is allocated once. Only the last row of each
/// sequence gets logits. Where the CPU has AVX-512F, a GPT-2's or Llama's block matrices are packed for the engine's
/// fp32 kernel on their second call with `WeightPanels.minimumRows` rows or more (the second chunk or prompt of a
/// prefill; a second copy, 4 bytes a weight, in `stateBytes`), and one-row products (decoding) read a copy of each
/// matrix not already stored as output-major rows of at most 1,024 inputs, laid out that way on its first such call
/// (`DecodeRows`: GPT-2's block matrices, Llama's down projection at 124M; also in `stateBytes`). So a session assumes its model's weights do not
/// change: make a new one after training. `executedFLOPs` accumulates the configuration's `forwardFLOPs` for the work done.
public final class InferenceSession {
    public let model: any DecodingModel
    public let maxBatch: Int
    public let maxChunk: Int
    /// Tokens held in each sequence's cache.
    public private(set) var lengths: [Int]
    /// FLOPs executed since creation, by the configuration's formula.
    public private(set) var executedFLOPs: Double = 0
    /// Tokens the router sent to each expert over every call so far, summed over layers (nil without experts).
    public private(set) var expertLoad: [Int]?
    /// (layer, expert) pairs whose weights each call so far read, in call order (empty without experts).
    public private(set) var expertsReadPerCall: [Int] = []
    private let state: any DecodeState
    private let configuration: any ModelConfiguration

    /// - Parameter packingCall: the many-row call on which each matrix is packed (`WeightPanels`): 2 by default, so one
    ///   prompt followed by decoding packs nothing; 1 where every call is a prefill (a prefill benchmark).
    public init(model: any DecodingModel, maxBatch: Int = 1, maxChunk: Int = 256, packingCall: Int = 2) {
        precondition(maxBatch >= 1 && maxChunk >= 1)
        self.model = model
        self.maxBatch = maxBatch
        self.maxChunk = maxChunk
        configuration = model.configuration
        lengths = [Int](repeating: 0, count: maxBatch)
        hasSource = [Bool](repeating: false, count: maxBatch)
        state = model.makeDecodeState(maxBatch: maxBatch, maxChunk: maxChunk)
        (state as? any PackingDecodeState)?.panels.packingCall = packingCall
    }

    /// Bytes of the cache, scratch and packed weights.
    public var stateBytes: Int { state.bytes }

    /// Bytes of the weight copies laid out in rows that one-row products (decoding) read (`DecodeRows`; part of
    /// `stateBytes`): 0 before the first such product, for a model without them, or with `WATTPRINT_DECODE_LAYOUT=stored`.
    public var decodeCopyBytes: Int { (state as? any PackingDecodeState)?.rows.bytes ?? 0 }

    /// Empties every sequence's cache.
    public func reset() { for s in 0..<maxBatch { lengths[s] = 0 } }

    /// Appends `tokens` to sequence `sequence` and returns the logits (V entries) after its last token.
    /// Long prompts run in chunks of `maxChunk` rows.
    /// - Throws: `promptTooLong` when the sequence would exceed the model's context; `tokenOutOfRange`.
    public func prefill(sequence: Int, tokens: [Int32]) throws -> UnsafeBufferPointer<Float> {
        precondition(sequence >= 0 && sequence < maxBatch)
        guard !tokens.isEmpty else {
            throw EngineError.invalidArgument("prompt is empty", fix: "pass at least one token (e.g. a newline or <|endoftext|>)")
        }
        try checkFits(sequence: sequence, adding: tokens.count)
        try checkTokens(tokens)
        try checkSource(sequence)
        var offset = 0
        while offset < tokens.count {
            let n = min(maxChunk, tokens.count - offset)
            for i in 0..<n {
                state.rowTokens[i] = tokens[offset + i]
                state.rowPositions[i] = Int32(lengths[sequence] + i)
            }
            run([DecodeSegment(sequence: sequence, start: lengths[sequence], count: n, firstRow: 0)])
            lengths[sequence] += n
            offset += n
        }
        return logits(at: 0)
    }

    /// Feeds one token to each listed sequence (distinct sequences); afterwards `logits(at: i)` holds
    /// the next-token logits for `steps[i]`.
    /// - Throws: `promptTooLong` when a sequence is full; `tokenOutOfRange`.
    public func decode(_ steps: [(sequence: Int, token: Int32)]) throws {
        precondition(steps.count <= maxBatch && !steps.isEmpty)
        // Two steps for one sequence would write the same cache slot and leave a hole the next step attends to.
        guard Set(steps.map(\.sequence)).count == steps.count else {
            throw EngineError.invalidArgument(
                "decode was given the same sequence twice in one step", fix: "pass each sequence at most once per decode call")
        }
        try checkTokens(steps.map(\.token))
        var segments: [DecodeSegment] = []
        for (row, step) in steps.enumerated() {
            try checkFits(sequence: step.sequence, adding: 1)
            try checkSource(step.sequence)
            state.rowTokens[row] = step.token
            state.rowPositions[row] = Int32(lengths[step.sequence])
            segments.append(DecodeSegment(sequence: step.sequence, start: lengths[step.sequence], count: 1, firstRow: row))
        }
        run(segments)
        for step in steps { lengths[step.sequence] += 1 }
    }

    /// Logits (the V real entries) of the `index`-th sequence of the last call.
    public func logits(at index: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(
            start: state.logits.baseAddress! + index * configuration.paddedVocabularySize, count: configuration.vocabularySize)
    }

    /// Encodes `tokens` as the source of `sequence` (an encoder–decoder) and empties its decoder cache; the next
    /// `prefill` gives the decoder's prompt (its start token first).
    /// - Throws: `invalidArgument` for a model without an encoder; the model's `setSource` errors.
    public func setSource(sequence: Int, tokens: [Int32]) throws {
        precondition(sequence >= 0 && sequence < maxBatch)
        guard let model = model as? any EncoderDecoderModel else {
            throw EngineError.invalidArgument(
                "\(configuration.architecture.rawValue) is a decoder without an encoder: it takes no source",
                fix: "prefill the prompt instead")
        }
        try checkTokens(tokens)
        try model.setSource(tokens, sequence: sequence, state: state)
        executedFLOPs += model.sourceFLOPs(tokens: tokens.count)
        lengths[sequence] = 0
        hasSource[sequence] = true
    }

    /// Whether each slot has a source (encoder–decoders only).
    private var hasSource: [Bool]

    private func checkSource(_ sequence: Int) throws {
        guard model is any EncoderDecoderModel, !hasSource[sequence] else { return }
        throw EngineError.invalidArgument(
            "sequence \(sequence) has no source: an encoder–decoder decodes against an encoded source",
            fix: "call setSource(sequence:tokens:) first (the CLI's prompt is the source)")
    }

    private func run(_ segments: [DecodeSegment]) {
        model.decode(segments, state: state)
        if let load = model.expertLoad {
            expertLoad = zip(expertLoad ?? load.map { _ in 0 }, load).map { $0 + $1 }
        }
        if let read = model.expertsRead { expertsReadPerCall.append(read) }
        for segment in segments { executedFLOPs += model.forwardFLOPs(segment, state: state) }
    }

    private func checkFits(sequence: Int, adding n: Int) throws {
        let limit = configuration.maxSequence
        guard lengths[sequence] + n <= limit else {
            throw EngineError(
                .promptTooLong, "sequence would hold \(lengths[sequence] + n) tokens but the model's context is \(limit)",
                fix: "shorten the prompt or lower --max-tokens so prompt + output ≤ \(limit)")
        }
    }

    private func checkTokens(_ tokens: [Int32]) throws {
        let V = Int32(configuration.vocabularySize)
        if let bad = tokens.first(where: { $0 < 0 || $0 >= V }) {
            throw EngineError(
                .tokenOutOfRange, "token id \(bad) is outside the model's vocabulary 0..<\(V)",
                fix: "use the tokenizer the checkpoint was trained with")
        }
    }
}
