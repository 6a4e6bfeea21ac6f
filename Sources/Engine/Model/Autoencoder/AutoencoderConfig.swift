/// Shape of an MLP autoencoder (or VAE) over windows of W tokens: an embedding of E per token, the W·E concatenation
/// encoded by Linear(W·E, H) → ReLU → Linear(H, Z) (a VAE: Linear(H, 2Z) for μ and log σ²), decoded by
/// Linear(Z, H) → ReLU → Linear(H, W·V) into per-token logits.
///
/// Names as a PyTorch `nn.Sequential` would save them: `embedding.weight` [V, E], `encoder.0.{weight,bias}`,
/// `encoder.2.{weight,bias}`, `decoder.0.{weight,bias}`, `decoder.2.{weight,bias}`.
///
/// FLOPs (see `ModelConfiguration`) per window: 2·(W·E·H + H·Z_out + Z·H) through the bottleneck, plus 2·H·V per
/// token's logits (Z_out = Z, or 2Z for a VAE); `forwardFLOPs(tokens: n, …, logitRows: r)` counts n/W windows.
public struct AutoencoderConfig: ModelConfiguration, Hashable {
    public var variational: Bool
    /// Tokens per window W.
    public var window: Int
    public var embedding: Int
    public var hidden: Int
    public var latent: Int
    public var vocabularySize: Int

    public init(variational: Bool, window: Int, embedding: Int, hidden: Int, latent: Int, vocabularySize: Int) {
        self.variational = variational; self.window = window; self.embedding = embedding; self.hidden = hidden; self.latent = latent
        self.vocabularySize = vocabularySize
    }

    public var architecture: Architecture { variational ? .vae : .ae }
    public var layers: Int { 2 }
    public var channels: Int { hidden }
    public var paddedVocabularySize: Int { vocabularySize }
    public var maxSequence: Int { window }
    public var encoderOutput: Int { variational ? 2 * latent : latent }
    public var objective: any TrainingObjective { WindowReconstruction(window: window) }

    public func validate() throws {
        if window < 1 || embedding < 1 || hidden < 1 || latent < 1 || vocabularySize < 1 {
            throw EngineError.invalidConfiguration(
                "model shape has a non-positive field (window \(window), embedding \(embedding), hidden \(hidden), latent \(latent), vocab \(vocabularySize))",
                fix: "use positive values, e.g. --context 32 --width 16 --hidden 512 --latent 32")
        }
        if vocabularySize > Int(Int32.max) {
            throw EngineError.invalidConfiguration("vocabulary \(vocabularySize) exceeds Int32 token ids", fix: "use a smaller vocabulary")
        }
    }

    public var parameterSpecs: [TensorSpec] {
        let W = window, E = embedding, H = hidden, Z = latent, V = vocabularySize
        func matrix(_ name: String, _ shape: [Int]) -> TensorSpec { TensorSpec(name: name, shape: shape, decays: true) }
        func vector(_ name: String, _ count: Int) -> TensorSpec { TensorSpec(name: name, shape: [count], decays: false) }
        return [
            matrix("embedding.weight", [V, E]),
            matrix("encoder.0.weight", [H, W * E]), vector("encoder.0.bias", H),
            matrix("encoder.2.weight", [encoderOutput, H]), vector("encoder.2.bias", encoderOutput),
            matrix("decoder.0.weight", [H, Z]), vector("decoder.0.bias", H),
            matrix("decoder.2.weight", [W * V, H]), vector("decoder.2.bias", W * V),
        ]
    }

    public var parameterCount: Int { parameterSpecs.reduce(0) { $0 + $1.count } }
    public var activeParameterCount: Int { parameterCount }
    public var cacheFloatsPerPosition: Int { 0 }
    public var decodeWeightFloats: Int { 0 }
    public var expertWeightFloats: Int { 0 }
    public var routedExpertsPerToken: Int { 0 }

    public func forwardFLOPs(tokens: Int, attentionContext: Int, logitRows: Int) -> Double {
        let W = Double(window), E = Double(embedding), H = Double(hidden), Z = Double(latent)
        let bottleneck = 2 * (W * E * H + H * Double(encoderOutput) + Z * H)
        return Double(tokens) / W * bottleneck + Double(logitRows) * 2 * H * Double(vocabularySize)
    }

    public var flopFormula: String {
        "forward/window = 2·(W·E·H + H·Z_out + Z·H) + W·2·H·V (Z_out = \(variational ? "2Z" : "Z")); training = 3×forward"
    }

    public var summary: String {
        "\(variational ? "VAE" : "autoencoder") over \(window)-token windows: embedding \(embedding), hidden \(hidden), latent \(latent), vocab \(vocabularySize)"
    }
}
