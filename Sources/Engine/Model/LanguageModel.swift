/// What every model says about itself, trained or decoding: its configuration and, for a mixture of experts, how
/// its router spread the last pass.
public protocol ConfiguredModel: AnyObject {
    var configuration: any ModelConfiguration { get }
    /// Assignments of tokens to each expert in the last pass (a training forward or a decode call), summed over
    /// layers; nil without experts.
    var expertLoad: [Int]? { get }
    /// (layer, expert) pairs whose weights the last pass read, i.e. that got at least one token; nil without experts.
    var expertsRead: Int? { get }
}

/// What one evaluation batch scored (`TrainableModel.score`).
public struct BatchScore: Sendable {
    /// Mean loss over the scored positions (nats).
    public var loss: Float
    public var scored: Int
    /// Scored positions whose arg-max prediction was the target; nil where the model does not report accuracy.
    public var correct: Int?
    /// A VAE's reconstruction loss alone (nats per token), where `loss` is its negative ELBO per token.
    public var reconstruction: Float?

    public init(loss: Float, scored: Int, correct: Int?, reconstruction: Float? = nil) {
        self.loss = loss; self.scored = scored; self.correct = correct; self.reconstruction = reconstruction
    }
}

extension TrainableModel {
    public func score(_ batch: Batch) throws -> BatchScore {
        BatchScore(loss: try loss(batch), scored: batch.scoredPositions, correct: nil)
    }
}

extension ConfiguredModel {
    public var expertLoad: [Int]? { nil }
    public var expertsRead: Int? { nil }
    public var vocabularySize: Int { configuration.vocabularySize }
    public var maxSequence: Int { configuration.maxSequence }
}

/// A model the trainer can train: parameters and their gradients in flat buffers with named views, and a loss with
/// its gradients for the batch kinds its objective uses.
public protocol TrainableModel: ConfiguredModel {
    /// All parameters in one flat buffer with named views (`configuration.parameterSpecs`).
    var parameters: TensorBuffer { get }
    /// Gradients with the parameters' layout; allocated on first use.
    func gradients() -> TensorBuffer
    /// Mean loss of the batch, no gradients (nats per scored token for a language model).
    /// - Throws: `invalidArgument` for a batch kind or shape the model does not take, `tokenOutOfRange`.
    func loss(_ batch: Batch) throws -> Float
    /// The batch's mean loss, the positions it scored and, where the model reports it, how many of them its top
    /// guess got right (masked-token and sequence-to-sequence accuracy). Defaults to `loss` without accuracy.
    func score(_ batch: Batch) throws -> BatchScore
    /// Forward and backward; gradients overwritten or accumulated per `gradientWrite`, scaled by `lossScale`. Returns
    /// the mean loss of this micro-batch (an auxiliary loss included where the model has one).
    func lossAndGradients(_ batch: Batch, gradientWrite: GradientWrite, lossScale: Float) throws -> Float
    /// Sums of squares of the gradient tensors the last `lossAndGradients` recorded as it stored them (for clipping's
    /// norm), or nil where the model records none. Defaults to nil.
    var recordedGradientSquares: GradientSquares? { get }
    /// FLOPs of one `lossAndGradients` on this batch, by the configuration's formula.
    func trainingFLOPs(_ batch: Batch) -> Double
    /// Dropout probability used by `lossAndGradients` (training only), and the seed of its next masks.
    var dropout: Float { get set }
    var dropoutSeed: UInt64 { get set }
    /// Bytes of the cached activations and scratch of the last pass.
    var activationBytes: Int { get }
    /// Writes a safetensors checkpoint in the architecture's Hugging Face layout with the engine's metadata (`Checkpoint`)
    /// and `metadata`'s keys beside it (the engine's own keys win).
    /// - Throws: `fileUnwritable`.
    func save(path: String, tokenizer: String, metadata: [String: String]) throws
}

extension TrainableModel {
    public var recordedGradientSquares: GradientSquares? { nil }

    /// `save(path:tokenizer:metadata:)` with the engine's metadata only.
    public func save(path: String, tokenizer: String) throws { try save(path: path, tokenizer: tokenizer, metadata: [:]) }
}

/// One contiguous run of new rows of one sequence in a decode call: rows `firstRow ..< firstRow + count` of the
/// state's row buffers hold positions `start ..< start + count` of sequence `sequence`.
public struct DecodeSegment: Sendable {
    public var sequence: Int
    public var start: Int
    public var count: Int
    public var firstRow: Int

    public init(sequence: Int, start: Int, count: Int, firstRow: Int) {
        self.sequence = sequence; self.start = start; self.count = count; self.firstRow = firstRow
    }
}

/// A decoding model's cache and scratch for a fixed number of sequences (`DecodingModel.makeDecodeState`).
public protocol DecodeState: AnyObject {
    /// Token and position of each row of the next call.
    var rowTokens: UnsafeMutableBufferPointer<Int32> { get }
    var rowPositions: UnsafeMutableBufferPointer<Int32> { get }
    /// Logits of the last row of each segment of the last call, padded rows [segments, Vp].
    var logits: UnsafeMutableBufferPointer<Float> { get }
    /// Bytes held (cache, scratch, and weights packed for prefill).
    var bytes: Int { get }
}

/// A model that generates: its decoding pass reads and extends a KV cache.
public protocol DecodingModel: ConfiguredModel {
    /// A cache for `maxBatch` sequences of up to the model's context and scratch for `maxChunk` rows a call.
    func makeDecodeState(maxBatch: Int, maxChunk: Int) -> any DecodeState
    /// Runs the rows of `segments` (tokens and positions in the state's row buffers) through the model: their K and V
    /// go into the cache, and the logits of each segment's last row into `state.logits`, one row per segment.
    func decode(_ segments: [DecodeSegment], state: any DecodeState)
    /// FLOPs of running `segment` (its rows against its cache, one logits row), by the configuration's formula.
    func forwardFLOPs(_ segment: DecodeSegment, state: any DecodeState) -> Double
}

extension DecodingModel {
    public func forwardFLOPs(_ segment: DecodeSegment, state: any DecodeState) -> Double {
        configuration.forwardFLOPs(tokens: segment.count, attentionContext: segment.start + segment.count, logitRows: 1)
    }
}

/// A model that both trains and generates, as every language model in the engine does.
public typealias LanguageModel = TrainableModel & DecodingModel
