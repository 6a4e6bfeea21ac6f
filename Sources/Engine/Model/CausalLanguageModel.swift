/// A trainable causal language model over token ids.
///
/// `Trainer`, evaluation and `Benchmark` work through this protocol, so a new architecture
/// (Llama-style RMSNorm/RoPE/SwiGLU, MoE, …) plugs in by composing kernels into a class that
/// conforms, and reuses the optimizer, data pipeline, checkpoint IO and FLOP-reporting paths.
public protocol CausalLanguageModel: AnyObject {
    /// Real vocabulary size (token ids are in 0..<vocabularySize).
    var vocabularySize: Int { get }
    /// Longest sequence a forward pass accepts.
    var maxSequence: Int { get }
    /// All parameters in one flat buffer with named views.
    var parameters: TensorBuffer { get }
    /// Gradients with the parameters' layout; allocated on first use.
    func gradients() -> TensorBuffer
    /// Mean cross-entropy (nats) of `targets` given `inputs`, both B·T ids, row-major [B, T].
    func forward(inputs: [Int32], targets: [Int32], B: Int, T: Int) throws -> Float
    /// Forward plus backward; gradients are overwritten or accumulated per `gradientWrite`, scaled by `lossScale`.
    /// Returns the mean loss of this micro-batch.
    func forwardBackward(inputs: [Int32], targets: [Int32], B: Int, T: Int, gradientWrite: GradientWrite, lossScale: Float) throws -> Float
    /// FLOPs of one `forwardBackward` at this shape, by the model's stated formula.
    func trainingFLOPs(B: Int, T: Int) -> Double
    /// Dropout probability used by `forwardBackward` (training only), and the seed of its next masks.
    var dropout: Float { get set }
    var dropoutSeed: UInt64 { get set }
}
