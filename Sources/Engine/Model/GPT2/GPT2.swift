// Legend: B batch, T time, C channels, NH heads, L layers, V vocabulary, Vp padded vocabulary.

/// GPT-2: token + learned position embeddings, L pre-LayerNorm blocks (causal multi-head attention,
/// 4× GELU MLP, residuals), a final LayerNorm and an LM head tied to the token embedding.
///
/// Parameters live in one `TensorBuffer` with Hugging Face names; gradients in a second one with the
/// same layout; activations for a (B, T) shape in a third, reallocated only when the shape changes.
/// A training step allocates nothing. Dropout (off by default) draws its masks from `dropoutSeed`, so runs
/// with it stay reproducible.
public final class GPT2: LanguageModel {
    public let config: GPT2Config
    public let parameters: TensorBuffer
    let params: GPT2Tensors
    private var gradientBuffer: TensorBuffer?
    private var gradientTensors: GPT2Tensors?
    private var gradientSquares: GradientSquares?
    private var activations: GPT2Activations?
    /// Probability of dropping an element of the embeddings and of each residual branch's output (attention and
    /// MLP projections), as in GPT-2's `embd_pdrop`/`resid_pdrop`; applied in `forwardBackward` only, never in
    /// evaluation or inference. Attention probabilities are not dropped.
    public var dropout: Float = 0
    /// Seed of the next `forwardBackward`'s dropout masks; the trainer sets it per micro-batch so runs are reproducible.
    public var dropoutSeed: UInt64 = 0
    /// How the matrices are stored for inference (`quantize`); fp32 unless asked.
    public internal(set) var weightPrecision: WeightPrecision = .fp32
    var products = MatrixProducts.fp32

    /// A freshly initialised model: N(0, 0.02) weights and embeddings, residual projections
    /// (`attn.c_proj`, `mlp.c_proj`) scaled by 1/√(2L) as in GPT-2, LayerNorm gains 1, biases 0.
    ///
    /// Each tensor is filled in fixed chunks of 2^20 values, each from its own SplitMix64 stream derived
    /// from (seed, tensor, chunk): initialisation runs on all cores yet is identical for any thread count.
    public convenience init(config: GPT2Config, seed: UInt64) throws {
        try config.validate()
        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        for (i, spec) in buffer.layout.specs.enumerated() {
            let view = buffer.view(i)
            if spec.name.hasSuffix("ln_1.weight") || spec.name.hasSuffix("ln_2.weight") || spec.name == "ln_f.weight" {
                view.update(repeating: 1)
            } else if spec.decays {
                let residualProjection = spec.name.hasSuffix("c_proj.weight")
                let std: Float = residualProjection ? 0.02 / Float(2 * config.layers).squareRoot() : 0.02
                let count = spec.name == "wte.weight" ? config.vocabularySize * config.channels : view.count
                buffer.fillNormal(tensor: i, count: count, std: std, seed: seed)
            }
        }
        try self.init(config: config, parameters: buffer)
    }

    /// Wraps a filled parameter buffer (e.g. from a checkpoint); its layout must be `config.parameterSpecs`.
    public init(config: GPT2Config, parameters: TensorBuffer) throws {
        try config.validate()
        precondition(parameters.layout.specs == config.parameterSpecs, "parameter layout does not match the config")
        self.config = config
        self.parameters = parameters
        self.params = GPT2Tensors(parameters, layers: config.layers)
    }

    public var configuration: any ModelConfiguration { config }

    public func gradients() -> TensorBuffer {
        if let gradientBuffer { return gradientBuffer }
        let buffer = TensorBuffer(layout: parameters.layout)
        gradientBuffer = buffer
        gradientTensors = GPT2Tensors(buffer, layers: config.layers)
        gradientSquares = GradientSquares(gradients: buffer)
        return buffer
    }

    /// The four weight matrices of every block and the tied embedding (the LM head's squares as stored, corrected for the
    /// rows the token scatter adds to), as the last backward pass stored them; not biases, norms and positions (a small
    /// read).
    public var recordedGradientSquares: GradientSquares? { gradientSquares }

    public func trainingFLOPs(_ batch: Batch) -> Double {
        guard case let .nextToken(_, _, B, T) = batch else { return 0 }
        return config.trainingStepFLOPs(B: B, T: T)
    }

    public func loss(_ batch: Batch) throws -> Float {
        let (inputs, targets, B, T) = try Self.nextToken(batch)
        return try forward(inputs: inputs, targets: targets, B: B, T: T)
    }

    public func lossAndGradients(_ batch: Batch, gradientWrite: GradientWrite, lossScale: Float) throws -> Float {
        let (inputs, targets, B, T) = try Self.nextToken(batch)
        return try forwardBackward(inputs: inputs, targets: targets, B: B, T: T, gradientWrite: gradientWrite, lossScale: lossScale)
    }

    /// The parts of a next-token batch; any other kind is refused by name.
    static func nextToken(_ batch: Batch) throws -> (inputs: [Int32], targets: [Int32], B: Int, T: Int) {
        guard case let .nextToken(inputs, targets, B, T) = batch else {
            throw EngineError.invalidArgument(
                "a causal language model trains on next-token batches, not \(batch.kind) ones",
                fix: "give it windows of a token stream")
        }
        return (inputs, targets, B, T)
    }

    /// Bytes of the cached activations and backward scratch for the last (B, T) shape (0 before any pass).
    public var activationBytes: Int { (activations?.storage.layout.count ?? 0) * MemoryLayout<Float>.stride }

    /// Frees cached activations (e.g. before building an inference session for a large model).
    public func releaseActivations() { activations = nil }

    // MARK: - Public passes

    public func forward(inputs: [Int32], targets: [Int32], B: Int, T: Int) throws -> Float {
        let a = try prepare(inputs: inputs, targets: targets, B: B, T: T, withGradients: false)
        runForward(a)
        SoftmaxCrossEntropy.forward(
            losses: a.losses, logits: a.logits, targets: UnsafeBufferPointer(a.targets),
            R: B * T, V: config.vocabularySize, Vp: config.paddedVocabularySize)
        return meanLoss(a)
    }

    /// Forward without a loss; afterwards `logits(row:)` reads row b·T + t.
    public func forwardLogits(inputs: [Int32], B: Int, T: Int) throws {
        let a = try prepare(inputs: inputs, targets: nil, B: B, T: T, withGradients: false)
        runForward(a)
    }

    /// The V real logits of row `row` (= b·T + t) of the last `forwardLogits` call.
    public func logits(row: Int) -> UnsafeBufferPointer<Float> {
        guard let a = activations else { preconditionFailure("logits(row:) before a forward pass") }
        precondition(row < a.B * a.T)
        return UnsafeBufferPointer(start: a.logits.baseAddress! + row * config.paddedVocabularySize, count: config.vocabularySize)
    }

    public func forwardBackward(
        inputs: [Int32], targets: [Int32], B: Int, T: Int,
        gradientWrite: GradientWrite, lossScale: Float = 1
    ) throws -> Float {
        precondition(dropout >= 0 && dropout < 1, "dropout must be in [0, 1)")
        let a = try prepare(inputs: inputs, targets: targets, B: B, T: T, withGradients: true, withDropout: dropout > 0)
        _ = gradients()
        runForward(a, dropping: dropout > 0)
        SoftmaxCrossEntropy.forwardBackward(
            losses: a.losses, logits: a.logits, targets: UnsafeBufferPointer(a.targets),
            R: B * T, V: config.vocabularySize, Vp: config.paddedVocabularySize,
            dlossScale: lossScale / Float(B * T))
        runBackward(a, gradientWrite: gradientWrite, dropping: dropout > 0)
        return meanLoss(a)
    }

    // MARK: - Passes

    private func prepare(
        inputs: [Int32], targets: [Int32]?, B: Int, T: Int, withGradients: Bool,
        withDropout: Bool = false
    ) throws -> GPT2Activations {
        guard B >= 1, T >= 1, T <= config.maxSequence else {
            throw EngineError.invalidArgument(
                "batch \(B) × sequence \(T) does not fit a model with context \(config.maxSequence)",
                fix: "use 1 ≤ --seq ≤ \(config.maxSequence) and --batch ≥ 1")
        }
        guard inputs.count == B * T, targets.map({ $0.count == B * T }) ?? true else {
            throw EngineError.invalidArgument("got \(inputs.count) inputs for B×T = \(B * T)", fix: "pass exactly B·T token ids")
        }
        try checkRange(inputs)
        if let targets { try checkRange(targets) }
        let a: GPT2Activations
        if let existing = activations, existing.B == B, existing.T == T, existing.hasGradientScratch || !withGradients,
            existing.hasDropout || !withDropout
        {
            a = existing
        } else {
            activations = nil
            a = GPT2Activations(config: config, B: B, T: T, withGradients: withGradients, withDropout: withDropout)
            activations = a
        }
        _ = a.inputs.update(fromContentsOf: inputs)
        if let targets { _ = a.targets.update(fromContentsOf: targets) }
        return a
    }

    private func checkRange(_ ids: [Int32]) throws {
        let V = Int32(config.vocabularySize)
        if let bad = ids.first(where: { $0 < 0 || $0 >= V }) {
            throw EngineError(
                .tokenOutOfRange, "token id \(bad) is outside the model's vocabulary 0..<\(V)",
                fix: "use a tokenizer that matches the checkpoint, or check --dtype of the token file")
        }
    }

    private func meanLoss(_ a: GPT2Activations) -> Float {
        var sum: Double = 0
        for i in 0..<(a.B * a.T) { sum += Double(a.losses[i]) }
        return Float(sum / Double(a.B * a.T))
    }

    /// - Parameter dropping: draw dropout masks (from `dropoutSeed`) and apply them; each residual add is then done
    ///   after the projection instead of fused into it, so the branch can be masked first.
    private func runForward(_ a: GPT2Activations, dropping: Bool = false) {
        let B = a.B, T = a.T, C = config.channels, BT = B * T
        let p = params, A = config.attentionWidth, layout = AttentionLayout.fused(C: A, NH: config.heads)
        PositionalEmbedding.forward(out: a.encoded, tokens: UnsafeBufferPointer(a.inputs), wte: p.wte, wpe: p.wpe, B: B, T: T, C: C)
        if dropping {
            Dropout.fillMask(a.embeddingDropMask, p: dropout, seed: dropoutSeed)
            Dropout.scale(a.encoded, by: a.embeddingDropMask)
        }
        for l in 0..<config.layers {
            let b = a.blocks[l]
            let buffers = GPT2BlockBuffers(
                ln1: b.ln1, ln1Mean: b.ln1Mean, ln1Rstd: b.ln1Rstd, qkv: b.qkv, atty: b.atty, residual2: b.residual2, ln2: b.ln2,
                ln2Mean: b.ln2Mean, ln2Rstd: b.ln2Rstd, fch: b.fch, fchGelu: b.fchGelu, residual3: b.residual3)
            let drop =
                dropping
                ? GPT2BlockDropout(
                    p: dropout, attentionMask: b.attnDropMask, mlpMask: b.mlpDropMask,
                    attentionSeed: dropoutSeed &+ UInt64(2 * l + 1), mlpSeed: dropoutSeed &+ UInt64(2 * l + 2))
                : nil
            Self.block(
                p.blocks[l], input: l == 0 ? a.encoded : a.blocks[l - 1].residual3, buffers: buffers, M: BT, C: C, A: A,
                H: config.mlpWidth, dropout: drop
            ) {
                Attention.forward(out: b.atty, att: b.att, qkv: b.qkv, B: B, T: T, layout: layout)
            }
        }
        let last = a.blocks[config.layers - 1].residual3
        LayerNorm.forward(out: a.lnf, mean: a.lnfMean, rstd: a.lnfRstd, inp: last, weight: p.lnfw, bias: p.lnfb, R: BT, C: C)
        MatMul.forward(
            out: a.logits, inp: a.lnf, weight: p.wte, bias: nil, M: BT, K: C, N: config.paddedVocabularySize, layout: .outputMajor)
    }

    /// Backward from dlogits (held in `a.logits`). The residual-stream gradient lives in `a.dresidual`
    /// throughout: a residual add passes it unchanged to both branches, and each LayerNorm adds its
    /// input gradient into it, so no residual-backward pass or copy is needed.
    private func runBackward(_ a: GPT2Activations, gradientWrite pw: GradientWrite, dropping: Bool) {
        let B = a.B, T = a.T, C = config.channels, NH = config.heads, BT = B * T, A = config.attentionWidth
        let p = params, g = gradientTensors!, squares = gradientSquares!
        squares.reset()
        let headSquares = MatMul.backward(
            dinp: a.dbtc, dweight: g.wte, dbias: nil, dout: a.logits, inp: a.lnf, weight: p.wte,
            M: BT, K: C, N: config.paddedVocabularySize, layout: .outputMajor, parameterWrite: pw)
        let last = a.blocks[config.layers - 1].residual3
        LayerNorm.backward(
            dinp: a.dresidual, dweight: g.lnfw, dbias: g.lnfb, dout: a.dbtc, inp: last, weight: p.lnfw,
            mean: a.lnfMean, rstd: a.lnfRstd, scratch: a.normScratch, R: BT, C: C,
            inputWrite: .overwrite, parameterWrite: pw)
        // With dropout, a branch receives the stream's gradient through its mask; the stream itself passes it on unchanged.
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            let b = a.blocks[l], w = p.blocks[l], d = g.blocks[l]
            let residual = l == 0 ? a.encoded : a.blocks[l - 1].residual3
            if dropping { Dropout.masked(out: a.dbranch, dout: a.dresidual, mask: b.mlpDropMask) }
            squares.record(
                d.fcprojw,
                MatMul.backward(
                    dinp: a.dfch, dweight: d.fcprojw, dbias: d.fcprojb, dout: dropping ? a.dbranch : a.dresidual, inp: b.fchGelu,
                    weight: w.fcprojw,
                    M: BT, K: config.mlpWidth, N: C, parameterWrite: pw))
            GELU.backward(dinp: a.dfch, inp: b.fch, dout: a.dfch, N: BT * config.mlpWidth)
            squares.record(
                d.fcw,
                MatMul.backward(
                    dinp: a.dbtc, dweight: d.fcw, dbias: d.fcb, dout: a.dfch, inp: b.ln2, weight: w.fcw,
                    M: BT, K: C, N: config.mlpWidth, parameterWrite: pw))
            LayerNorm.backward(
                dinp: a.dresidual, dweight: d.ln2w, dbias: d.ln2b, dout: a.dbtc, inp: b.residual2, weight: w.ln2w,
                mean: b.ln2Mean, rstd: b.ln2Rstd, scratch: a.normScratch, R: BT, C: C,
                inputWrite: .accumulate, parameterWrite: pw)
            if dropping { Dropout.masked(out: a.dbranch, dout: a.dresidual, mask: b.attnDropMask) }
            squares.record(
                d.projw,
                MatMul.backward(
                    dinp: a.dbtc, dweight: d.projw, dbias: d.projb, dout: dropping ? a.dbranch : a.dresidual, inp: b.atty, weight: w.projw,
                    M: BT, K: A, N: C, parameterWrite: pw))
            Attention.backward(dqkv: a.dqkv, datt: a.datt, dout: a.dbtc, qkv: b.qkv, att: b.att, B: B, T: T, C: A, NH: NH)
            squares.record(
                d.qkvw,
                MatMul.backward(
                    dinp: a.dbtc, dweight: d.qkvw, dbias: d.qkvb, dout: a.dqkv, inp: b.ln1, weight: w.qkvw,
                    M: BT, K: C, N: 3 * A, parameterWrite: pw))
            LayerNorm.backward(
                dinp: a.dresidual, dweight: d.ln1w, dbias: d.ln1b, dout: a.dbtc, inp: residual, weight: w.ln1w,
                mean: b.ln1Mean, rstd: b.ln1Rstd, scratch: a.normScratch, R: BT, C: C,
                inputWrite: .accumulate, parameterWrite: pw)
        }
        if dropping { Dropout.scale(a.dresidual, by: a.embeddingDropMask) }
        if pw == .overwrite { g.wpe.update(repeating: 0) }
        // The scatter adds to the rows of the batch's tokens: the tied embedding's squares are the LM head's, with
        // those rows' squares before the scatter swapped for theirs after.
        let tokens = GradientSquares.distinctTokens(a.inputs)
        let before = headSquares.map { _ in GradientSquares.sumOfSquares(rows: tokens, in: g.wte, width: C) }
        PositionalEmbedding.backward(dwte: g.wte, dwpe: g.wpe, dout: a.dresidual, tokens: UnsafeBufferPointer(a.inputs), B: B, T: T, C: C)
        if let headSquares, let before {
            // Rounding may take an all-but-zero sum below 0; a NaN (an overflowed gradient) must reach the norm as NaN.
            let sum = headSquares - before + GradientSquares.sumOfSquares(rows: tokens, in: g.wte, width: C)
            squares.record(g.wte, sum < 0 ? 0 : sum)
        }
    }
}
