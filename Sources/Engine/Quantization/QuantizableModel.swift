/// A decoder whose matrices can be stored in bf16 or int8 for inference (`WeightPrecision`): quantising converts each
/// block matrix and the LM head (embedding tables, norms, biases and a mixture's experts stay fp32; so does a matrix
/// whose input width is not a multiple of 32 for int8) and replaces the fp32 weights by the values the stored ones
/// stand for, so prefill and evaluation compute with the same weights as decoding (on CPUs with AVX-512 BF16 and VNNI
/// the decode kernels and prefill's matrix kernels also round the activations to bf16, or quantise them per 32 to int8;
/// `WATTPRINT_QUANT_KERNEL=2` keeps them fp32; evaluation always multiplies in fp32).
public protocol QuantizableModel: DecodingModel {
    var weightPrecision: WeightPrecision { get }
    /// - Throws: `invalidArgument` when the model is already quantised (its fp32 weights are gone).
    func quantize(_ precision: WeightPrecision) throws
    /// Floats of fp32 weights the quantised matrices replace and the bytes they take instead (0, 0 for fp32).
    var quantizedReplacement: (floats: Int, bytes: Int) { get }
}

extension QuantizableModel {
    /// - Throws: `invalidArgument` naming the first tensor with a NaN or an infinity (a diverged run): no scale stores it.
    static func requireFinite(_ parameters: TensorBuffer) throws {
        for (i, spec) in parameters.layout.specs.enumerated() where !parameters.view(i).allSatisfy(\.isFinite) {
            throw EngineError.invalidArgument(
                "tensor \(spec.name) holds a NaN or an infinity, which no reduced precision can store",
                fix: "use a checkpoint from before the run diverged")
        }
    }
}

extension GPT2: QuantizableModel {
    public func quantize(_ precision: WeightPrecision) throws {
        guard precision != .fp32 else { return }
        guard weightPrecision == .fp32 else {
            throw EngineError.invalidArgument("the model is already \(weightPrecision.rawValue)", fix: "load the fp32 checkpoint again")
        }
        let C = config.channels
        try Self.requireFinite(parameters)
        func add(_ w: UnsafeMutableBufferPointer<Float>, N: Int, K: Int, _ layout: WeightLayout) {
            if precision == .int8 && K % WeightPrecision.groupSize != 0 { return }
            products.quantize(w, N: N, K: K, layout: layout, precision: precision)
        }
        for b in params.blocks {
            add(b.qkvw, N: 3 * config.attentionWidth, K: C, .inputMajor); add(b.projw, N: C, K: config.attentionWidth, .inputMajor)
            add(b.fcw, N: config.mlpWidth, K: C, .inputMajor); add(b.fcprojw, N: C, K: config.mlpWidth, .inputMajor)
        }
        add(params.wte, N: config.paddedVocabularySize, K: C, .outputMajor)
        weightPrecision = precision
    }

    public var quantizedReplacement: (floats: Int, bytes: Int) { products.replaced }
}

extension Llama: QuantizableModel {
    public func quantize(_ precision: WeightPrecision) throws {
        guard precision != .fp32 else { return }
        guard weightPrecision == .fp32 else {
            throw EngineError.invalidArgument("the model is already \(weightPrecision.rawValue)", fix: "load the fp32 checkpoint again")
        }
        let C = config.channels, H = config.hidden
        try Self.requireFinite(parameters)
        func add(_ w: UnsafeMutableBufferPointer<Float>, N: Int, K: Int) {
            if precision == .int8 && K % WeightPrecision.groupSize != 0 { return }
            products.quantize(w, N: N, K: K, layout: .outputMajor, precision: precision)
        }
        for b in params.blocks {
            add(b.qkv, N: config.qkvWidth, K: C); add(b.o, N: C, K: config.attentionWidth)
            if let gateUp = b.gateUp, let down = b.down {
                add(gateUp, N: 2 * H, K: C); add(down, N: C, K: H)
            }
        }
        add(params.lmHead, N: config.paddedVocabularySize, K: C)
        weightPrecision = precision
    }

    public var quantizedReplacement: (floats: Int, bytes: Int) { products.replaced }
}
