/// A padded batch of token sequences for an encoder: B rows of T ids, `padding` 1 at pad positions (B·T), and, for
/// models with segments (BERT's token types), each position's segment (nil: all 0).
public struct EncoderInput: Sendable {
    public var tokens: [Int32]
    public var padding: [UInt8]
    public var segments: [Int32]?
    public var B: Int
    public var T: Int

    public init(tokens: [Int32], padding: [UInt8]? = nil, segments: [Int32]? = nil, B: Int, T: Int) {
        self.tokens = tokens; self.padding = padding ?? [UInt8](repeating: 0, count: tokens.count); self.segments = segments
        self.B = B; self.T = T
    }
}

/// What an encoder computes for a batch.
public struct EncoderOutput: Sendable {
    /// The last layer's states, [B, T, C] row-major (pad positions included; they attend but are not attended to).
    public var states: [Float]
    /// [B, C]: a sequence vector (BERT's pooler: tanh(W·state₀ + b)); nil where the model has none.
    public var pooled: [Float]?
    /// [B, T, V] masked-language-model logits, when asked for and the model has such a head.
    public var logits: [Float]?
}

/// A model that encodes padded batches of sequences into per-token states: BERT, and the encoder stack of an
/// encoder–decoder.
public protocol EncodingModel: ConfiguredModel {
    /// - Throws: `invalidArgument` for a shape beyond the context or mismatched lengths, `tokenOutOfRange`.
    func encode(_ input: EncoderInput, logits: Bool) throws -> EncoderOutput
}
