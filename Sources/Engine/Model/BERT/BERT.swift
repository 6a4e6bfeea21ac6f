import Foundation

// Legend: B batch, T time, M = B·T rows, C channels, NH heads, hs head size, H feed-forward width, L layers,
// V vocabulary, Vp padded vocabulary.

/// BERT (Devlin et al. 2019): word + position + segment embeddings and a LayerNorm, L post-LayerNorm layers
/// (bidirectional multi-head attention with a padding mask, then an exact-GELU feed-forward, each followed by its
/// residual add and LayerNorm), a pooler over the first token, and the masked-language-model head (dense, GELU,
/// LayerNorm, decoder tied to the word embeddings plus a bias).
///
/// As the other architectures: parameters in one `TensorBuffer` with Hugging Face names, gradients in a second,
/// activations for a (B, T) shape in a third. Trains on masked-token batches (`MaskedLanguageModeling`); the loss is
/// the mean cross-entropy over the masked positions. This architecture trains without dropout: a probability above 0 is refused.
public final class BERT: TrainableModel, EncodingModel {
    public let config: BERTConfig
    public let parameters: TensorBuffer
    let params: BERTTensors
    private var gradientBuffer: TensorBuffer?
    private var gradientTensors: BERTTensors?
    private var activations: BERTActivations?
    public var dropout: Float = 0
    public var dropoutSeed: UInt64 = 0

    /// A freshly initialised model as Hugging Face initialises BERT: N(0, 0.02) matrices and embedding tables,
    /// biases 0, LayerNorm gains 1 (seeded chunks, the same for any thread count).
    public convenience init(config: BERTConfig, seed: UInt64) throws {
        try config.validate()
        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        for (i, spec) in buffer.layout.specs.enumerated() {
            if spec.name.hasSuffix("LayerNorm.weight") {
                buffer.view(i).update(repeating: 1)
            } else if spec.decays || spec.name == "bert.pooler.dense.weight" {
                let words = spec.name == "bert.embeddings.word_embeddings.weight"
                buffer.fillNormal(tensor: i, count: words ? config.vocabularySize * config.channels : spec.count, std: 0.02, seed: seed)
            }
        }
        try self.init(config: config, parameters: buffer)
    }

    /// Wraps a filled parameter buffer (e.g. from a checkpoint); its layout must be `config.parameterSpecs`.
    public init(config: BERTConfig, parameters: TensorBuffer) throws {
        try config.validate()
        precondition(parameters.layout.specs == config.parameterSpecs, "parameter layout does not match the config")
        self.config = config
        self.parameters = parameters
        params = BERTTensors(parameters, config: config)
    }

    public var configuration: any ModelConfiguration { config }

    public func gradients() -> TensorBuffer {
        if let gradientBuffer { return gradientBuffer }
        let buffer = TensorBuffer(layout: parameters.layout)
        gradientBuffer = buffer
        gradientTensors = BERTTensors(buffer, config: config)
        return buffer
    }

    public var activationBytes: Int { (activations?.storage.layout.count ?? 0) * MemoryLayout<Float>.stride }

    public func trainingFLOPs(_ batch: Batch) -> Double {
        guard case let .maskedTokens(_, _, _, _, B, T) = batch else { return 0 }
        return config.trainingStepFLOPs(B: B, T: T)
    }

    public func loss(_ batch: Batch) throws -> Float { try score(batch).loss }

    public func score(_ batch: Batch) throws -> BatchScore {
        let a = try prepare(batch, withGradients: false)
        runForward(a, withLogits: true)
        let M = a.B * a.T
        let scored = a.targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        a.targets.withUnsafeBufferPointer { targets in
            SoftmaxCrossEntropy.forward(
                losses: a.losses, logits: a.logits, targets: targets, R: M, V: config.vocabularySize, Vp: config.paddedVocabularySize)
        }
        let hits = a.targets.withUnsafeBufferPointer { targets in
            SoftmaxCrossEntropy.hits(
                logits: a.logits.baseAddress!, targets: targets, R: M, V: config.vocabularySize, Vp: config.paddedVocabularySize)
        }
        return BatchScore(loss: meanLoss(a, scored: scored), scored: scored, correct: hits)
    }

    public func lossAndGradients(_ batch: Batch, gradientWrite: GradientWrite, lossScale: Float) throws -> Float {
        guard dropout == 0 else {
            throw EngineError.invalidArgument(
                "bert trains without dropout (the engine applies it to GPT-2 and the recurrent models)", fix: "train it with --dropout 0")
        }
        let a = try prepare(batch, withGradients: true)
        _ = gradients()
        runForward(a, withLogits: true)
        let M = a.B * a.T
        let scored = a.targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        a.targets.withUnsafeBufferPointer { targets in
            SoftmaxCrossEntropy.forwardBackward(
                losses: a.losses, logits: a.logits, targets: targets, R: M, V: config.vocabularySize, Vp: config.paddedVocabularySize,
                dlossScale: lossScale / Float(max(1, scored)))
        }
        runBackward(a, gradientWrite: gradientWrite)
        return meanLoss(a, scored: scored)
    }

    public func encode(_ input: EncoderInput, logits withLogits: Bool) throws -> EncoderOutput {
        let batch = Batch.maskedTokens(
            inputs: input.tokens, targets: [Int32](repeating: -1, count: input.tokens.count), padding: input.padding,
            segments: input.segments, B: input.B, T: input.T)
        let a = try prepare(batch, withGradients: false, withLogits: withLogits)
        runForward(a, withLogits: withLogits)
        let C = config.channels, V = config.vocabularySize, Vp = config.paddedVocabularySize
        var pooled: [Float]?
        if let w = params.pooler, let bias = params.poolerBias {
            // The pooler reads each sequence's first row: one sgemm over rows strided by T·C.
            BLAS.gemm(
                transA: false, transB: true, m: a.B, n: C, k: C, a: a.states.baseAddress!, lda: a.T * C, b: w.baseAddress!, ldb: C, beta: 0,
                c: a.pooled.baseAddress!, ldc: C)
            for b in 0..<a.B {
                for j in 0..<C { a.pooled[b * C + j] = Foundation.tanhf(a.pooled[b * C + j] + bias[j]) }
            }
            pooled = Array(a.pooled)
        }
        let logits = withLogits ? (0..<(a.B * a.T)).flatMap { r in a.logits[(r * Vp)..<(r * Vp + V)] } : nil
        return EncoderOutput(states: Array(a.states), pooled: pooled, logits: logits)
    }

    // MARK: - Passes

    private func prepare(_ batch: Batch, withGradients: Bool, withLogits: Bool = true) throws -> BERTActivations {
        guard case let .maskedTokens(inputs, targets, padding, segments, B, T) = batch else {
            throw EngineError.invalidArgument(
                "bert trains on masked-token batches, not \(batch.kind) ones", fix: "train it through `model train --arch bert`")
        }
        guard B >= 1, T >= 1, T <= config.maxSequence else {
            throw EngineError.invalidArgument(
                "batch \(B) × sequence \(T) does not fit a model with \(config.maxSequence) positions",
                fix: "use 1 ≤ --seq ≤ \(config.maxSequence) and --batch ≥ 1")
        }
        let M = B * T
        guard inputs.count == M, targets.count == M, padding.count == M, segments.map({ $0.count == M }) ?? true else {
            throw EngineError.invalidArgument(
                "a masked-token batch needs B·T = \(M) inputs, targets, padding flags and segments", fix: "pass exactly B·T of each")
        }
        let V = Int32(config.vocabularySize)
        if let bad = inputs.first(where: { $0 < 0 || $0 >= V }) ?? targets.first(where: { $0 >= V }) {
            throw EngineError(
                .tokenOutOfRange, "token id \(bad) is outside the model's vocabulary 0..<\(V)",
                fix: "use a tokenizer that matches the checkpoint")
        }
        if let segments, let bad = segments.first(where: { $0 < 0 || Int($0) >= config.segmentTypes }) {
            throw EngineError.invalidArgument(
                "segment id \(bad) is outside the model's \(config.segmentTypes) token types",
                fix: "use segment ids 0..<\(config.segmentTypes)")
        }
        for b in 0..<B where !(0..<T).contains(where: { padding[b * T + $0] == 0 }) {
            throw EngineError.invalidArgument(
                "sequence \(b) of the batch is all padding", fix: "give every sequence at least one real token")
        }
        let a: BERTActivations
        if let existing = activations, existing.B == B, existing.T == T, existing.hasGradientScratch || !withGradients,
            existing.hasLogits || !withLogits
        {
            a = existing
        } else {
            activations = nil
            a = BERTActivations(config: config, B: B, T: T, withLogits: withLogits, withGradients: withGradients)
            activations = a
        }
        a.inputs = inputs
        a.targets = targets
        a.segments = segments ?? [Int32](repeating: 0, count: M)
        a.padding = padding
        return a
    }

    private func meanLoss(_ a: BERTActivations, scored: Int) -> Float {
        var sum: Double = 0
        for i in 0..<(a.B * a.T) { sum += Double(a.losses[i]) }
        return Float(sum / Double(max(1, scored)))
    }

    private var attentionScale: Float { 1 / Float(config.headSize).squareRoot() }

    private func runForward(_ a: BERTActivations, withLogits: Bool) {
        let B = a.B, T = a.T, M = B * T, C = config.channels, H = config.hidden, NH = config.heads, eps = config.normEpsilon
        let p = params
        let words = p.words.baseAddress!, positions = p.positions.baseAddress!, segments = p.segments.baseAddress!
        let sum = a.embeddingSum.baseAddress!
        a.inputs.withUnsafeBufferPointer { tokens in
            a.segments.withUnsafeBufferPointer { types in
                Parallel.forEachChunk(M, minChunk: 64) { _, rows in
                    for r in rows {
                        let o = sum + r * C, w = words + Int(tokens[r]) * C, q = positions + (r % T) * C, s = segments + Int(types[r]) * C
                        for j in 0..<C { o[j] = w[j] + q[j] + s[j] }
                    }
                }
            }
        }
        LayerNorm.forward(
            out: a.embedded, mean: a.embeddingMean, rstd: a.embeddingRstd, inp: a.embeddingSum, weight: p.embeddingNorm,
            bias: p.embeddingNormBias, R: M, C: C, epsilon: eps)
        a.padding.withUnsafeBufferPointer { padding in
            let masking = AttentionMasking(scale: attentionScale, keyPadding: padding.baseAddress!)
            for l in 0..<config.layers {
                let x = l == 0 ? a.embedded : a.layers[l - 1].norm2, b = a.layers[l], w = p.layers[l]
                MatMul.forward(out: b.qkv, inp: x, weight: w.qkv, bias: w.qkvBias, M: M, K: C, N: 3 * C, layout: .outputMajor)
                MaskedAttention.forward(
                    out: b.atty.baseAddress!, att: b.att.baseAddress!, operands: .fused(b.qkv.baseAddress!, width: C), masking: masking,
                    B: B,
                    Tq: T, Tk: T, NH: NH, hs: config.headSize)
                MatMul.forward(
                    out: b.attentionSum, inp: b.atty, weight: w.attentionOutput, bias: w.attentionOutputBias, residual: x, M: M, K: C, N: C,
                    layout: .outputMajor)
                LayerNorm.forward(
                    out: b.norm1, mean: b.norm1Mean, rstd: b.norm1Rstd, inp: b.attentionSum, weight: w.norm1, bias: w.norm1Bias, R: M, C: C,
                    epsilon: eps)
                MatMul.forward(
                    out: b.intermediate, inp: b.norm1, weight: w.intermediate, bias: w.intermediateBias, M: M, K: C, N: H,
                    layout: .outputMajor)
                ExactGELU.forward(out: b.activated.baseAddress!, inp: b.intermediate.baseAddress!, N: M * H)
                MatMul.forward(
                    out: b.outputSum, inp: b.activated, weight: w.output, bias: w.outputBias, residual: b.norm1, M: M, K: H, N: C,
                    layout: .outputMajor)
                LayerNorm.forward(
                    out: b.norm2, mean: b.norm2Mean, rstd: b.norm2Rstd, inp: b.outputSum, weight: w.norm2, bias: w.norm2Bias, R: M, C: C,
                    epsilon: eps)
            }
        }
        guard withLogits else { return }
        MatMul.forward(out: a.transform, inp: a.states, weight: p.transform, bias: p.transformBias, M: M, K: C, N: C, layout: .outputMajor)
        ExactGELU.forward(out: a.transformActivated.baseAddress!, inp: a.transform.baseAddress!, N: M * C)
        LayerNorm.forward(
            out: a.transformNorm, mean: a.transformMean, rstd: a.transformRstd, inp: a.transformActivated, weight: p.transformNorm,
            bias: p.transformNormBias, R: M, C: C, epsilon: eps)
        MatMul.forward(
            out: a.logits, inp: a.transformNorm, weight: p.words, bias: p.decoderBias, M: M, K: C, N: config.paddedVocabularySize,
            layout: .outputMajor)
    }

    /// Backward from dlogits (in `a.logits`). `a.dresidual` carries the gradient of the current layer's output down
    /// the stack; each residual branch accumulates into the buffer its skip connection already wrote.
    private func runBackward(_ a: BERTActivations, gradientWrite pw: GradientWrite) {
        let B = a.B, T = a.T, M = B * T, C = config.channels, H = config.hidden, NH = config.heads
        let p = params, g = gradientTensors!
        MatMul.backward(
            dinp: a.dA, dweight: g.words, dbias: g.decoderBias, dout: a.logits, inp: a.transformNorm, weight: p.words, M: M, K: C,
            N: config.paddedVocabularySize, layout: .outputMajor, parameterWrite: pw)
        LayerNorm.backward(
            dinp: a.dresidual, dweight: g.transformNorm, dbias: g.transformNormBias, dout: a.dA, inp: a.transformActivated,
            weight: p.transformNorm, mean: a.transformMean, rstd: a.transformRstd, scratch: a.normScratch, R: M, C: C,
            inputWrite: .overwrite, parameterWrite: pw)
        ExactGELU.backward(dinp: a.dresidual.baseAddress!, inp: a.transform.baseAddress!, dout: a.dresidual.baseAddress!, N: M * C)
        MatMul.backward(
            dinp: a.dA, dweight: g.transform, dbias: g.transformBias, dout: a.dresidual, inp: a.states, weight: p.transform, M: M, K: C,
            N: C, layout: .outputMajor, parameterWrite: pw)
        if let dpooler = g.pooler, let dpoolerBias = g.poolerBias, pw == .overwrite {
            // The pooler is not part of the masked-language-model loss.
            dpooler.update(repeating: 0)
            dpoolerBias.update(repeating: 0)
        }
        // a.dA holds the gradient of the last layer's output; the stack's backward carries it in a.dresidual.
        a.dresidual.baseAddress!.update(from: a.dA.baseAddress!, count: M * C)
        a.padding.withUnsafeBufferPointer { padding in
            let masking = AttentionMasking(scale: attentionScale, keyPadding: padding.baseAddress!)
            for l in stride(from: config.layers - 1, through: 0, by: -1) {
                let x = l == 0 ? a.embedded : a.layers[l - 1].norm2, b = a.layers[l], w = p.layers[l], d = g.layers[l]
                LayerNorm.backward(
                    dinp: a.dA, dweight: d.norm2, dbias: d.norm2Bias, dout: a.dresidual, inp: b.outputSum, weight: w.norm2,
                    mean: b.norm2Mean,
                    rstd: b.norm2Rstd, scratch: a.normScratch, R: M, C: C, inputWrite: .overwrite, parameterWrite: pw)
                MatMul.backward(
                    dinp: a.dH, dweight: d.output, dbias: d.outputBias, dout: a.dA, inp: b.activated, weight: w.output, M: M, K: H, N: C,
                    layout: .outputMajor, parameterWrite: pw)
                ExactGELU.backward(dinp: a.dH.baseAddress!, inp: b.intermediate.baseAddress!, dout: a.dH.baseAddress!, N: M * H)
                MatMul.backward(
                    dinp: a.dA, dweight: d.intermediate, dbias: d.intermediateBias, dout: a.dH, inp: b.norm1, weight: w.intermediate, M: M,
                    K: C, N: H, layout: .outputMajor, inputWrite: .accumulate, parameterWrite: pw)
                LayerNorm.backward(
                    dinp: a.dresidual, dweight: d.norm1, dbias: d.norm1Bias, dout: a.dA, inp: b.attentionSum, weight: w.norm1,
                    mean: b.norm1Mean, rstd: b.norm1Rstd, scratch: a.normScratch, R: M, C: C, inputWrite: .overwrite, parameterWrite: pw)
                MatMul.backward(
                    dinp: a.dA, dweight: d.attentionOutput, dbias: d.attentionOutputBias, dout: a.dresidual, inp: b.atty,
                    weight: w.attentionOutput, M: M, K: C, N: C, layout: .outputMajor, parameterWrite: pw)
                MaskedAttention.backward(
                    gradients: .fused(a.dqkv.baseAddress!, width: C), datt: a.datt.baseAddress!, dbias: nil, dout: a.dA.baseAddress!,
                    operands: .fused(b.qkv.baseAddress!, width: C), att: b.att.baseAddress!, masking: masking, B: B, Tq: T, Tk: T, NH: NH,
                    hs: config.headSize)
                MatMul.backward(
                    dinp: a.dresidual, dweight: d.qkv, dbias: d.qkvBias, dout: a.dqkv, inp: x, weight: w.qkv, M: M, K: C, N: 3 * C,
                    layout: .outputMajor, inputWrite: .accumulate, parameterWrite: pw)
            }
        }
        LayerNorm.backward(
            dinp: a.dA, dweight: g.embeddingNorm, dbias: g.embeddingNormBias, dout: a.dresidual, inp: a.embeddingSum,
            weight: p.embeddingNorm, mean: a.embeddingMean, rstd: a.embeddingRstd, scratch: a.normScratch, R: M, C: C,
            inputWrite: .overwrite, parameterWrite: pw)
        if pw == .overwrite {
            g.positions.update(repeating: 0)
            g.segments.update(repeating: 0)
        }
        // The pad token's row gets no gradient from the lookup (PyTorch's `padding_idx`), only from the tied decoder.
        let dA = a.dA.baseAddress!, dwords = g.words.baseAddress!, dpos = g.positions.baseAddress!, dseg = g.segments.baseAddress!
        let pad = Int32(config.padTokenID)
        for r in 0..<M {
            let src = dA + r * C, q = dpos + (r % T) * C, s = dseg + Int(a.segments[r]) * C
            for j in 0..<C { q[j] += src[j]; s[j] += src[j] }
            if a.inputs[r] != pad {
                let w = dwords + Int(a.inputs[r]) * C
                for j in 0..<C { w[j] += src[j] }
            }
        }
    }
}
