// Legend: B batch, T time, M = B·T rows (row b·T + t), E embedding width, H hidden width, G gates, L layers,
// V vocabulary, Vp padded vocabulary.

/// A recurrent language model (Elman 1990 with tanh; Hochreiter & Schmidhuber 1997's LSTM as PyTorch computes it;
/// Cho et al. 2014's GRU): embedding → L stacked cells → output projection, with optional dropout between layers.
///
/// Each layer's input projections for all time steps are one matrix product; the recurrence is one product per step
/// over the batch's rows (strided views, nothing copied). Backpropagation through time runs the steps in reverse,
/// one product per step for the state's gradient, and computes each weight gradient in one product afterwards.
/// Decoding carries each sequence's state (no KV cache). Parameters use PyTorch's names (`RecurrentConfig`).
public final class RecurrentLanguageModel: TrainableModel {
    public let config: RecurrentConfig
    public let parameters: TensorBuffer
    let params: RecurrentTensors
    private var gradientBuffer: TensorBuffer?
    private var gradientTensors: RecurrentTensors?
    private var activations: RecurrentActivations?
    /// Dropout on each layer's output before the next layer (not after the last), as PyTorch's `dropout` argument;
    /// training only.
    public var dropout: Float = 0
    public var dropoutSeed: UInt64 = 0

    /// A freshly initialised model as PyTorch initialises these modules: every recurrent weight and bias
    /// U(−1/√H, 1/√H); embedding N(0, 1); output projection U(−1/√H, 1/√H). Seeded per tensor.
    public convenience init(config: RecurrentConfig, seed: UInt64) throws {
        try config.validate()
        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        let bound = 1 / Float(config.hidden).squareRoot()
        for (i, spec) in buffer.layout.specs.enumerated() {
            var random = SplitMix64(seed: seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
            let view = buffer.view(i)
            if spec.name == "embedding.weight" {
                random.fillNormal(view, std: 1)
            } else {
                // The output projection's vocabulary padding rows stay zero.
                var rows = view.count
                if spec.name == "decoder.weight" { rows = config.vocabularySize * config.hidden }
                if spec.name == "decoder.bias" { rows = config.vocabularySize }
                for j in 0..<rows { view[j] = (random.nextUnitFloat() * 2 - 1) * bound }
            }
        }
        try self.init(config: config, parameters: buffer)
    }

    /// Wraps a filled parameter buffer (e.g. from a checkpoint); its layout must be `config.parameterSpecs`.
    public init(config: RecurrentConfig, parameters: TensorBuffer) throws {
        try config.validate()
        precondition(parameters.layout.specs == config.parameterSpecs, "parameter layout does not match the config")
        self.config = config
        self.parameters = parameters
        params = RecurrentTensors(parameters, config: config)
    }

    public var configuration: any ModelConfiguration { config }

    public func gradients() -> TensorBuffer {
        if let gradientBuffer { return gradientBuffer }
        let buffer = TensorBuffer(layout: parameters.layout)
        gradientBuffer = buffer
        gradientTensors = RecurrentTensors(buffer, config: config)
        return buffer
    }

    public var activationBytes: Int { (activations?.storage.layout.count ?? 0) * MemoryLayout<Float>.stride }

    public func trainingFLOPs(_ batch: Batch) -> Double {
        guard case let .nextToken(_, _, B, T) = batch else { return 0 }
        return config.trainingStepFLOPs(B: B, T: T)
    }

    public func loss(_ batch: Batch) throws -> Float {
        let (inputs, targets, B, T) = try GPT2.nextToken(batch)
        let a = try prepare(inputs: inputs, targets: targets, B: B, T: T, withGradients: false, dropout: 0)
        runForward(a)
        SoftmaxCrossEntropy.forward(
            losses: a.losses, logits: a.logits, targets: UnsafeBufferPointer(a.targets), R: B * T, V: config.vocabularySize,
            Vp: config.paddedVocabularySize)
        return meanLoss(a)
    }

    public func lossAndGradients(_ batch: Batch, gradientWrite: GradientWrite, lossScale: Float) throws -> Float {
        let (inputs, targets, B, T) = try GPT2.nextToken(batch)
        let a = try prepare(inputs: inputs, targets: targets, B: B, T: T, withGradients: true, dropout: dropout)
        _ = gradients()
        runForward(a)
        SoftmaxCrossEntropy.forwardBackward(
            losses: a.losses, logits: a.logits, targets: UnsafeBufferPointer(a.targets), R: B * T, V: config.vocabularySize,
            Vp: config.paddedVocabularySize, dlossScale: lossScale / Float(B * T))
        runBackward(a, gradientWrite: gradientWrite)
        return meanLoss(a)
    }

    /// Logits of every position, [B·T, V], and each layer's final state (h, and c for LSTM), [L, B, H] each.
    /// - Throws: as `loss`.
    public func forward(inputs: [Int32], B: Int, T: Int) throws -> (logits: [Float], finalHidden: [Float], finalCell: [Float]?) {
        let a = try prepare(
            inputs: inputs, targets: [Int32](repeating: 0, count: inputs.count), B: B, T: T, withGradients: false, dropout: 0)
        runForward(a)
        let V = config.vocabularySize, Vp = config.paddedVocabularySize, H = config.hidden
        let logits = (0..<(B * T)).flatMap { r in a.logits[(r * Vp)..<(r * Vp + V)] }
        func last(_ buffers: [UnsafeMutableBufferPointer<Float>]) -> [Float] {
            var out: [Float] = []
            for s in buffers {
                for b in 0..<B {
                    let start = (b * T + T - 1) * H
                    out += s[start..<(start + H)]
                }
            }
            return out
        }
        return (logits, last(a.layers.map(\.h)), config.cell == .lstm ? last(a.layers.map(\.c)) : nil)
    }

    // MARK: - Passes

    private func prepare(inputs: [Int32], targets: [Int32], B: Int, T: Int, withGradients: Bool, dropout p: Float) throws
        -> RecurrentActivations
    {
        guard B >= 1, T >= 1, T <= config.maxSequence else {
            throw EngineError.invalidArgument(
                "batch \(B) × sequence \(T) does not fit a model with context \(config.maxSequence)",
                fix: "use 1 ≤ --seq ≤ \(config.maxSequence) and --batch ≥ 1")
        }
        guard inputs.count == B * T, targets.count == B * T else {
            throw EngineError.invalidArgument("got \(inputs.count) inputs for B×T = \(B * T)", fix: "pass exactly B·T token ids")
        }
        guard p >= 0, p < 1 else {
            throw EngineError.invalidArgument("dropout \(p) is not a probability below 1", fix: "e.g. --dropout 0.1, or 0 for none")
        }
        let V = Int32(config.vocabularySize)
        if let bad = (inputs + targets).first(where: { $0 < 0 || $0 >= V }) {
            throw EngineError(
                .tokenOutOfRange, "token id \(bad) is outside the model's vocabulary 0..<\(V)",
                fix: "use a tokenizer that matches the checkpoint, or check --dtype of the token file")
        }
        let withDropout = p > 0 && config.layers > 1
        let a: RecurrentActivations
        if let existing = activations, existing.B == B, existing.T == T, existing.hasGradientScratch || !withGradients,
            existing.hasDropout || !withDropout
        {
            a = existing
        } else {
            activations = nil
            a = RecurrentActivations(config: config, B: B, T: T, withGradients: withGradients, withDropout: withDropout)
            activations = a
        }
        _ = a.inputs.update(fromContentsOf: inputs)
        _ = a.targets.update(fromContentsOf: targets)
        a.dropout = withDropout ? p : 0
        if withDropout {
            for k in 1..<config.layers { Dropout.fillMask(a.layers[k].mask, p: p, seed: dropoutSeed &+ UInt64(k)) }
        }
        return a
    }

    private func meanLoss(_ a: RecurrentActivations) -> Float {
        var sum: Double = 0
        for i in 0..<(a.B * a.T) { sum += Double(a.losses[i]) }
        return Float(sum / Double(a.B * a.T))
    }

    /// Layer k's input: the embeddings, the layer below's output, or that output after dropout.
    private func input(_ a: RecurrentActivations, layer k: Int) -> UnsafeMutableBufferPointer<Float> {
        k == 0 ? a.embedded : (a.dropout > 0 ? a.layers[k].dropped : a.layers[k - 1].h)
    }

    private func runForward(_ a: RecurrentActivations) {
        let B = a.B, T = a.T, M = B * T, H = config.hidden, GH = config.gateWidth
        TokenEmbedding.forward(out: a.embedded, tokens: UnsafeBufferPointer(a.inputs), table: params.embedding, R: M, C: config.embedding)
        for k in 0..<config.layers {
            let w = params.layers[k], s = a.layers[k]
            if k > 0 && a.dropout > 0 {
                _ = s.dropped.update(fromContentsOf: a.layers[k - 1].h)
                Dropout.scale(s.dropped, by: s.mask)
            }
            MatMul.forward(
                out: s.act, inp: input(a, layer: k), weight: w.inputWeight, bias: w.inputBias, M: M, K: config.inputWidth(layer: k), N: GH,
                layout: .outputMajor)
            let gh = s.gh.baseAddress!, h = s.h.baseAddress!, c = s.c.baseAddress
            for t in 0..<T {
                for b in 0..<B { (gh + (b * T + t) * GH).update(from: w.recurrentBias.baseAddress!, count: GH) }
                if t > 0 {
                    BLAS.gemm(
                        transA: false, transB: true, m: B, n: GH, k: H, a: h + (t - 1) * H, lda: T * H, b: w.recurrentWeight.baseAddress!,
                        ldb: H, beta: 1, c: gh + t * GH, ldc: T * GH)
                }
                RecurrentCell.forward(
                    config.cell, pre: s.act.baseAddress! + t * GH, preStride: T * GH, gh: gh + t * GH, ghStride: T * GH,
                    hPrev: t > 0 ? h + (t - 1) * H : nil, cPrev: t > 0 ? c.map { $0 + (t - 1) * H } : nil, h: h + t * H,
                    c: c.map { $0 + t * H }, stateStride: T * H, B: B, H: H)
            }
        }
        MatMul.forward(
            out: a.logits, inp: a.layers[config.layers - 1].h, weight: params.decoder, bias: params.decoderBias, M: M, K: H,
            N: config.paddedVocabularySize, layout: .outputMajor)
    }

    /// Backpropagation through time from dlogits (in `a.logits`); `a.dH` carries the gradient of the current layer's
    /// outputs down the stack.
    private func runBackward(_ a: RecurrentActivations, gradientWrite pw: GradientWrite) {
        let B = a.B, T = a.T, M = B * T, H = config.hidden, GH = config.gateWidth, p = params, g = gradientTensors!
        MatMul.backward(
            dinp: a.dH, dweight: g.decoder, dbias: g.decoderBias, dout: a.logits, inp: a.layers[config.layers - 1].h, weight: p.decoder,
            M: M, K: H, N: config.paddedVocabularySize, layout: .outputMajor, parameterWrite: pw)
        for k in stride(from: config.layers - 1, through: 0, by: -1) {
            let w = p.layers[k], d = g.layers[k], s = a.layers[k]
            let h = s.h.baseAddress!, c = s.c.baseAddress, dpre = a.dpre.baseAddress!, dgh = a.dgh.baseAddress!
            var carry = a.carry.baseAddress!, next = a.nextCarry.baseAddress!
            carry.update(repeating: 0, count: B * H)
            a.cellCarry.update(repeating: 0)
            for t in stride(from: T - 1, through: 0, by: -1) {
                // dh of step t: the output's gradient plus what step t + 1 sent back through the recurrence.
                for b in 0..<B {
                    let out = a.dStep.baseAddress! + b * H, from = a.dH.baseAddress! + (b * T + t) * H, back = carry + b * H
                    for j in 0..<H { out[j] = from[j] + back[j] }
                }
                next.update(repeating: 0, count: B * H)
                RecurrentCell.backward(
                    config.cell, dh: a.dStep.baseAddress!, dc: a.cellCarry.baseAddress, act: s.act.baseAddress! + t * GH, actStride: T * GH,
                    gh: s.gh.baseAddress! + t * GH, ghStride: T * GH, hPrev: t > 0 ? h + (t - 1) * H : nil,
                    cPrev: t > 0 ? c.map { $0 + (t - 1) * H } : nil, c: c.map { $0 + t * H }, stateStride: T * H, dpre: dpre + t * GH,
                    dgh: dgh + t * GH, gateStride: T * GH, dhPrev: next, B: B, H: H)
                if t > 0 {
                    BLAS.gemm(
                        transA: false, transB: false, m: B, n: H, k: GH, a: dgh + t * GH, lda: T * GH, b: w.recurrentWeight.baseAddress!,
                        ldb: H,
                        beta: 1, c: next, ldc: H)
                }
                swap(&carry, &next)
            }
            // Weight gradients in one product each: W_ih from every step's input, W_hh from every step's previous state.
            let inputWidth = config.inputWidth(layer: k)
            MatMul.backward(
                dinp: a.dX, dweight: d.inputWeight, dbias: d.inputBias, dout: a.dpre, inp: input(a, layer: k), weight: w.inputWeight,
                M: M, K: inputWidth, N: GH, layout: .outputMajor, parameterWrite: pw)
            for b in 0..<B where T > 1 {
                BLAS.gemm(
                    transA: true, transB: false, m: GH, n: H, k: T - 1, a: dgh + (b * T + 1) * GH, lda: GH, b: h + b * T * H, ldb: H,
                    beta: b == 0 && pw == .overwrite ? 0 : 1, c: d.recurrentWeight.baseAddress!, ldc: H)
            }
            if T == 1 && pw == .overwrite { d.recurrentWeight.update(repeating: 0) }
            MatMul.columnSum(into: d.recurrentBias.baseAddress!, from: dgh, M: M, N: GH, write: pw)
            if k > 0 {
                // The layer below's output gradient (through its dropout mask, if any).
                _ = a.dH.update(fromContentsOf: UnsafeMutableBufferPointer(rebasing: a.dX[0..<(M * H)]))
                if a.dropout > 0 { Dropout.scale(a.dH, by: s.mask) }
            }
        }
        if pw == .overwrite { g.embedding.update(repeating: 0) }
        TokenEmbedding.backward(dtable: g.embedding, dout: a.dX, tokens: UnsafeBufferPointer(a.inputs), R: M, C: config.embedding)
    }
}

/// Named views of a recurrent model's tensors (or gradients).
struct RecurrentLayerTensors {
    let inputWeight, recurrentWeight, inputBias, recurrentBias: UnsafeMutableBufferPointer<Float>
}

struct RecurrentTensors {
    let embedding, decoder, decoderBias: UnsafeMutableBufferPointer<Float>
    let layers: [RecurrentLayerTensors]

    init(_ buffer: TensorBuffer, config c: RecurrentConfig) {
        embedding = buffer["embedding.weight"]
        decoder = buffer["decoder.weight"]
        decoderBias = buffer["decoder.bias"]
        layers = (0..<c.layers).map { k in
            RecurrentLayerTensors(
                inputWeight: buffer["rnn.weight_ih_l\(k)"], recurrentWeight: buffer["rnn.weight_hh_l\(k)"],
                inputBias: buffer["rnn.bias_ih_l\(k)"], recurrentBias: buffer["rnn.bias_hh_l\(k)"])
        }
    }
}
