// Legend: B batch, S source positions, T target positions, Me = B·S and Md = B·T rows, C channels, A = NH·d_kv
// attention width, NH heads, H feed-forward width, L layers, V vocabulary, Vp padded vocabulary.

/// T5 v1.1 (Raffel et al. 2020; Shazeer 2020 for the gated GELU): a shared embedding; an encoder of pre-norm layers
/// (bidirectional attention with a relative position bias and the source's padding mask, then a gated-GELU
/// feed-forward) and a final RMS norm; a decoder of pre-norm layers (causal self-attention with its own relative
/// position bias, cross-attention to the encoder's output, gated-GELU feed-forward) and a final RMS norm; an LM head
/// (its own, or the shared embedding). No biases; attention scores are not scaled by 1/√d_kv (T5's initialisation
/// absorbs it); every norm is T5's RMS layer norm.
///
/// As the other architectures: one parameter `TensorBuffer` with Hugging Face names, gradients in a second,
/// activations for a (B, S, T) shape in a third. Trains on sequence-to-sequence batches (`SpanCorruption`); the loss
/// is the mean cross-entropy over targets ≥ 0. Decoding (`T5Decode.swift`) runs the encoder once per source and keeps
/// the decoder's self-attention keys and values and each layer's cross-attention keys and values in caches.
public final class T5: TrainableModel, EncodingModel {
    public let config: T5Config
    public let parameters: TensorBuffer
    let params: T5Tensors
    private var gradientBuffer: TensorBuffer?
    private var gradientTensors: T5Tensors?
    private var activations: T5Activations?
    public var dropout: Float = 0
    public var dropoutSeed: UInt64 = 0

    /// A freshly initialised model as Hugging Face initialises T5 (factor 1): shared embedding N(0, 1), LM head
    /// N(0, 1); q N(0, (C·d_kv)^-½), k, v and o N(0, C^-½) and N(0, A^-½); wi N(0, C^-½), wo N(0, H^-½); relative
    /// tables N(0, C^-½); norms 1. Seeded chunks, the same for any thread count.
    public convenience init(config: T5Config, seed: UInt64) throws {
        try config.validate()
        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        let C = Float(config.channels), A = Float(config.attentionWidth), H = Float(config.hidden), dkv = Float(config.headSize)
        for (i, spec) in buffer.layout.specs.enumerated() {
            let name = spec.name
            guard spec.decays else {
                buffer.view(i).update(repeating: 1)
                continue
            }
            var count = spec.count
            let std: Float
            if name == "shared.weight" || name == "lm_head.weight" {
                std = 1
                count = config.vocabularySize * config.channels
            } else if name.hasSuffix(".q.weight") {
                std = 1 / (C * dkv).squareRoot()
            } else if name.hasSuffix(".o.weight") {
                std = 1 / A.squareRoot()
            } else if name.hasSuffix(".wo.weight") {
                std = 1 / H.squareRoot()
            } else {
                std = 1 / C.squareRoot()
            }
            buffer.fillNormal(tensor: i, count: count, std: std, seed: seed)
        }
        try self.init(config: config, parameters: buffer)
    }

    /// Wraps a filled parameter buffer (e.g. from a checkpoint); its layout must be `config.parameterSpecs`.
    public init(config: T5Config, parameters: TensorBuffer) throws {
        try config.validate()
        precondition(parameters.layout.specs == config.parameterSpecs, "parameter layout does not match the config")
        self.config = config
        self.parameters = parameters
        params = T5Tensors(parameters, config: config)
    }

    public var configuration: any ModelConfiguration { config }

    public func gradients() -> TensorBuffer {
        if let gradientBuffer { return gradientBuffer }
        let buffer = TensorBuffer(layout: parameters.layout)
        gradientBuffer = buffer
        gradientTensors = T5Tensors(buffer, config: config)
        return buffer
    }

    public var activationBytes: Int { (activations?.storage.layout.count ?? 0) * MemoryLayout<Float>.stride }

    public func trainingFLOPs(_ batch: Batch) -> Double {
        guard case let .sequenceToSequence(_, _, _, _, B, S, T) = batch else { return 0 }
        return config.trainingStepFLOPs(B: B, S: S, T: T)
    }

    public func loss(_ batch: Batch) throws -> Float { try score(batch).loss }

    public func score(_ batch: Batch) throws -> BatchScore {
        let a = try prepare(batch, withGradients: false)
        runEncoder(a)
        runDecoder(a)
        let Md = a.B * a.T, V = config.vocabularySize, Vp = config.paddedVocabularySize
        let scored = a.targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        let hits = a.targets.withUnsafeBufferPointer { targets in
            SoftmaxCrossEntropy.forward(losses: a.losses, logits: a.logits, targets: targets, R: Md, V: V, Vp: Vp)
            return SoftmaxCrossEntropy.hits(logits: a.logits.baseAddress!, targets: targets, R: Md, V: V, Vp: Vp)
        }
        return BatchScore(loss: meanLoss(a, scored: scored), scored: scored, correct: hits)
    }

    public func lossAndGradients(_ batch: Batch, gradientWrite: GradientWrite, lossScale: Float) throws -> Float {
        guard dropout == 0 else {
            throw EngineError.invalidArgument(
                "t5 trains without dropout (the engine applies it to GPT-2 and the recurrent models)", fix: "train it with --dropout 0")
        }
        let a = try prepare(batch, withGradients: true)
        _ = gradients()
        runEncoder(a)
        runDecoder(a)
        let Md = a.B * a.T
        let scored = a.targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        a.targets.withUnsafeBufferPointer { targets in
            SoftmaxCrossEntropy.forwardBackward(
                losses: a.losses, logits: a.logits, targets: targets, R: Md, V: config.vocabularySize, Vp: config.paddedVocabularySize,
                dlossScale: lossScale / Float(max(1, scored)))
        }
        runBackward(a, gradientWrite: gradientWrite)
        return meanLoss(a, scored: scored)
    }

    /// Logits of every decoder position, [B·T, V] row-major (vocabulary padding left out).
    /// - Throws: as `loss`.
    public func logits(_ batch: Batch) throws -> [Float] {
        let a = try prepare(batch, withGradients: false)
        runEncoder(a)
        runDecoder(a)
        let V = config.vocabularySize, Vp = config.paddedVocabularySize
        return (0..<(a.B * a.T)).flatMap { r in a.logits[(r * Vp)..<(r * Vp + V)] }
    }

    /// The encoder's output states (after its final norm) for a padded batch of sources.
    public func encode(_ input: EncoderInput, logits: Bool) throws -> EncoderOutput {
        let a = try prepareEncoder(tokens: input.tokens, padding: input.padding, B: input.B, S: input.T)
        runEncoder(a)
        return EncoderOutput(states: Array(a.encoderOut), pooled: nil, logits: nil)
    }

    // MARK: - Passes

    func prepareEncoder(tokens: [Int32], padding: [UInt8], B: Int, S: Int) throws -> T5Activations {
        try prepare(
            .sequenceToSequence(source: tokens, sourcePadding: padding, inputs: [], targets: [], B: B, S: S, T: 0), withGradients: false)
    }

    private func prepare(_ batch: Batch, withGradients: Bool) throws -> T5Activations {
        guard case let .sequenceToSequence(source, sourcePadding, inputs, targets, B, S, T) = batch else {
            throw EngineError.invalidArgument(
                "t5 trains on sequence-to-sequence batches, not \(batch.kind) ones", fix: "train it through `model train --arch t5`")
        }
        guard B >= 1, S >= 1, T >= 0, S <= config.maxSequence, T <= config.maxSequence else {
            throw EngineError.invalidArgument(
                "batch \(B) × source \(S) × target \(T) does not fit a model with context \(config.maxSequence)",
                fix: "use sources and targets of 1…\(config.maxSequence) tokens")
        }
        let padding = sourcePadding ?? [UInt8](repeating: 0, count: B * S)
        guard source.count == B * S, padding.count == B * S, inputs.count == B * T, targets.count == B * T else {
            throw EngineError.invalidArgument(
                "a sequence-to-sequence batch needs B·S = \(B * S) source ids and padding flags and B·T = \(B * T) inputs and targets",
                fix: "pass exactly that many of each")
        }
        let V = Int32(config.vocabularySize)
        if let bad = (source + inputs).first(where: { $0 < 0 || $0 >= V }) ?? targets.first(where: { $0 >= V }) {
            throw EngineError(
                .tokenOutOfRange, "token id \(bad) is outside the model's vocabulary 0..<\(V)",
                fix: "use a tokenizer that matches the checkpoint")
        }
        for b in 0..<B where !(0..<S).contains(where: { padding[b * S + $0] == 0 }) {
            throw EngineError.invalidArgument("source \(b) of the batch is all padding", fix: "give every source at least one real token")
        }
        let a: T5Activations
        if let existing = activations, existing.B == B, existing.S == S, existing.T == T, existing.hasGradientScratch || !withGradients {
            a = existing
        } else {
            activations = nil
            a = T5Activations(config: config, B: B, S: S, T: T, withGradients: withGradients)
            a.encoderBuckets = RelativePositionBias.buckets(
                Tq: S, Tk: S, bidirectional: true, buckets: config.buckets, maxDistance: config.maxDistance)
            a.decoderBuckets = RelativePositionBias.buckets(
                Tq: T, Tk: T, bidirectional: false, buckets: config.buckets, maxDistance: config.maxDistance)
            activations = a
        }
        a.source = source
        a.sourcePadding = padding
        a.inputs = inputs
        a.targets = targets
        return a
    }

    private func meanLoss(_ a: T5Activations, scored: Int) -> Float {
        var sum: Double = 0
        for i in 0..<(a.B * a.T) { sum += Double(a.losses[i]) }
        return Float(sum / Double(max(1, scored)))
    }

    func runEncoder(_ a: T5Activations) {
        let B = a.B, S = a.S, Me = B * S, C = config.channels, p = params
        a.source.withUnsafeBufferPointer { TokenEmbedding.forward(out: a.encoderEmbedded, tokens: $0, table: p.shared, R: Me, C: C) }
        RelativePositionBias.forward(
            bias: a.encoderBias.baseAddress!, table: p.encoderBias.baseAddress!, buckets: a.encoderBuckets, NH: config.heads, Tq: S, Tk: S)
        a.sourcePadding.withUnsafeBufferPointer { padding in
            let masking = AttentionMasking(scale: 1, keyPadding: padding.baseAddress!, bias: a.encoderBias.baseAddress!)
            for l in 0..<config.layers {
                let input = l == 0 ? a.encoderEmbedded : a.encoder[l - 1].output
                selfAttentionBlock(p.encoder[l], a.encoder[l], input: input, B: B, T: S, masking: masking)
                feedForwardBlock(p.encoder[l], a.encoder[l], input: a.encoder[l].afterAttention, rows: Me)
            }
        }
        RMSNorm.forward(
            out: a.encoderOut, rstd: a.encoderOutRstd, inp: a.encoder[config.layers - 1].output, weight: p.encoderNorm, R: Me, C: C,
            epsilon: config.normEpsilon)
    }

    private func runDecoder(_ a: T5Activations) {
        let B = a.B, S = a.S, T = a.T, Md = B * T, Me = B * S, C = config.channels, A = config.attentionWidth, p = params
        guard T > 0 else { return }
        a.inputs.withUnsafeBufferPointer { TokenEmbedding.forward(out: a.decoderEmbedded, tokens: $0, table: p.shared, R: Md, C: C) }
        RelativePositionBias.forward(
            bias: a.decoderBias.baseAddress!, table: p.decoderBias.baseAddress!, buckets: a.decoderBuckets, NH: config.heads, Tq: T, Tk: T)
        let selfMasking = AttentionMasking(scale: 1, causal: true, bias: a.decoderBias.baseAddress!)
        a.sourcePadding.withUnsafeBufferPointer { padding in
            let crossMasking = AttentionMasking(scale: 1, keyPadding: padding.baseAddress!)
            for l in 0..<config.decoderLayers {
                let w = p.decoder[l], b = a.decoder[l], input = l == 0 ? a.decoderEmbedded : a.decoder[l - 1].output
                selfAttentionBlock(w, b, input: input, B: B, T: T, masking: selfMasking)
                RMSNorm.forward(
                    out: b.crossNorm, rstd: b.crossRstd, inp: b.afterAttention, weight: w.crossNorm!, R: Md, C: C,
                    epsilon: config.normEpsilon)
                MatMul.forward(out: b.crossQ, inp: b.crossNorm, weight: w.crossQ!, bias: nil, M: Md, K: C, N: A, layout: .outputMajor)
                MatMul.forward(
                    out: b.crossKV, inp: a.encoderOut, weight: w.crossKV!, bias: nil, M: Me, K: C, N: 2 * A, layout: .outputMajor)
                MaskedAttention.forward(
                    out: b.crossY.baseAddress!, att: b.crossAtt.baseAddress!, operands: crossOperands(q: b.crossQ, kv: b.crossKV),
                    masking: crossMasking, B: B, Tq: T, Tk: S, NH: config.heads, hs: config.headSize)
                MatMul.forward(
                    out: b.afterCross, inp: b.crossY, weight: w.crossO!, bias: nil, residual: b.afterAttention, M: Md, K: A, N: C,
                    layout: .outputMajor)
                feedForwardBlock(w, b, input: b.afterCross, rows: Md)
            }
        }
        RMSNorm.forward(
            out: a.decoderOut, rstd: a.decoderOutRstd, inp: a.decoder[config.decoderLayers - 1].output, weight: p.decoderNorm, R: Md, C: C,
            epsilon: config.normEpsilon)
        if config.scaleDecoderOutput { scale(a.decoderOut, count: Md * C, by: outputScale) }
        MatMul.forward(
            out: a.logits, inp: a.decoderOut, weight: p.head, bias: nil, M: Md, K: C, N: config.paddedVocabularySize, layout: .outputMajor)
    }

    var outputScale: Float { 1 / Float(config.channels).squareRoot() }

    func scale(_ x: UnsafeMutableBufferPointer<Float>, count: Int, by factor: Float) {
        for i in 0..<count { x[i] *= factor }
    }

    func crossOperands(q: UnsafeMutableBufferPointer<Float>, kv: UnsafeMutableBufferPointer<Float>) -> AttentionOperands {
        let A = config.attentionWidth
        return AttentionOperands(
            q: q.baseAddress!, qStride: A, k: kv.baseAddress!, kStride: 2 * A, v: kv.baseAddress! + A, vStride: 2 * A)
    }

    /// afterAttention = x + o(attention(qkv(RMSNorm(x)))).
    private func selfAttentionBlock(
        _ w: T5LayerTensors, _ b: T5LayerActivations, input: UnsafeMutableBufferPointer<Float>, B: Int, T: Int, masking: AttentionMasking
    ) {
        let M = B * T, C = config.channels, A = config.attentionWidth
        RMSNorm.forward(out: b.norm1, rstd: b.rstd1, inp: input, weight: w.norm1, R: M, C: C, epsilon: config.normEpsilon)
        MatMul.forward(out: b.qkv, inp: b.norm1, weight: w.qkv, bias: nil, M: M, K: C, N: 3 * A, layout: .outputMajor)
        MaskedAttention.forward(
            out: b.atty.baseAddress!, att: b.att.baseAddress!, operands: .fused(b.qkv.baseAddress!, width: A), masking: masking, B: B,
            Tq: T, Tk: T, NH: config.heads, hs: config.headSize)
        MatMul.forward(out: b.afterAttention, inp: b.atty, weight: w.o, bias: nil, residual: input, M: M, K: A, N: C, layout: .outputMajor)
    }

    /// output = x + wo(gelu(wi_0(RMSNorm(x))) ⊙ wi_1(RMSNorm(x))).
    private func feedForwardBlock(_ w: T5LayerTensors, _ b: T5LayerActivations, input: UnsafeMutableBufferPointer<Float>, rows M: Int) {
        let C = config.channels, H = config.hidden
        RMSNorm.forward(
            out: b.feedForwardNorm, rstd: b.feedForwardRstd, inp: input, weight: w.feedForwardNorm, R: M, C: C, epsilon: config.normEpsilon)
        MatMul.forward(out: b.gateUp, inp: b.feedForwardNorm, weight: w.gateUp, bias: nil, M: M, K: C, N: 2 * H, layout: .outputMajor)
        GatedGELU.forward(out: b.act.baseAddress!, gateUp: b.gateUp.baseAddress!, R: M, H: H)
        MatMul.forward(out: b.output, inp: b.act, weight: w.down, bias: nil, residual: input, M: M, K: H, N: C, layout: .outputMajor)
    }

    // MARK: - Backward

    /// Backward from dlogits (in `a.logits`). Each stack's residual-stream gradient lives in `dDecoder` / `dEncoder`;
    /// every RMS norm adds its input gradient into it. The decoder's layers add their cross-attention gradients into
    /// `dEncoderOut`, which then flows down the encoder.
    private func runBackward(_ a: T5Activations, gradientWrite pw: GradientWrite) {
        let B = a.B, S = a.S, T = a.T, Me = B * S, Md = B * T, C = config.channels, A = config.attentionWidth, NH = config.heads
        let p = params, g = gradientTensors!
        if !config.tiedHead && pw == .overwrite { g.shared.update(repeating: 0) }
        MatMul.backward(
            dinp: a.dDecoderNorm, dweight: g.head, dbias: nil, dout: a.logits, inp: a.decoderOut, weight: p.head, M: Md, K: C,
            N: config.paddedVocabularySize, layout: .outputMajor, parameterWrite: pw)
        if config.scaleDecoderOutput { scale(a.dDecoderNorm, count: Md * C, by: outputScale) }
        RMSNorm.backward(
            dinp: a.dDecoder, dweight: g.decoderNorm, dout: a.dDecoderNorm, inp: a.decoder[config.decoderLayers - 1].output,
            weight: p.decoderNorm, rstd: a.decoderOutRstd, scratch: a.normScratch, R: Md, C: C, inputWrite: .overwrite, parameterWrite: pw)
        a.dEncoderOut.update(repeating: 0)
        a.dDecoderBias.update(repeating: 0)
        let selfMasking = AttentionMasking(scale: 1, causal: true, bias: a.decoderBias.baseAddress!)
        a.sourcePadding.withUnsafeBufferPointer { padding in
            let crossMasking = AttentionMasking(scale: 1, keyPadding: padding.baseAddress!)
            for l in stride(from: config.decoderLayers - 1, through: 0, by: -1) {
                let w = p.decoder[l], d = g.decoder[l], b = a.decoder[l], input = l == 0 ? a.decoderEmbedded : a.decoder[l - 1].output
                feedForwardBackward(
                    w, d, b, input: b.afterCross, dresidual: a.dDecoder, dnorm: a.dDecoderNorm, scratch: a, rows: Md, pw: pw)
                MatMul.backward(
                    dinp: a.dCrossY, dweight: d.crossO!, dbias: nil, dout: a.dDecoder, inp: b.crossY, weight: w.crossO!, M: Md, K: A, N: C,
                    layout: .outputMajor, parameterWrite: pw)
                MaskedAttention.backward(
                    gradients: crossOperands(q: a.dCrossQ, kv: a.dCrossKV), datt: a.dCrossAtt.baseAddress!, dbias: nil,
                    dout: a.dCrossY.baseAddress!, operands: crossOperands(q: b.crossQ, kv: b.crossKV), att: b.crossAtt.baseAddress!,
                    masking: crossMasking, B: B, Tq: T, Tk: S, NH: NH, hs: config.headSize)
                MatMul.backward(
                    dinp: a.dEncoderOut, dweight: d.crossKV!, dbias: nil, dout: a.dCrossKV, inp: a.encoderOut, weight: w.crossKV!, M: Me,
                    K: C,
                    N: 2 * A, layout: .outputMajor, inputWrite: .accumulate, parameterWrite: pw)
                MatMul.backward(
                    dinp: a.dDecoderNorm, dweight: d.crossQ!, dbias: nil, dout: a.dCrossQ, inp: b.crossNorm, weight: w.crossQ!, M: Md, K: C,
                    N: A, layout: .outputMajor, parameterWrite: pw)
                RMSNorm.backward(
                    dinp: a.dDecoder, dweight: d.crossNorm!, dout: a.dDecoderNorm, inp: b.afterAttention, weight: w.crossNorm!,
                    rstd: b.crossRstd, scratch: a.normScratch, R: Md, C: C, inputWrite: .accumulate, parameterWrite: pw)
                selfAttentionBackward(
                    w, d, b, input: input, dresidual: a.dDecoder, dnorm: a.dDecoderNorm, dqkv: a.dqkvDecoder, datt: a.dattDecoder,
                    dbias: a.dDecoderBias, scratch: a, B: B, T: T, masking: selfMasking, pw: pw)
            }
        }
        a.inputs.withUnsafeBufferPointer { TokenEmbedding.backward(dtable: g.shared, dout: a.dDecoder, tokens: $0, R: Md, C: C) }
        if pw == .overwrite { g.decoderBias.update(repeating: 0) }
        RelativePositionBias.backward(
            dtable: g.decoderBias.baseAddress!, dbias: a.dDecoderBias.baseAddress!, buckets: a.decoderBuckets, NH: NH, Tq: T, Tk: T)

        RMSNorm.backward(
            dinp: a.dEncoder, dweight: g.encoderNorm, dout: a.dEncoderOut, inp: a.encoder[config.layers - 1].output, weight: p.encoderNorm,
            rstd: a.encoderOutRstd, scratch: a.normScratch, R: Me, C: C, inputWrite: .overwrite, parameterWrite: pw)
        a.dEncoderBias.update(repeating: 0)
        a.sourcePadding.withUnsafeBufferPointer { padding in
            let masking = AttentionMasking(scale: 1, keyPadding: padding.baseAddress!, bias: a.encoderBias.baseAddress!)
            for l in stride(from: config.layers - 1, through: 0, by: -1) {
                let w = p.encoder[l], d = g.encoder[l], b = a.encoder[l], input = l == 0 ? a.encoderEmbedded : a.encoder[l - 1].output
                feedForwardBackward(
                    w, d, b, input: b.afterAttention, dresidual: a.dEncoder, dnorm: a.dEncoderNorm, scratch: a, rows: Me, pw: pw)
                selfAttentionBackward(
                    w, d, b, input: input, dresidual: a.dEncoder, dnorm: a.dEncoderNorm, dqkv: a.dqkvEncoder, datt: a.dattEncoder,
                    dbias: a.dEncoderBias, scratch: a, B: B, T: S, masking: masking, pw: pw)
            }
        }
        a.source.withUnsafeBufferPointer { TokenEmbedding.backward(dtable: g.shared, dout: a.dEncoder, tokens: $0, R: Me, C: C) }
        if pw == .overwrite { g.encoderBias.update(repeating: 0) }
        RelativePositionBias.backward(
            dtable: g.encoderBias.baseAddress!, dbias: a.dEncoderBias.baseAddress!, buckets: a.encoderBuckets, NH: NH, Tq: S, Tk: S)
    }

    /// Through output = x + wo(gatedGELU(wi(RMSNorm(x)))): `dresidual` holds d output on entry and d x on return.
    private func feedForwardBackward(
        _ w: T5LayerTensors, _ d: T5LayerTensors, _ b: T5LayerActivations, input: UnsafeMutableBufferPointer<Float>,
        dresidual: UnsafeMutableBufferPointer<Float>, dnorm: UnsafeMutableBufferPointer<Float>, scratch a: T5Activations, rows M: Int,
        pw: GradientWrite
    ) {
        let C = config.channels, H = config.hidden
        MatMul.backward(
            dinp: a.dAct, dweight: d.down, dbias: nil, dout: dresidual, inp: b.act, weight: w.down, M: M, K: H, N: C, layout: .outputMajor,
            parameterWrite: pw)
        GatedGELU.backward(dgateUp: a.dGateUp.baseAddress!, gateUp: b.gateUp.baseAddress!, dout: a.dAct.baseAddress!, R: M, H: H)
        MatMul.backward(
            dinp: dnorm, dweight: d.gateUp, dbias: nil, dout: a.dGateUp, inp: b.feedForwardNorm, weight: w.gateUp, M: M, K: C, N: 2 * H,
            layout: .outputMajor, parameterWrite: pw)
        RMSNorm.backward(
            dinp: dresidual, dweight: d.feedForwardNorm, dout: dnorm, inp: input, weight: w.feedForwardNorm, rstd: b.feedForwardRstd,
            scratch: a.normScratch, R: M, C: C, inputWrite: .accumulate, parameterWrite: pw)
    }

    /// Through afterAttention = x + o(attention(qkv(RMSNorm(x)))): `dresidual` holds d afterAttention on entry and d x on
    /// return; the bias gradient is added to `dbias`.
    private func selfAttentionBackward(
        _ w: T5LayerTensors, _ d: T5LayerTensors, _ b: T5LayerActivations, input: UnsafeMutableBufferPointer<Float>,
        dresidual: UnsafeMutableBufferPointer<Float>, dnorm: UnsafeMutableBufferPointer<Float>, dqkv: UnsafeMutableBufferPointer<Float>,
        datt: UnsafeMutableBufferPointer<Float>, dbias: UnsafeMutableBufferPointer<Float>, scratch a: T5Activations, B: Int, T: Int,
        masking: AttentionMasking, pw: GradientWrite
    ) {
        let M = B * T, C = config.channels, A = config.attentionWidth
        MatMul.backward(
            dinp: a.dAttY, dweight: d.o, dbias: nil, dout: dresidual, inp: b.atty, weight: w.o, M: M, K: A, N: C, layout: .outputMajor,
            parameterWrite: pw)
        MaskedAttention.backward(
            gradients: .fused(dqkv.baseAddress!, width: A), datt: datt.baseAddress!, dbias: dbias.baseAddress!, dout: a.dAttY.baseAddress!,
            operands: .fused(b.qkv.baseAddress!, width: A), att: b.att.baseAddress!, masking: masking, B: B, Tq: T, Tk: T, NH: config.heads,
            hs: config.headSize)
        MatMul.backward(
            dinp: dnorm, dweight: d.qkv, dbias: nil, dout: dqkv, inp: b.norm1, weight: w.qkv, M: M, K: C, N: 3 * A, layout: .outputMajor,
            parameterWrite: pw)
        RMSNorm.backward(
            dinp: dresidual, dweight: d.norm1, dout: dnorm, inp: input, weight: w.norm1, rstd: b.rstd1, scratch: a.normScratch, R: M, C: C,
            inputWrite: .accumulate, parameterWrite: pw)
    }
}
