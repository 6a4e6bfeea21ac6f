// Legend: B windows, W tokens per window, E embedding width, H hidden width, Z latent width, V vocabulary.

/// An MLP autoencoder or VAE over fixed windows of tokens (`AutoencoderConfig`): quality is the reconstruction loss
/// (nats per token) and, for the VAE, the ELBO.
///
/// The AE's loss is the mean cross-entropy over the B·W tokens. The VAE's is the negative ELBO per token,
/// (Σ_tokens CE + KL) / W averaged over the windows, with z = μ + σ·ε and ε drawn from `dropoutSeed` (the trainer
/// reseeds it each micro-batch; evaluation uses a fixed seed, so its ELBO estimate is reproducible).
public final class Autoencoder: TrainableModel {
    public let config: AutoencoderConfig
    public let parameters: TensorBuffer
    private var gradientBuffer: TensorBuffer?
    private var activations: TensorBuffer?
    private var shape = (B: 0, gradients: false)
    /// Not used by this architecture (training with it is refused); its seed draws the VAE's noise.
    public var dropout: Float = 0
    public var dropoutSeed: UInt64 = 0

    /// A freshly initialised model: embedding N(0, 1), matrices U(−1/√in, 1/√in) as PyTorch's `nn.Linear`, biases 0.
    public convenience init(config: AutoencoderConfig, seed: UInt64) throws {
        try config.validate()
        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        for (i, spec) in buffer.layout.specs.enumerated() where spec.decays {
            var random = SplitMix64(seed: seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
            let view = buffer.view(i)
            if spec.name == "embedding.weight" {
                random.fillNormal(view, std: 1)
            } else {
                let bound = 1 / Float(spec.shape[1]).squareRoot()
                for j in 0..<view.count { view[j] = (random.nextUnitFloat() * 2 - 1) * bound }
            }
        }
        try self.init(config: config, parameters: buffer)
    }

    public init(config: AutoencoderConfig, parameters: TensorBuffer) throws {
        try config.validate()
        precondition(parameters.layout.specs == config.parameterSpecs, "parameter layout does not match the config")
        self.config = config
        self.parameters = parameters
    }

    public var configuration: any ModelConfiguration { config }

    public func gradients() -> TensorBuffer {
        if let gradientBuffer { return gradientBuffer }
        let buffer = TensorBuffer(layout: parameters.layout)
        gradientBuffer = buffer
        return buffer
    }

    public var activationBytes: Int { (activations?.layout.count ?? 0) * MemoryLayout<Float>.stride }

    public func trainingFLOPs(_ batch: Batch) -> Double {
        guard case let .reconstruction(_, B, T) = batch else { return 0 }
        return config.trainingStepFLOPs(B: B, T: T)
    }

    public func loss(_ batch: Batch) throws -> Float { try score(batch).loss }

    public func score(_ batch: Batch) throws -> BatchScore {
        let (tokens, B) = try windows(batch)
        let a = prepare(B: B, withGradients: false)
        let (reconstruction, kl) = forward(a, tokens: tokens, B: B, noiseSeed: Self.evaluationNoiseSeed)
        let W = config.window, V = config.vocabularySize
        let hits = tokens.withUnsafeBufferPointer {
            SoftmaxCrossEntropy.hits(logits: a["logits"].baseAddress!, targets: $0, R: B * W, V: V, Vp: V)
        }
        let perToken = Float(reconstruction / Double(B * W))
        return BatchScore(
            loss: config.variational ? Float((reconstruction + kl) / Double(B * W)) : perToken, scored: B * W, correct: hits,
            reconstruction: config.variational ? perToken : nil)
    }

    public func lossAndGradients(_ batch: Batch, gradientWrite pw: GradientWrite, lossScale: Float) throws -> Float {
        guard dropout == 0 else {
            throw EngineError.invalidArgument(
                "\(config.architecture.rawValue) trains without dropout (the engine applies it to GPT-2 and the recurrent models)",
                fix: "train it with --dropout 0")
        }
        let (tokens, B) = try windows(batch)
        let a = prepare(B: B, withGradients: true)
        let g = gradients()
        let (reconstruction, kl) = forward(a, tokens: tokens, B: B, noiseSeed: dropoutSeed, backward: lossScale)
        let W = config.window, E = config.embedding, H = config.hidden, Z = config.latent, V = config.vocabularySize
        let rows = B * W, scale = lossScale / Float(rows)
        // dlogits are in a["logits"] (the fused cross-entropy wrote them).
        MatMul.backward(
            dinp: a["dh2"], dweight: g["decoder.2.weight"], dbias: g["decoder.2.bias"], dout: a["logits"], inp: a["h2"],
            weight: parameters["decoder.2.weight"], M: B, K: H, N: W * V, layout: .outputMajor, parameterWrite: pw)
        ReLU.backward(dinp: a["dh2"].baseAddress!, out: a["h2"].baseAddress!, dout: a["dh2"].baseAddress!, N: B * H)
        MatMul.backward(
            dinp: a["dz"], dweight: g["decoder.0.weight"], dbias: g["decoder.0.bias"], dout: a["dh2"], inp: a["z"],
            weight: parameters["decoder.0.weight"], M: B, K: Z, N: H, layout: .outputMajor, parameterWrite: pw)
        if config.variational {
            GaussianLatent.backward(
                dmoments: a["dencoded"].baseAddress!, dz: a["dz"].baseAddress!, moments: a["encoded"].baseAddress!,
                noise: a["noise"].baseAddress!, klScale: scale, B: B, Z: Z)
        } else {
            _ = a["dencoded"].update(fromContentsOf: a["dz"])
        }
        MatMul.backward(
            dinp: a["dh1"], dweight: g["encoder.2.weight"], dbias: g["encoder.2.bias"], dout: a["dencoded"], inp: a["h1"],
            weight: parameters["encoder.2.weight"], M: B, K: H, N: config.encoderOutput, layout: .outputMajor, parameterWrite: pw)
        ReLU.backward(dinp: a["dh1"].baseAddress!, out: a["h1"].baseAddress!, dout: a["dh1"].baseAddress!, N: B * H)
        MatMul.backward(
            dinp: a["dx"], dweight: g["encoder.0.weight"], dbias: g["encoder.0.bias"], dout: a["dh1"], inp: a["x"],
            weight: parameters["encoder.0.weight"], M: B, K: W * E, N: H, layout: .outputMajor, parameterWrite: pw)
        if pw == .overwrite { g["embedding.weight"].update(repeating: 0) }
        tokens.withUnsafeBufferPointer { TokenEmbedding.backward(dtable: g["embedding.weight"], dout: a["dx"], tokens: $0, R: rows, C: E) }
        return config.variational ? Float((reconstruction + kl) / Double(rows)) : Float(reconstruction / Double(rows))
    }

    /// Evaluation's noise seed (training draws from `dropoutSeed`).
    static let evaluationNoiseSeed: UInt64 = 0x5EED_0AE

    // MARK: - Passes

    private func windows(_ batch: Batch) throws -> ([Int32], Int) {
        guard case let .reconstruction(tokens, B, T) = batch else {
            throw EngineError.invalidArgument(
                "\(config.architecture.rawValue) reconstructs windows, not \(batch.kind) batches",
                fix: "train it through `model train --arch \(config.architecture.rawValue)`")
        }
        guard T == config.window, B >= 1, tokens.count == B * T else {
            throw EngineError.invalidArgument(
                "the model reads windows of \(config.window) tokens; got B \(B) × T \(T) with \(tokens.count) ids",
                fix: "use --seq \(config.window)")
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= config.vocabularySize }) {
            throw EngineError(
                .tokenOutOfRange, "token id \(bad) is outside the model's vocabulary 0..<\(config.vocabularySize)",
                fix: "use a tokenizer that matches the checkpoint")
        }
        return (tokens, B)
    }

    private func prepare(B: Int, withGradients: Bool) -> TensorBuffer {
        if let activations, shape.B == B, shape.gradients || !withGradients { return activations }
        let W = config.window, E = config.embedding, H = config.hidden, Z = config.latent, V = config.vocabularySize
        let g = withGradients ? 1 : 0
        var specs: [TensorSpec] = []
        for (name, count) in [
            ("x", B * W * E), ("h1", B * H), ("encoded", B * config.encoderOutput), ("noise", B * Z), ("z", B * Z), ("h2", B * H),
            ("logits", B * W * V), ("losses", B * W), ("dh2", g * B * H), ("dz", g * B * Z), ("dencoded", g * B * config.encoderOutput),
            ("dh1", g * B * H), ("dx", g * B * W * E),
        ] { specs.append(TensorSpec(name: name, shape: [count], decays: false)) }
        let buffer = TensorBuffer(layout: TensorLayout(specs))
        activations = buffer
        shape = (B, withGradients)
        return buffer
    }

    /// Runs the network on `tokens`; with `backward` (a loss scale) the cross-entropy also leaves dlogits in "logits".
    /// Returns Σ cross-entropy over every token and Σ KL over the windows (0 for the AE).
    private func forward(_ a: TensorBuffer, tokens: [Int32], B: Int, noiseSeed: UInt64, backward lossScale: Float? = nil) -> (
        Double, Double
    ) {
        let W = config.window, E = config.embedding, H = config.hidden, Z = config.latent, V = config.vocabularySize, p = parameters
        tokens.withUnsafeBufferPointer { TokenEmbedding.forward(out: a["x"], tokens: $0, table: p["embedding.weight"], R: B * W, C: E) }
        MatMul.forward(
            out: a["h1"], inp: a["x"], weight: p["encoder.0.weight"], bias: p["encoder.0.bias"], M: B, K: W * E, N: H, layout: .outputMajor)
        ReLU.forward(out: a["h1"].baseAddress!, inp: a["h1"].baseAddress!, N: B * H)
        MatMul.forward(
            out: a["encoded"], inp: a["h1"], weight: p["encoder.2.weight"], bias: p["encoder.2.bias"], M: B, K: H, N: config.encoderOutput,
            layout: .outputMajor)
        var kl = 0.0
        if config.variational {
            var random = SplitMix64(seed: noiseSeed)
            random.fillNormal(a["noise"], std: 1)
            kl = GaussianLatent.forward(
                z: a["z"].baseAddress!, moments: a["encoded"].baseAddress!, noise: a["noise"].baseAddress!, B: B, Z: Z)
        } else {
            _ = a["z"].update(fromContentsOf: a["encoded"])
        }
        MatMul.forward(
            out: a["h2"], inp: a["z"], weight: p["decoder.0.weight"], bias: p["decoder.0.bias"], M: B, K: Z, N: H, layout: .outputMajor)
        ReLU.forward(out: a["h2"].baseAddress!, inp: a["h2"].baseAddress!, N: B * H)
        MatMul.forward(
            out: a["logits"], inp: a["h2"], weight: p["decoder.2.weight"], bias: p["decoder.2.bias"], M: B, K: H, N: W * V,
            layout: .outputMajor)
        tokens.withUnsafeBufferPointer { targets in
            if let lossScale {
                SoftmaxCrossEntropy.forwardBackward(
                    losses: a["losses"], logits: a["logits"], targets: targets, R: B * W, V: V, Vp: V, dlossScale: lossScale / Float(B * W))
            } else {
                SoftmaxCrossEntropy.forward(losses: a["losses"], logits: a["logits"], targets: targets, R: B * W, V: V, Vp: V)
            }
        }
        var sum = 0.0
        for i in 0..<(B * W) { sum += Double(a["losses"][i]) }
        return (sum, kl)
    }

    /// Writes a safetensors checkpoint with the engine's metadata (names as `AutoencoderConfig` gives them).
    /// - Throws: `fileUnwritable`.
    public func save(path: String, tokenizer: String, metadata: [String: String]) throws {
        try Checkpoint.write(
            path: path, parameters: parameters, config: .autoencoder(config), tokenizer: tokenizer, vocabularyRows: [], metadata: metadata)
    }
}

extension Autoencoder {
    /// Reads a checkpoint in `AutoencoderConfig`'s layout: every size follows from the shapes (V, E from the
    /// embedding; H; Z from `decoder.0.weight`; W from `decoder.2.weight`'s W·V rows; a VAE's encoder gives 2Z).
    /// - Throws: `checkpointMismatch` naming the tensor whose shape does not fit.
    static func load(file: SafeTensorsFile) throws -> (model: Autoencoder, info: CheckpointInfo) {
        func mismatch(_ problem: String) -> EngineError { Checkpoint.mismatch(file.path, problem, architecture: "autoencoder") }
        func shape(_ name: String) throws -> [Int] {
            guard let entry = file.entries[name], entry.shape.count == 2 else {
                throw mismatch("tensor '\(name)' is missing or not a matrix")
            }
            return entry.shape
        }
        let embedding = try shape("embedding.weight"), first = try shape("encoder.0.weight"), bottleneck = try shape("encoder.2.weight")
        let expand = try shape("decoder.0.weight"), output = try shape("decoder.2.weight")
        let (V, E, H, Z) = (embedding[0], embedding[1], first[0], expand[1])
        guard E > 0, first[1] % E == 0, output[0] == (first[1] / E) * V, bottleneck[0] == Z || bottleneck[0] == 2 * Z else {
            throw mismatch("the shapes \(embedding), \(first), \(bottleneck), \(expand), \(output) do not make one window's autoencoder")
        }
        let config = AutoencoderConfig(
            variational: bottleneck[0] == 2 * Z, window: first[1] / E, embedding: E, hidden: H, latent: Z, vocabularySize: V)
        try config.validate()
        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        for (i, spec) in buffer.layout.specs.enumerated() {
            guard let found = file.entries[spec.name], found.shape == spec.shape else {
                throw mismatch("tensor '\(spec.name)' is missing or not of shape \(spec.shape)")
            }
            try Checkpoint.read(file, spec.name, shape: spec.shape, into: buffer.view(i))
        }
        if let extra = file.entries.keys.filter({ buffer.layout.position(of: $0) == nil }).sorted().first {
            throw mismatch("unexpected tensor '\(extra)' for \(config.summary)")
        }
        return (
            try Autoencoder(config: config, parameters: buffer),
            CheckpointInfo(
                config: .autoencoder(config), tokenizer: file.metadata[Checkpoint.tokenizerKey], headsSource: "none", assumed: [])
        )
    }
}
