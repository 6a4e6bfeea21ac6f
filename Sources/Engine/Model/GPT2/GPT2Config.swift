/// Shape of a GPT-2-family model.
///
/// The parameter table (`parameterSpecs`) uses Hugging Face GPT-2 names and Conv1D (input-major)
/// layouts, so checkpoints map one-to-one onto the flat parameter buffer.
///
/// FLOPs (see `ModelConfiguration`): per token, block matmuls 2·12·L·C² (qkv 3C², attention projection C², MLP 4C²
/// + 4C²), attention 4·L·C·T_ctx (Q·Kᵀ and P·V), LM head 2·V·C per row with logits. A model whose heads were pruned
/// has an attention A = heads × head size narrower than C: qkv 3·C·A, projection A·C, attention 4·L·A·T_ctx.
public struct GPT2Config: ModelConfiguration, Hashable {
    public var layers: Int
    public var channels: Int
    public var heads: Int
    /// Real vocabulary size V (e.g. 50257 for GPT-2 BPE, 256 for bytes).
    public var vocabularySize: Int
    /// Longest sequence (rows of the position embedding).
    public var maxSequence: Int

    /// MLP width when it is not GPT-2's 4 × width (a model whose MLP channels were pruned); nil: 4 × width.
    public var hidden: Int?
    /// Head size when it is not width ÷ heads (a model whose heads were pruned keeps its head size); nil: width ÷ heads.
    public var headDimension: Int?

    public init(
        layers: Int, channels: Int, heads: Int, vocabularySize: Int, maxSequence: Int, hidden: Int? = nil, headDimension: Int? = nil
    ) {
        self.hidden = hidden
        self.headDimension = headDimension
        self.layers = layers
        self.channels = channels
        self.heads = heads
        self.vocabularySize = vocabularySize
        self.maxSequence = maxSequence
    }

    /// GPT-2 small ("124M"): 12 layers, 768 wide, 12 heads, vocabulary 50257, context 1024.
    public static let gpt2Small = GPT2Config(layers: 12, channels: 768, heads: 12, vocabularySize: 50257, maxSequence: 1024)

    /// V rounded up to a multiple of 64 so the LM-head sgemm runs on aligned panels; the extra
    /// embedding rows are zero and their logits are masked out of the loss.
    public var paddedVocabularySize: Int { (vocabularySize + 63) / 64 * 64 }

    public var headSize: Int { headDimension ?? channels / heads }
    /// Width A of the attention (queries, keys, values and the projection's input): heads × head size, C unless pruned.
    public var attentionWidth: Int { heads * headSize }
    /// MLP width H: 4 × width unless pruned.
    public var mlpWidth: Int { hidden ?? 4 * channels }

    /// Throws `invalidConfiguration` naming the bad field and a valid choice.
    public func validate() throws {
        if layers < 1 || channels < 1 || heads < 1 || vocabularySize < 1 || maxSequence < 1 {
            throw EngineError.invalidConfiguration(
                "model shape has a non-positive field (layers \(layers), width \(channels), heads \(heads), vocab \(vocabularySize), maxSeq \(maxSequence))",
                fix: "use positive values, e.g. --layers 4 --width 128 --heads 4")
        }
        if let headDimension, headDimension < 1 {
            throw EngineError.invalidConfiguration("head size \(headDimension) is not positive", fix: "use a positive head size")
        }
        if headDimension == nil && channels % heads != 0 {
            throw EngineError.invalidConfiguration(
                "width \(channels) is not divisible by heads \(heads)",
                fix: ModelShape.headsFix(width: channels))
        }
        if vocabularySize > Int(Int32.max) {
            throw EngineError.invalidConfiguration("vocabulary \(vocabularySize) exceeds Int32 token ids", fix: "use a smaller vocabulary")
        }
    }

    /// The parameter table: names, shapes (padded wte) and whether AdamW decays them.
    ///
    /// Decayed: wte, wpe and every matmul weight (all ≥ 2-D tensors). Not decayed: biases and LayerNorm gains/biases.
    public var parameterSpecs: [TensorSpec] {
        let C = channels, A = attentionWidth
        var specs = [
            TensorSpec(name: "wte.weight", shape: [paddedVocabularySize, C], decays: true),
            TensorSpec(name: "wpe.weight", shape: [maxSequence, C], decays: true),
        ]
        for l in 0..<layers {
            let p = "h.\(l)."
            specs += [
                TensorSpec(name: p + "ln_1.weight", shape: [C], decays: false),
                TensorSpec(name: p + "ln_1.bias", shape: [C], decays: false),
                TensorSpec(name: p + "attn.c_attn.weight", shape: [C, 3 * A], decays: true),
                TensorSpec(name: p + "attn.c_attn.bias", shape: [3 * A], decays: false),
                TensorSpec(name: p + "attn.c_proj.weight", shape: [A, C], decays: true),
                TensorSpec(name: p + "attn.c_proj.bias", shape: [C], decays: false),
                TensorSpec(name: p + "ln_2.weight", shape: [C], decays: false),
                TensorSpec(name: p + "ln_2.bias", shape: [C], decays: false),
                TensorSpec(name: p + "mlp.c_fc.weight", shape: [C, mlpWidth], decays: true),
                TensorSpec(name: p + "mlp.c_fc.bias", shape: [mlpWidth], decays: false),
                TensorSpec(name: p + "mlp.c_proj.weight", shape: [mlpWidth, C], decays: true),
                TensorSpec(name: p + "mlp.c_proj.bias", shape: [C], decays: false),
            ]
        }
        specs += [
            TensorSpec(name: "ln_f.weight", shape: [C], decays: false),
            TensorSpec(name: "ln_f.bias", shape: [C], decays: false),
        ]
        return specs
    }

    /// Parameters excluding vocabulary padding (124,439,808 for GPT-2 small).
    public var parameterCount: Int {
        parameterSpecs.reduce(0) { $0 + $1.count } - (paddedVocabularySize - vocabularySize) * channels
    }
}

extension GPT2Config {
    public var architecture: Architecture { .gpt2 }
    public var activeParameterCount: Int { parameterCount }
    public var cacheFloatsPerPosition: Int { 2 * layers * attentionWidth }
    /// Everything but the position table, of which one row is read (the tied LM head reads all of wte).
    public var decodeWeightFloats: Int { parameterSpecs.reduce(0) { $0 + $1.count } - maxSequence * channels + channels }

    public func forwardFLOPs(tokens: Int, attentionContext: Int, logitRows: Int) -> Double {
        let L = Double(layers), C = Double(channels), V = Double(vocabularySize), n = Double(tokens)
        // Per layer: q, k, v and the projection 8·C·A (8·C² unpruned), the MLP 4·C·H (16·C² at H = 4C).
        let H = Double(mlpWidth), A = Double(attentionWidth)
        return n * L * (8 * C * A + 4 * C * H) + n * 4 * L * A * Double(attentionContext) + Double(logitRows) * 2 * V * C
    }

    public var expertWeightFloats: Int { 0 }
    public var routedExpertsPerToken: Int { 0 }

    public var flopFormula: String {
        "forward/token = L·(8·C·A + 4·C·H) + 4·L·A·T_ctx + 2·V·C (A = C, H = 4·C unpruned: 24·L·C²); training = 3×forward"
    }

    public var summary: String {
        let attention = headDimension.map { " of \($0)" } ?? ""
        return
            "\(layers) layers × \(channels), \(heads) head\(heads == 1 ? "" : "s")\(attention), vocab \(vocabularySize), context \(maxSequence)"
    }
}
