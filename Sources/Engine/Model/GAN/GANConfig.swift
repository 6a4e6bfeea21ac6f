/// Shape of the engine's GAN (Goodfellow et al. 2014, with their non-saturating generator loss): an MLP generator
/// Linear(Z, H) → ReLU → Linear(H, D) from Gaussian noise, an MLP discriminator Linear(D, H) → ReLU → Linear(H, 1).
///
/// Real data are vectors built from the corpus: the mean of a frozen byte embedding (N(0, 1), D wide, seeded by
/// `embeddingSeed`, never trained) over each window of W tokens.
///
/// FLOPs per sample of one optimizer step (one discriminator step, then one generator step), with G = 2·(Z·H + H·D)
/// and D_f = 2·(D·H + H) the two forwards: the discriminator step runs the generator forward and the discriminator
/// forward and backward on a real and a fake sample, its input gradient skipped (G + 2·(2·D_f + 2·H)); the generator
/// step runs both forward, the discriminator's backward with its input gradient and the generator's without its
/// noise's (3·G + 3·D_f − 2·Z·H). `forwardFLOPs(tokens: n, …)` counts n/W samples of G + D_f.
public struct GANConfig: ModelConfiguration, Hashable {
    /// Width D of the data vectors.
    public var dimension: Int
    /// Width Z of the generator's noise.
    public var noise: Int
    public var hidden: Int
    /// Tokens W per real vector.
    public var window: Int
    public var vocabularySize: Int
    public var embeddingSeed: UInt64

    public init(dimension: Int, noise: Int, hidden: Int, window: Int, vocabularySize: Int, embeddingSeed: UInt64 = 0xE3B_ED) {
        self.dimension = dimension; self.noise = noise; self.hidden = hidden; self.window = window
        self.vocabularySize = vocabularySize; self.embeddingSeed = embeddingSeed
    }

    public var architecture: Architecture { .gan }
    public var layers: Int { 2 }
    public var channels: Int { hidden }
    public var paddedVocabularySize: Int { vocabularySize }
    public var maxSequence: Int { window }
    public var objective: any TrainingObjective { FrozenEmbeddingMeans(config: self) }

    public func validate() throws {
        if dimension < 1 || noise < 1 || hidden < 1 || window < 1 || vocabularySize < 1 {
            throw EngineError.invalidConfiguration(
                "model shape has a non-positive field (data width \(dimension), noise \(noise), hidden \(hidden), window \(window), vocab \(vocabularySize))",
                fix: "use positive values, e.g. --width 16 (data width) --latent 16 (noise) --hidden 128 --context 16 (window)")
        }
    }

    var generatorSpecs: [TensorSpec] {
        [
            TensorSpec(name: "generator.0.weight", shape: [hidden, noise], decays: true),
            TensorSpec(name: "generator.0.bias", shape: [hidden], decays: false),
            TensorSpec(name: "generator.2.weight", shape: [dimension, hidden], decays: true),
            TensorSpec(name: "generator.2.bias", shape: [dimension], decays: false),
        ]
    }

    var discriminatorSpecs: [TensorSpec] {
        [
            TensorSpec(name: "discriminator.0.weight", shape: [hidden, dimension], decays: true),
            TensorSpec(name: "discriminator.0.bias", shape: [hidden], decays: false),
            TensorSpec(name: "discriminator.2.weight", shape: [1, hidden], decays: true),
            TensorSpec(name: "discriminator.2.bias", shape: [1], decays: false),
        ]
    }

    public var parameterSpecs: [TensorSpec] { generatorSpecs + discriminatorSpecs }
    public var parameterCount: Int { parameterSpecs.reduce(0) { $0 + $1.count } }
    public var activeParameterCount: Int { parameterCount }
    public var cacheFloatsPerPosition: Int { 0 }
    public var decodeWeightFloats: Int { 0 }
    public var expertWeightFloats: Int { 0 }
    public var routedExpertsPerToken: Int { 0 }

    /// Forward FLOPs of the generator and of the discriminator for one sample.
    public var generatorFLOPs: Double { 2 * Double(noise * hidden + hidden * dimension) }
    public var discriminatorFLOPs: Double { 2 * Double(dimension * hidden + hidden) }

    public func forwardFLOPs(tokens: Int, attentionContext: Int, logitRows: Int) -> Double {
        Double(tokens) / Double(window) * (generatorFLOPs + discriminatorFLOPs)
    }

    /// One optimizer step of both networks on B samples (see the type's doc).
    public func adversarialStepFLOPs(B: Int) -> Double {
        let discriminatorStep = generatorFLOPs + 2 * (2 * discriminatorFLOPs + 2 * Double(hidden))
        let generatorStep = 3 * generatorFLOPs + 3 * discriminatorFLOPs - 2 * Double(noise * hidden)
        return Double(B) * (discriminatorStep + generatorStep)
    }

    /// Training counts both networks' steps (`adversarialStepFLOPs`) per sample of W tokens; the rest is a forward.
    public func flopsPerToken(_ phase: Phase, context: Int) -> Double {
        phase == .train ? adversarialStepFLOPs(B: 1) / Double(window) : forwardFLOPs(tokens: 1, attentionContext: context, logitRows: 0)
    }

    public var flopFormula: String {
        "per sample and step: discriminator step G + 2·(2·D_f + 2·H), generator step 3·G + 3·D_f − 2·Z·H; G = 2·(Z·H + H·D), D_f = 2·(D·H + H)"
    }

    public var summary: String {
        "GAN: data \(dimension) (mean byte embedding of \(window)-token windows), noise \(noise), hidden \(hidden)"
    }

    /// The frozen embedding [V, D] real vectors are averaged from.
    public func frozenEmbedding() -> [Float] {
        var random = SplitMix64(seed: embeddingSeed)
        var table = [Float](repeating: 0, count: vocabularySize * dimension)
        table.withUnsafeMutableBufferPointer { random.fillNormal($0, std: 1) }
        return table
    }
}

/// The GAN's data: each window of W tokens becomes the mean of its tokens' rows of the frozen embedding.
public struct FrozenEmbeddingMeans: TrainingObjective {
    public let config: GANConfig
    let table: [Float]

    public init(config: GANConfig) {
        self.config = config
        table = config.frozenEmbedding()
    }

    public var name: String { "adversarial" }
    public func windowLength(sequence T: Int) -> Int { T }

    public func check(sequence T: Int, context: Int) throws {
        guard T == config.window else {
            throw EngineError.invalidConfiguration(
                "the GAN's real vectors average windows of \(config.window) tokens, not \(T)", fix: "use --seq \(config.window)")
        }
    }

    public func batch(windows: [ArraySlice<Int32>], sequence T: Int, random: inout SplitMix64) -> Batch {
        let D = config.dimension
        var vectors = [Float](repeating: 0, count: windows.count * D)
        for (b, w) in windows.enumerated() {
            for token in w.prefix(T) {
                for j in 0..<D { vectors[b * D + j] += table[Int(token) * D + j] }
            }
            for j in 0..<D { vectors[b * D + j] /= Float(T) }
        }
        return .vectors(inputs: vectors, targets: nil, B: windows.count, D: D)
    }
}
