/// What a model computes a token for.
public enum Phase: String, Codable, Sendable, CaseIterable {
    /// Forward and backward over a training batch.
    case train
    /// Forward over a prompt's tokens, filling the KV cache.
    case prefill
    /// Forward of one new token against the cache, with its logits.
    case decode
    /// Forward over an input that no token is generated from (an encoder's pass).
    case encode
}

/// A model's shape, whatever its architecture: the parameter table, checks, and the FLOP formula every throughput
/// and MFU figure is computed with.
///
/// FLOPs count the multiply-adds of matrix products at 2 each, nothing else (embeddings, norms, activations,
/// softmax, biases, residual adds and the optimizer are not counted). Attention counts the key positions the kernel
/// multiplies against: the whole T×T block in training, `pos + 1` for a decode step. Per phase and token, with
/// context T: train = 3 × forward(1 token, T keys, logits); prefill = forward(1 token, T keys, no logits) (a prompt's
/// one logits row is amortised away); decode = forward(1 token, T keys, logits); encode = as prefill.
public protocol ModelConfiguration: Codable, Sendable {
    var architecture: Architecture { get }
    var layers: Int { get }
    /// Width of the residual stream.
    var channels: Int { get }
    /// Real vocabulary size V (token ids are 0..<V).
    var vocabularySize: Int { get }
    /// V rounded up for aligned sgemm panels; the extra rows are zero and masked out of the loss.
    var paddedVocabularySize: Int { get }
    /// Longest sequence.
    var maxSequence: Int { get }
    /// Names (Hugging Face's), shapes and weight decay of every parameter tensor, in buffer order.
    var parameterSpecs: [TensorSpec] { get }
    /// Parameters, vocabulary padding excluded.
    var parameterCount: Int { get }
    /// Parameters one token passes through (a mixture of experts counts only its chosen experts).
    var activeParameterCount: Int { get }
    /// Floats of K and V one position adds to a decode cache, over all layers.
    var cacheFloatsPerPosition: Int { get }
    /// Floats of weights one decode step of one sequence reads: every matrix it multiplies by (the LM head over its
    /// padded rows, a mixture's chosen experts only), one embedding row, norms and biases.
    var decodeWeightFloats: Int { get }
    /// Floats of one expert's matrices (a mixture of experts), 0 for a dense model: a decode step of B sequences reads
    /// every expert any of them was routed to, so its weights are `decodeWeightFloats` − L·k·this + (experts read)·this.
    var expertWeightFloats: Int { get }
    /// Experts each token is routed to in each layer (k), 0 for a dense model.
    var routedExpertsPerToken: Int { get }
    /// - Throws: `EngineError.invalidConfiguration` naming the bad field and a valid choice.
    func validate() throws
    /// Forward FLOPs for `tokens` positions attending over `attentionContext` keys each, with logits for `logitRows` rows.
    func forwardFLOPs(tokens: Int, attentionContext: Int, logitRows: Int) -> Double
    /// Forward FLOPs of an encoder pass over `tokens` positions attending over `context` keys each, no logits (an
    /// encoder-only model's whole forward; an encoder–decoder's encoder stack).
    func encoderFLOPs(tokens: Int, context: Int) -> Double
    /// FLOPs of one token of `phase` at context `context` (the extension's rule unless the architecture has its own).
    func flopsPerToken(_ phase: Phase, context: Int) -> Double
    /// How the architecture learns from a token stream (next-token unless it says otherwise).
    var objective: any TrainingObjective { get }
    /// The formula of `forwardFLOPs`, in words.
    var flopFormula: String { get }
    /// "4 layers × 128, 4 heads, …", for listings.
    var summary: String { get }
}

extension ModelConfiguration {
    /// FLOPs of one token of `phase` at context `context` (see the protocol's doc).
    public func flopsPerToken(_ phase: Phase, context: Int) -> Double {
        switch phase {
        case .train: return 3 * forwardFLOPs(tokens: 1, attentionContext: context, logitRows: 1)
        case .prefill: return forwardFLOPs(tokens: 1, attentionContext: context, logitRows: 0)
        case .encode: return encoderFLOPs(tokens: 1, context: context)
        case .decode: return forwardFLOPs(tokens: 1, attentionContext: context, logitRows: 1)
        }
    }

    /// FLOPs of one training micro-step over a B×T batch: 3 × the forward over all B·T positions.
    public func trainingStepFLOPs(B: Int, T: Int) -> Double { 3 * forwardFLOPs(tokens: B * T, attentionContext: T, logitRows: B * T) }

    public func encoderFLOPs(tokens: Int, context: Int) -> Double { forwardFLOPs(tokens: tokens, attentionContext: context, logitRows: 0) }

    /// Bytes of fp32 weights.
    public var parameterBytes: Int { parameterSpecs.reduce(0) { $0 + $1.count } * MemoryLayout<Float>.stride }
}
