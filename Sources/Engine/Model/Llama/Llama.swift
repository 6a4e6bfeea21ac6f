// Legend: B batch, T time, C channels, NH heads, NKV key/value heads, hs head size, QW fused q|k|v width, H hidden,
// E experts, k experts per token, L layers, V vocabulary, Vp padded vocabulary.

/// Llama (Touvron et al. 2023) and, with experts, Mixtral (Jiang et al. 2024): token embeddings, L pre-RMSNorm blocks
/// (rotary grouped-query causal attention, then a SwiGLU MLP or a top-k mixture of SwiGLU experts), a final RMSNorm
/// and an untied LM head. No biases.
///
/// As for GPT-2: parameters in one `TensorBuffer` with Hugging Face names, gradients in a second, activations for a
/// (B, T) shape in a third. Each block is written once (`Llama.block`) for training and cached inference. A mixture's
/// training loss adds `routerAuxiliaryLossCoefficient` × the load-balancing loss over all layers' tokens, as Hugging
/// Face's Mixtral does; `loss` (evaluation) is the cross-entropy alone.
public final class Llama: LanguageModel {
    public let config: LlamaConfig
    public let parameters: TensorBuffer
    let params: LlamaTensors
    let rope: RoPE.Table
    /// Where the query and key heads sit in a q|k|v row, for RoPE.
    let ropeHeads: [Int]
    private var gradientBuffer: TensorBuffer?
    private var gradientTensors: LlamaTensors?
    private var gradientSquares: GradientSquares?
    private var activations: LlamaActivations?
    /// Dropout is not part of this architecture here: training with a probability above 0 is refused.
    public var dropout: Float = 0
    public var dropoutSeed: UInt64 = 0
    /// How the matrices are stored for inference (`quantize`); fp32 unless asked.
    public internal(set) var weightPrecision: WeightPrecision = .fp32
    var products = MatrixProducts.fp32
    /// The load-balancing loss of the last training pass (before its coefficient), nil for a dense model.
    public private(set) var lastAuxiliaryLoss: Double?
    public internal(set) var expertLoad: [Int]?
    public internal(set) var expertsRead: Int?

    /// A freshly initialised model: N(0, 0.02) matrices and embeddings, the output projections (o_proj, down/w2)
    /// scaled by 1/√(2L) as in GPT-2, RMSNorm gains 1. Filled in seeded chunks as GPT-2 is: the same for any thread count.
    public convenience init(config: LlamaConfig, seed: UInt64) throws {
        try config.validate()
        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        for (i, spec) in buffer.layout.specs.enumerated() {
            let view = buffer.view(i)
            if spec.name.hasSuffix("norm.weight") || spec.name.hasSuffix("layernorm.weight") {
                view.update(repeating: 1)
            } else if spec.decays {
                let output =
                    spec.name.hasSuffix("o_proj.weight") || spec.name.hasSuffix("down_proj.weight") || spec.name.hasSuffix("w2.weight")
                let std: Float = output ? 0.02 / Float(2 * config.layers).squareRoot() : 0.02
                let padded = spec.name == "model.embed_tokens.weight" || spec.name == "lm_head.weight"
                let count = padded ? config.vocabularySize * config.channels : view.count
                buffer.fillNormal(tensor: i, count: count, std: std, seed: seed)
            }
        }
        try self.init(config: config, parameters: buffer)
    }

    /// Wraps a filled parameter buffer (e.g. from a checkpoint); its layout must be `config.parameterSpecs`.
    public init(config: LlamaConfig, parameters: TensorBuffer) throws {
        try config.validate()
        precondition(parameters.layout.specs == config.parameterSpecs, "parameter layout does not match the config")
        self.config = config
        self.parameters = parameters
        params = LlamaTensors(parameters, config: config)
        rope = RoPE.Table(headSize: config.headSize, maxPositions: config.maxSequence, base: config.ropeBase)
        ropeHeads = RoPE.queryAndKeyHeads(config.attentionLayout)
    }

    public var configuration: any ModelConfiguration { config }

    public func gradients() -> TensorBuffer {
        if let gradientBuffer { return gradientBuffer }
        let buffer = TensorBuffer(layout: parameters.layout)
        gradientBuffer = buffer
        gradientTensors = LlamaTensors(buffer, config: config)
        gradientSquares = GradientSquares(gradients: buffer)
        return buffer
    }

    /// The LM head, the dense blocks' four weight matrices and, when overwritten, the embedding (zeroed, then only the
    /// batch's token rows written), as the last backward pass stored them; not the norms, nor a mixture's router and
    /// experts (a read).
    public var recordedGradientSquares: GradientSquares? { gradientSquares }

    public var activationBytes: Int { (activations?.storage.layout.count ?? 0) * MemoryLayout<Float>.stride }

    public func trainingFLOPs(_ batch: Batch) -> Double {
        guard case let .nextToken(_, _, B, T) = batch else { return 0 }
        return config.trainingStepFLOPs(B: B, T: T)
    }

    public func loss(_ batch: Batch) throws -> Float {
        let (inputs, targets, B, T) = try GPT2.nextToken(batch)
        let a = try prepare(inputs: inputs, targets: targets, B: B, T: T, withGradients: false)
        runForward(a)
        SoftmaxCrossEntropy.forward(
            losses: a.losses, logits: a.logits, targets: UnsafeBufferPointer(a.targets), R: B * T, V: config.vocabularySize,
            Vp: config.paddedVocabularySize)
        return meanLoss(a)
    }

    public func lossAndGradients(_ batch: Batch, gradientWrite: GradientWrite, lossScale: Float) throws -> Float {
        guard dropout == 0 else {
            throw EngineError.invalidArgument(
                "\(config.architecture.rawValue) trains without dropout (the engine applies it to GPT-2 and the recurrent models)",
                fix: "train it with --dropout 0")
        }
        let (inputs, targets, B, T) = try GPT2.nextToken(batch)
        let a = try prepare(inputs: inputs, targets: targets, B: B, T: T, withGradients: true)
        _ = gradients()
        let counts = runForward(a)
        SoftmaxCrossEntropy.forwardBackward(
            losses: a.losses, logits: a.logits, targets: UnsafeBufferPointer(a.targets), R: B * T, V: config.vocabularySize,
            Vp: config.paddedVocabularySize, dlossScale: lossScale / Float(B * T))
        var loss = meanLoss(a)
        var fractions: [Float] = []
        if config.isMixture {
            // Hugging Face's load_balancing_loss_func takes every layer's tokens together: fₑ and Pₑ over L·B·T rows.
            let rows = config.layers * B * T
            var sums = [Double](repeating: 0, count: config.experts)
            for block in a.blocks {
                let p = block.mixture!.probs
                for r in 0..<(B * T) { for e in 0..<config.experts { sums[e] += Double(p[r * config.experts + e]) } }
            }
            let aux = Router.auxiliaryLoss(counts: counts, probabilitySums: sums, rows: rows, k: config.expertsPerToken)
            lastAuxiliaryLoss = aux
            loss += config.routerAuxiliaryLossCoefficient * Float(aux)
            fractions = counts.map { Float($0) / Float(rows) }
        }
        runBackward(a, gradientWrite: gradientWrite, lossScale: lossScale, fractions: fractions)
        return loss
    }

    /// Logits of every position, [B·T, V] row-major (vocabulary padding left out).
    /// - Throws: `invalidArgument` for a shape beyond the context, `tokenOutOfRange`.
    public func logits(inputs: [Int32], B: Int, T: Int) throws -> [Float] {
        let a = try prepare(inputs: inputs, targets: [Int32](repeating: 0, count: inputs.count), B: B, T: T, withGradients: false)
        runForward(a)
        let V = config.vocabularySize, Vp = config.paddedVocabularySize
        return (0..<(B * T)).flatMap { r in a.logits[(r * Vp)..<(r * Vp + V)] }
    }

    // MARK: - Passes

    private func prepare(inputs: [Int32], targets: [Int32], B: Int, T: Int, withGradients: Bool) throws -> LlamaActivations {
        guard B >= 1, T >= 1, T <= config.maxSequence else {
            throw EngineError.invalidArgument(
                "batch \(B) × sequence \(T) does not fit a model with context \(config.maxSequence)",
                fix: "use 1 ≤ --seq ≤ \(config.maxSequence) and --batch ≥ 1")
        }
        guard inputs.count == B * T, targets.count == B * T else {
            throw EngineError.invalidArgument("got \(inputs.count) inputs for B×T = \(B * T)", fix: "pass exactly B·T token ids")
        }
        let V = Int32(config.vocabularySize)
        if let bad = (inputs + targets).first(where: { $0 < 0 || $0 >= V }) {
            throw EngineError(
                .tokenOutOfRange, "token id \(bad) is outside the model's vocabulary 0..<\(V)",
                fix: "use a tokenizer that matches the checkpoint, or check --dtype of the token file")
        }
        let a: LlamaActivations
        if let existing = activations, existing.B == B, existing.T == T, existing.hasGradientScratch || !withGradients {
            a = existing
        } else {
            activations = nil
            a = LlamaActivations(config: config, B: B, T: T, withGradients: withGradients)
            activations = a
        }
        _ = a.inputs.update(fromContentsOf: inputs)
        _ = a.targets.update(fromContentsOf: targets)
        return a
    }

    private func meanLoss(_ a: LlamaActivations) -> Float {
        var sum: Double = 0
        for i in 0..<(a.B * a.T) { sum += Double(a.losses[i]) }
        return Float(sum / Double(a.B * a.T))
    }

    /// Returns the router's assignments per expert over all layers (empty for a dense model).
    @discardableResult
    private func runForward(_ a: LlamaActivations) -> [Int] {
        let B = a.B, T = a.T, C = config.channels, BT = B * T, p = params, layout = config.attentionLayout
        TokenEmbedding.forward(out: a.embedded, tokens: UnsafeBufferPointer(a.inputs), table: p.embed, R: BT, C: C)
        var counts = [Int](repeating: 0, count: config.experts)
        var readCount = 0
        for l in 0..<config.layers {
            let b = a.blocks[l]
            let buffers = LlamaBlockBuffers(
                rms1: b.rms1, rms1Rstd: b.rms1Rstd, qkv: b.qkv, atty: b.atty, residual2: b.residual2, rms2: b.rms2,
                rms2Rstd: b.rms2Rstd, gateUp: b.gateUp, act: b.act, residual3: b.residual3, mixture: b.mixture)
            let layerCounts = block(
                p.blocks[l], input: l == 0 ? a.embedded : a.blocks[l - 1].residual3, buffers: buffers, M: BT,
                positions: UnsafeBufferPointer(a.positions)
            ) {
                Attention.forward(out: b.atty, att: b.att, qkv: b.qkv, B: B, T: T, layout: layout)
            }
            for e in layerCounts.indices { counts[e] += layerCounts[e] }
            readCount += layerCounts.filter { $0 > 0 }.count
        }
        if config.isMixture {
            expertLoad = counts
            expertsRead = readCount
        }
        let last = a.blocks[config.layers - 1].residual3
        RMSNorm.forward(out: a.rmsf, rstd: a.rmsfRstd, inp: last, weight: p.norm, R: BT, C: C, epsilon: config.normEpsilon)
        MatMul.forward(
            out: a.logits, inp: a.rmsf, weight: p.lmHead, bias: nil, M: BT, K: C, N: config.paddedVocabularySize, layout: .outputMajor)
        return counts
    }

    /// Backward from dlogits (in `a.logits`). The residual stream's gradient lives in `a.dresidual` throughout; each
    /// RMSNorm adds its input gradient into it, so residual adds need no pass of their own.
    private func runBackward(_ a: LlamaActivations, gradientWrite pw: GradientWrite, lossScale: Float, fractions: [Float]) {
        let B = a.B, T = a.T, C = config.channels, BT = B * T, QW = config.qkvWidth, H = config.hidden
        let p = params, g = gradientTensors!, layout = config.attentionLayout, squares = gradientSquares!
        squares.reset()
        squares.record(
            g.lmHead,
            MatMul.backward(
                dinp: a.dbtc, dweight: g.lmHead, dbias: nil, dout: a.logits, inp: a.rmsf, weight: p.lmHead,
                M: BT, K: C, N: config.paddedVocabularySize, layout: .outputMajor, parameterWrite: pw))
        let last = a.blocks[config.layers - 1].residual3
        RMSNorm.backward(
            dinp: a.dresidual, dweight: g.norm, dout: a.dbtc, inp: last, weight: p.norm, rstd: a.rmsfRstd, scratch: a.normScratch,
            R: BT, C: C, inputWrite: .overwrite, parameterWrite: pw)
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            let b = a.blocks[l], w = p.blocks[l], d = g.blocks[l]
            let input = l == 0 ? a.embedded : a.blocks[l - 1].residual3
            if let mixture = b.mixture, let scratch = a.mixtureScratch {
                MixtureLayer.backward(
                    dinp: a.dbtc, dout: a.dresidual, inp: b.rms2, router: w.router!, drouter: d.router!, experts: w.experts,
                    dexperts: d.experts, b: mixture, scratch: scratch, M: BT, C: C, H: H, k: config.expertsPerToken,
                    auxiliaryScale: config.routerAuxiliaryLossCoefficient * lossScale, fractions: fractions,
                    auxiliaryRows: config.layers * BT, parameterWrite: pw)
            } else {
                squares.record(
                    d.down!,
                    MatMul.backward(
                        dinp: a.dact, dweight: d.down!, dbias: nil, dout: a.dresidual, inp: b.act, weight: w.down!, M: BT, K: H, N: C,
                        layout: .outputMajor, parameterWrite: pw))
                SwiGLU.backward(dgateUp: a.dgateUp, gateUp: b.gateUp, dout: a.dact, R: BT, H: H)
                squares.record(
                    d.gateUp!,
                    MatMul.backward(
                        dinp: a.dbtc, dweight: d.gateUp!, dbias: nil, dout: a.dgateUp, inp: b.rms2, weight: w.gateUp!, M: BT, K: C,
                        N: 2 * H,
                        layout: .outputMajor, parameterWrite: pw))
            }
            RMSNorm.backward(
                dinp: a.dresidual, dweight: d.norm2, dout: a.dbtc, inp: b.residual2, weight: w.norm2, rstd: b.rms2Rstd,
                scratch: a.normScratch, R: BT, C: C, inputWrite: .accumulate, parameterWrite: pw)
            squares.record(
                d.o,
                MatMul.backward(
                    dinp: a.dbtc, dweight: d.o, dbias: nil, dout: a.dresidual, inp: b.atty, weight: w.o, M: BT, K: config.attentionWidth,
                    N: C,
                    layout: .outputMajor, parameterWrite: pw))
            Attention.backward(dqkv: a.dqkv, datt: a.datt, dout: a.dbtc, qkv: b.qkv, att: b.att, B: B, T: T, layout: layout)
            // The rotation is orthogonal: its gradient is the inverse rotation.
            RoPE.apply(
                a.dqkv, R: BT, rowStride: QW, headOffsets: ropeHeads, positions: UnsafeBufferPointer(a.positions), table: rope,
                inverse: true)
            squares.record(
                d.qkv,
                MatMul.backward(
                    dinp: a.dbtc, dweight: d.qkv, dbias: nil, dout: a.dqkv, inp: b.rms1, weight: w.qkv, M: BT, K: C, N: QW,
                    layout: .outputMajor, parameterWrite: pw))
            RMSNorm.backward(
                dinp: a.dresidual, dweight: d.norm1, dout: a.dbtc, inp: input, weight: w.norm1, rstd: b.rms1Rstd,
                scratch: a.normScratch, R: BT, C: C, inputWrite: .accumulate, parameterWrite: pw)
        }
        if pw == .overwrite { g.embed.update(repeating: 0) }
        TokenEmbedding.backward(dtable: g.embed, dout: a.dresidual, tokens: UnsafeBufferPointer(a.inputs), R: BT, C: C)
        if pw == .overwrite {
            // Zeroed above, so only the batch's token rows hold anything.
            squares.record(g.embed, GradientSquares.sumOfSquares(rows: GradientSquares.distinctTokens(a.inputs), in: g.embed, width: C))
        }
    }
}

/// The views one Llama block's forward writes: training points each at its own cached activation; cached inference
/// points several at one scratch buffer, the residual stream updated in place.
struct LlamaBlockBuffers {
    var rms1, rms1Rstd, qkv, atty, residual2, rms2, rms2Rstd, gateUp, act, residual3: UnsafeMutableBufferPointer<Float>
    var mixture: MixtureBuffers?
}

extension Llama {
    /// One pre-RMSNorm block, written once for training and cached inference:
    /// x₂ = x + o(attention(RoPE(qkv(RMSNorm₁(x))))), x₃ = x₂ + MLP(RMSNorm₂(x₂)), the MLP SwiGLU or a mixture of experts.
    ///
    /// `attention` reads the rotated `b.qkv` and writes `b.atty`: the causal kernel over a (B, T) batch in training,
    /// the KV cache in inference (`session`: its products as `MatrixProducts.inference`). Returns the mixture's
    /// assignments per expert (empty for a dense block).
    func block(
        _ w: LlamaBlockTensors, input: UnsafeMutableBufferPointer<Float>, buffers b: LlamaBlockBuffers, M: Int,
        positions: UnsafeBufferPointer<Int32>, session: (any PackingDecodeState)? = nil, attention: () -> Void
    ) -> [Int] {
        let C = config.channels, QW = config.qkvWidth, H = config.hidden, eps = config.normEpsilon
        let products = session.map { self.products.inference($0) } ?? self.products
        RMSNorm.forward(out: b.rms1, rstd: b.rms1Rstd, inp: input, weight: w.norm1, R: M, C: C, epsilon: eps)
        products.forward(out: b.qkv, inp: b.rms1, weight: w.qkv, bias: nil, M: M, K: C, N: QW, layout: .outputMajor)
        RoPE.apply(b.qkv, R: M, rowStride: QW, headOffsets: ropeHeads, positions: positions, table: rope)
        attention()
        products.forward(
            out: b.residual2, inp: b.atty, weight: w.o, bias: nil, residual: input, M: M, K: config.attentionWidth, N: C,
            layout: .outputMajor)
        RMSNorm.forward(out: b.rms2, rstd: b.rms2Rstd, inp: b.residual2, weight: w.norm2, R: M, C: C, epsilon: eps)
        if let mixture = b.mixture {
            return MixtureLayer.forward(
                out: b.residual3, inp: b.rms2, residual: b.residual2, router: w.router!, experts: w.experts, b: mixture, M: M, C: C, H: H,
                k: config.expertsPerToken)
        }
        products.forward(out: b.gateUp, inp: b.rms2, weight: w.gateUp!, bias: nil, M: M, K: C, N: 2 * H, layout: .outputMajor)
        SwiGLU.forward(out: b.act, gateUp: b.gateUp, R: M, H: H)
        products.forward(
            out: b.residual3, inp: b.act, weight: w.down!, bias: nil, residual: b.residual2, M: M, K: H, N: C, layout: .outputMajor)
        return []
    }
}
