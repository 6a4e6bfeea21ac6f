import Foundation

// Legend: B samples, Z noise width, H hidden width, D data width.

/// The engine's GAN (`GANConfig`): the discriminator minimises softplus(−D(x)) + softplus(D(G(z))) (the log-loss of
/// telling real from generated), the generator the non-saturating softplus(−D(G(z))) (Goodfellow et al. 2014, §3),
/// each averaged over the batch. Both networks live in their own parameter buffers, so each has its own optimizer.
public final class GAN: AdversarialModel {
    public let config: GANConfig
    public let generator: TensorBuffer
    public let discriminator: TensorBuffer
    private var generatorGradientBuffer: TensorBuffer?
    private var discriminatorGradientBuffer: TensorBuffer?
    private var scratch: TensorBuffer?
    private var scratchRows = 0

    /// A freshly initialised GAN: matrices U(−1/√in, 1/√in) as PyTorch's `nn.Linear`, biases 0.
    public convenience init(config: GANConfig, seed: UInt64) throws {
        try config.validate()
        let g = TensorBuffer(layout: TensorLayout(config.generatorSpecs)), d = TensorBuffer(layout: TensorLayout(config.discriminatorSpecs))
        for (n, buffer) in [g, d].enumerated() {
            for (i, spec) in buffer.layout.specs.enumerated() where spec.decays {
                var random = SplitMix64(seed: seed &+ UInt64(n * 16 + i) &* 0x9E37_79B9_7F4A_7C15)
                let bound = 1 / Float(spec.shape[1]).squareRoot(), view = buffer.view(i)
                for j in 0..<view.count { view[j] = (random.nextUnitFloat() * 2 - 1) * bound }
            }
        }
        try self.init(config: config, generator: g, discriminator: d)
    }

    public init(config: GANConfig, generator: TensorBuffer, discriminator: TensorBuffer) throws {
        try config.validate()
        precondition(generator.layout.specs == config.generatorSpecs && discriminator.layout.specs == config.discriminatorSpecs)
        self.config = config
        self.generator = generator
        self.discriminator = discriminator
    }

    public var configuration: any ModelConfiguration { config }

    public func generatorGradients() -> TensorBuffer {
        if let generatorGradientBuffer { return generatorGradientBuffer }
        let buffer = TensorBuffer(layout: generator.layout)
        generatorGradientBuffer = buffer
        return buffer
    }

    public func discriminatorGradients() -> TensorBuffer {
        if let discriminatorGradientBuffer { return discriminatorGradientBuffer }
        let buffer = TensorBuffer(layout: discriminator.layout)
        discriminatorGradientBuffer = buffer
        return buffer
    }

    public func discriminatorStep(real: Batch, seed: UInt64) throws -> Float {
        let (vectors, B) = try data(real)
        let s = buffers(rows: 2 * B)
        generate(s, B: B, seed: seed)
        // The discriminator sees the real rows then the generated ones, in one pass.
        _ = UnsafeMutableBufferPointer(rebasing: s["x"][0..<(B * config.dimension)]).update(fromContentsOf: vectors)
        (s["x"].baseAddress! + B * config.dimension).update(from: s["fake"].baseAddress!, count: B * config.dimension)
        discriminate(s, rows: 2 * B)
        var loss = 0.0
        for r in 0..<(2 * B) {
            let logit = s["logit"][r], real = r < B
            loss += Double(Self.softplus(real ? -logit : logit))
            s["dlogit"][r] = (Self.sigmoid(logit) - (real ? 1 : 0)) / Float(B)
        }
        discriminatorBackward(s, rows: 2 * B, gradients: discriminatorGradients(), inputGradient: false)
        return Float(loss / Double(B))
    }

    public func generatorStep(samples B: Int, seed: UInt64) throws -> Float {
        guard B >= 1 else { throw EngineError.invalidArgument("a generator step needs at least one sample", fix: "use --batch 1 or more") }
        let s = buffers(rows: B)
        generate(s, B: B, seed: seed)
        (s["x"].baseAddress!).update(from: s["fake"].baseAddress!, count: B * config.dimension)
        discriminate(s, rows: B)
        var loss = 0.0
        for r in 0..<B {
            let logit = s["logit"][r]
            loss += Double(Self.softplus(-logit))
            s["dlogit"][r] = (Self.sigmoid(logit) - 1) / Float(B)
        }
        // Through the discriminator (its weight gradients go to scratch, not to its optimizer) into the generator.
        discriminatorBackward(s, rows: B, gradients: scratchDiscriminatorGradients, inputGradient: true)
        let g = generatorGradients(), p = generator, H = config.hidden, Z = config.noise, D = config.dimension
        MatMul.backward(
            dinp: s["dhidden"], dweight: g["generator.2.weight"], dbias: g["generator.2.bias"], dout: s["dx"], inp: s["gHidden"],
            weight: p["generator.2.weight"], M: B, K: H, N: D, layout: .outputMajor, parameterWrite: .overwrite)
        ReLU.backward(dinp: s["dhidden"].baseAddress!, out: s["gHidden"].baseAddress!, dout: s["dhidden"].baseAddress!, N: B * H)
        MatMul.backward(
            dinp: nil, dweight: g["generator.0.weight"], dbias: g["generator.0.bias"], dout: s["dhidden"], inp: s["noise"],
            weight: p["generator.0.weight"], M: B, K: Z, N: H, layout: .outputMajor, parameterWrite: .overwrite)
        return Float(loss / Double(B))
    }

    public func evaluate(real: Batch, seed: UInt64) throws -> (discriminatorLoss: Float, generatorLoss: Float, discrepancy: Double) {
        let (vectors, B) = try data(real)
        let s = buffers(rows: 2 * B)
        generate(s, B: B, seed: seed)
        let fake = Array(s["fake"][0..<(B * config.dimension)])
        _ = UnsafeMutableBufferPointer(rebasing: s["x"][0..<(B * config.dimension)]).update(fromContentsOf: vectors)
        (s["x"].baseAddress! + B * config.dimension).update(from: fake, count: fake.count)
        discriminate(s, rows: 2 * B)
        var dLoss = 0.0, gLoss = 0.0
        for r in 0..<(2 * B) {
            let logit = s["logit"][r]
            if r < B {
                dLoss += Double(Self.softplus(-logit))
            } else {
                dLoss += Double(Self.softplus(logit))
                gLoss += Double(Self.softplus(-logit))
            }
        }
        let discrepancy = MaximumMeanDiscrepancy.squared(vectors, fake, dimension: config.dimension)
        return (Float(dLoss / Double(B)), Float(gLoss / Double(B)), discrepancy)
    }

    // MARK: - Passes

    private lazy var scratchDiscriminatorGradients = TensorBuffer(layout: discriminator.layout)

    private func data(_ batch: Batch) throws -> ([Float], Int) {
        guard case let .vectors(inputs, _, B, D) = batch, D == config.dimension, B >= 1, inputs.count == B * D else {
            throw EngineError.invalidArgument(
                "the GAN takes batches of real vectors of width \(config.dimension), not \(batch.kind) ones",
                fix: "train it through `model train --arch gan`")
        }
        return (inputs, B)
    }

    private func buffers(rows: Int) -> TensorBuffer {
        if let scratch, scratchRows >= rows { return scratch }
        let H = config.hidden, D = config.dimension, Z = config.noise
        var specs: [TensorSpec] = []
        for (name, count) in [
            ("noise", rows * Z), ("gHidden", rows * H), ("fake", rows * D), ("x", rows * D), ("dHidden", rows * H), ("logit", rows),
            ("dlogit", rows), ("ddHidden", rows * H), ("dx", rows * D), ("dhidden", rows * H),
        ] { specs.append(TensorSpec(name: name, shape: [count], decays: false)) }
        let buffer = TensorBuffer(layout: TensorLayout(specs))
        scratch = buffer
        scratchRows = rows
        return buffer
    }

    /// fake[B, D] = G(noise), the noise drawn from `seed`.
    private func generate(_ s: TensorBuffer, B: Int, seed: UInt64) {
        let p = generator, H = config.hidden, Z = config.noise, D = config.dimension
        var random = SplitMix64(seed: seed)
        random.fillNormal(UnsafeMutableBufferPointer(rebasing: s["noise"][0..<(B * Z)]), std: 1)
        MatMul.forward(
            out: s["gHidden"], inp: s["noise"], weight: p["generator.0.weight"], bias: p["generator.0.bias"], M: B, K: Z, N: H,
            layout: .outputMajor)
        ReLU.forward(out: s["gHidden"].baseAddress!, inp: s["gHidden"].baseAddress!, N: B * H)
        MatMul.forward(
            out: s["fake"], inp: s["gHidden"], weight: p["generator.2.weight"], bias: p["generator.2.bias"], M: B, K: H, N: D,
            layout: .outputMajor)
    }

    /// logit[rows] = D(x).
    private func discriminate(_ s: TensorBuffer, rows: Int) {
        let p = discriminator, H = config.hidden, D = config.dimension
        MatMul.forward(
            out: s["dHidden"], inp: s["x"], weight: p["discriminator.0.weight"], bias: p["discriminator.0.bias"], M: rows, K: D, N: H,
            layout: .outputMajor)
        ReLU.forward(out: s["dHidden"].baseAddress!, inp: s["dHidden"].baseAddress!, N: rows * H)
        MatMul.forward(
            out: s["logit"], inp: s["dHidden"], weight: p["discriminator.2.weight"], bias: p["discriminator.2.bias"], M: rows, K: H, N: 1,
            layout: .outputMajor)
    }

    /// From dlogit into `gradients` (overwritten) and, if asked, the input gradient dx.
    private func discriminatorBackward(_ s: TensorBuffer, rows: Int, gradients g: TensorBuffer, inputGradient: Bool) {
        let p = discriminator, H = config.hidden, D = config.dimension
        MatMul.backward(
            dinp: s["ddHidden"], dweight: g["discriminator.2.weight"], dbias: g["discriminator.2.bias"], dout: s["dlogit"],
            inp: s["dHidden"], weight: p["discriminator.2.weight"], M: rows, K: H, N: 1, layout: .outputMajor, parameterWrite: .overwrite)
        ReLU.backward(dinp: s["ddHidden"].baseAddress!, out: s["dHidden"].baseAddress!, dout: s["ddHidden"].baseAddress!, N: rows * H)
        MatMul.backward(
            dinp: inputGradient ? s["dx"] : nil, dweight: g["discriminator.0.weight"], dbias: g["discriminator.0.bias"],
            dout: s["ddHidden"], inp: s["x"], weight: p["discriminator.0.weight"], M: rows, K: D, N: H, layout: .outputMajor,
            parameterWrite: .overwrite)
    }

    /// log(1 + eˣ), stable for large |x|.
    static func softplus(_ x: Float) -> Float { x > 0 ? x + Foundation.log1pf(Foundation.expf(-x)) : Foundation.log1pf(Foundation.expf(x)) }
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.expf(-x)) }

    public func save(path: String, tokenizer: String) throws {
        let merged = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        for (i, spec) in merged.layout.specs.enumerated() {
            let source = spec.name.hasPrefix("generator.") ? generator[spec.name] : discriminator[spec.name]
            _ = merged.view(i).update(fromContentsOf: source)
        }
        try Checkpoint.write(path: path, parameters: merged, config: .gan(config), tokenizer: tokenizer, vocabularyRows: [])
    }

    /// Reads a checkpoint the engine wrote (its metadata carries the configuration; the frozen embedding is its seed).
    /// - Throws: `checkpointMismatch` for a file without that metadata or with other tensors.
    static func load(file: SafeTensorsFile) throws -> (model: GAN, info: CheckpointInfo) {
        guard case let .gan(config)? = try Checkpoint.recordedConfiguration(file) else {
            throw Checkpoint.mismatch(
                file.path, "a GAN checkpoint must carry the engine's configuration (its frozen embedding's seed)", architecture: "GAN")
        }
        let g = TensorBuffer(layout: TensorLayout(config.generatorSpecs)), d = TensorBuffer(layout: TensorLayout(config.discriminatorSpecs))
        for buffer in [g, d] {
            for (i, spec) in buffer.layout.specs.enumerated() {
                guard let entry = file.entries[spec.name], entry.shape == spec.shape else {
                    throw Checkpoint.mismatch(
                        file.path, "tensor '\(spec.name)' is missing or not of shape \(spec.shape)", architecture: "GAN")
                }
                try Checkpoint.read(file, spec.name, shape: spec.shape, into: buffer.view(i))
            }
        }
        return (
            try GAN(config: config, generator: g, discriminator: d),
            CheckpointInfo(config: .gan(config), tokenizer: file.metadata[Checkpoint.tokenizerKey], headsSource: "none", assumed: [])
        )
    }
}

/// The squared maximum mean discrepancy (Gretton et al. 2012) between a reference sample x and a sample y, with a
/// Gaussian kernel exp(−‖a − b‖² / w) whose w is the median squared distance within x (so evaluations against the same
/// reference share one kernel and compare): the unbiased estimate, 0 in expectation for equal distributions.
public enum MaximumMeanDiscrepancy {
    public static func squared(_ x: [Float], _ y: [Float], dimension D: Int) -> Double {
        let n = x.count / D, m = y.count / D
        precondition(n >= 2 && m >= 2)
        func distance(_ a: [Float], _ i: Int, _ b: [Float], _ j: Int) -> Double {
            var s = 0.0
            for k in 0..<D { let d = Double(a[i * D + k] - b[j * D + k]); s += d * d }
            return s
        }
        var distances: [Double] = []
        for i in 0..<n { for j in (i + 1)..<n { distances.append(distance(x, i, x, j)) } }
        distances.sort()
        let width = max(distances[distances.count / 2], 1e-12)
        func kernel(_ a: [Float], _ i: Int, _ b: [Float], _ j: Int) -> Double { Foundation.exp(-distance(a, i, b, j) / width) }
        var xx = 0.0, yy = 0.0, xy = 0.0
        for i in 0..<n { for j in 0..<n where i != j { xx += kernel(x, i, x, j) } }
        for i in 0..<m { for j in 0..<m where i != j { yy += kernel(y, i, y, j) } }
        for i in 0..<n { for j in 0..<m { xy += kernel(x, i, y, j) } }
        return xx / Double(n * (n - 1)) + yy / Double(m * (m - 1)) - 2 * xy / Double(n * m)
    }
}
