/// Shape of a Llama-family model, dense (Llama) or with a mixture of experts in place of each MLP (Mixtral).
///
/// The parameter table uses Hugging Face Llama and Mixtral names and PyTorch `Linear` (output-major) layouts, so a
/// checkpoint maps one-to-one onto the flat buffer; q, k and v (and each MLP's gate and up) sit next to each other so
/// one sgemm computes them together.
///
/// FLOPs (see `ModelConfiguration`), per token and layer: attention projections 2·C·(NH + 2·NKV)·hs + 2·NH·hs·C,
/// attention 4·NH·hs·T_ctx, MLP 3·2·C·H (a mixture: k experts of 3·2·C·H plus its router 2·C·E); LM head 2·V·C per
/// row with logits.
public struct LlamaConfig: ModelConfiguration, Hashable {
    public var layers: Int
    public var channels: Int
    public var heads: Int
    /// Key/value heads; divides `heads` (grouped-query attention; equal to `heads` is multi-head attention).
    public var kvHeads: Int
    /// Width of each MLP (or expert): Hugging Face's `intermediate_size`.
    public var hidden: Int
    public var vocabularySize: Int
    public var maxSequence: Int
    /// RoPE base θ (`rope_theta`).
    public var ropeBase: Float
    /// RMSNorm ε (`rms_norm_eps`).
    public var normEpsilon: Float
    /// Experts per MLP; 0 is a dense Llama.
    public var experts: Int
    /// Experts each token is routed to.
    public var expertsPerToken: Int
    /// Weight of the load-balancing loss added to the cross-entropy (Hugging Face's `router_aux_loss_coef`).
    public var routerAuxiliaryLossCoefficient: Float
    /// Head size when it is not width ÷ heads (`head_dim`; a model whose attention heads were pruned); nil otherwise.
    public var headDimension: Int?

    public init(
        layers: Int, channels: Int, heads: Int, kvHeads: Int, hidden: Int, vocabularySize: Int, maxSequence: Int,
        ropeBase: Float = 10_000, normEpsilon: Float = 1e-5, experts: Int = 0, expertsPerToken: Int = 2,
        routerAuxiliaryLossCoefficient: Float = 0.001
    ) {
        self.layers = layers; self.channels = channels; self.heads = heads; self.kvHeads = kvHeads; self.hidden = hidden
        self.vocabularySize = vocabularySize; self.maxSequence = maxSequence; self.ropeBase = ropeBase; self.normEpsilon = normEpsilon
        self.experts = experts; self.expertsPerToken = expertsPerToken; self.routerAuxiliaryLossCoefficient = routerAuxiliaryLossCoefficient
    }

    /// The ~124 M-parameter Llama of the engine's benchmarks: 12 layers, width 768, 12 heads, 4 KV heads, SwiGLU
    /// hidden 2048, vocabulary 32000, context 1024.
    public static let small = LlamaConfig(
        layers: 12, channels: 768, heads: 12, kvHeads: 4, hidden: 2048, vocabularySize: 32000,
        maxSequence: 1024)

    /// `small` with each MLP replaced by 8 experts of hidden 1024, 2 per token: the same active size (≈124 M
    /// parameters per token), 294.6 M in all.
    public static let smallMixture = LlamaConfig(
        layers: 12, channels: 768, heads: 12, kvHeads: 4, hidden: 1024, vocabularySize: 32000,
        maxSequence: 1024, experts: 8, expertsPerToken: 2)

    /// Llama's MLP width rule, 8/3 of the width (Touvron et al. 2023, §2.2), rounded up to a multiple of 16; split
    /// over the experts a token uses, so a mixture has the dense model's active size.
    public static func defaultHidden(width: Int, expertsPerToken: Int = 1) -> Int {
        let dense = (8 * width + 2) / 3
        let share = (dense + max(1, expertsPerToken) - 1) / max(1, expertsPerToken)
        return (share + 15) / 16 * 16
    }

    public var architecture: Architecture { experts > 0 ? .moe : .llama }
    public var isMixture: Bool { experts > 0 }
    public var headSize: Int { headDimension ?? channels / heads }
    /// Width of the attention's queries and output, heads × head size: the width unless heads were pruned.
    public var attentionWidth: Int { heads * headSize }
    public var paddedVocabularySize: Int { (vocabularySize + 63) / 64 * 64 }
    public var attentionLayout: AttentionLayout { .grouped(NH: heads, NKV: kvHeads, hs: headSize) }
    /// Width of a fused q|k|v row.
    public var qkvWidth: Int { (heads + 2 * kvHeads) * headSize }

    /// Field names in messages give the `model` flag and the Hugging Face `config.json` key, since a configuration
    /// comes from either.
    public func validate() throws {
        func bad(_ problem: String, _ fix: String) -> EngineError { .invalidConfiguration(problem, fix: fix) }
        if layers < 1 || channels < 1 || heads < 1 || kvHeads < 1 || hidden < 1 || vocabularySize < 1 || maxSequence < 1 {
            throw bad(
                "model shape has a non-positive field (layers \(layers), width \(channels), heads \(heads), kv heads \(kvHeads), hidden \(hidden), vocab \(vocabularySize), context \(maxSequence))",
                "use positive values, e.g. --layers 4 --width 128 --heads 4 --kv-heads 2 --hidden 352")
        }
        if let headDimension, headDimension < 1 {
            throw bad("head size \(headDimension) (head_dim) is not positive", "use e.g. 64")
        }
        if headDimension == nil && channels % heads != 0 {
            let divisors = (1...channels).filter { channels % $0 == 0 && (channels / $0) % 2 == 0 }
            let near = divisors.min { abs($0 - heads) < abs($1 - heads) } ?? 1
            throw bad(
                "width \(channels) is not divisible by heads \(heads) (--heads; num_attention_heads)",
                "choose heads that divide the width, e.g. \(near)")
        }
        if channels % 16 != 0 {
            throw bad(
                "width \(channels) (--width; hidden_size) is not a multiple of 16 (q, k and v are read as one aligned matrix)",
                "use \((channels + 15) / 16 * 16) or another multiple of 16")
        }
        if heads % kvHeads != 0 {
            let divisors = (1...heads).filter { heads % $0 == 0 }
            throw bad(
                "kv heads \(kvHeads) (--kv-heads; num_key_value_heads) do not divide heads \(heads)",
                "choose one of \(divisors.map(String.init).joined(separator: ", "))")
        }
        if headSize % 2 != 0 {
            let even = (1...channels).filter { channels % $0 == 0 && (channels / $0) % 2 == 0 }
            let near = even.min { abs($0 - heads) < abs($1 - heads) } ?? 1
            throw bad(
                "head size \(headSize) (\(headDimension == nil ? "width \(channels) ÷ heads \(heads)" : "head_dim")) is odd; rotary embeddings rotate pairs",
                "choose heads so width ÷ heads is even, e.g. \(near)")
        }
        if experts < 0 { throw bad("experts \(experts) (--experts; num_local_experts) is negative", "use 0 for a dense model or e.g. 8") }
        if experts > 0 && (expertsPerToken < 1 || expertsPerToken > experts) {
            throw bad(
                "experts per token \(expertsPerToken) (--experts-per-token; num_experts_per_tok) is not between 1 and the \(experts) experts",
                "use a value from 1 to \(experts)\(experts >= 2 ? ", e.g. 2" : "")")
        }
        if vocabularySize > Int(Int32.max) { throw bad("vocabulary \(vocabularySize) exceeds Int32 token ids", "use a smaller vocabulary") }
        if !(normEpsilon > 0) || !(ropeBase > 1) {
            throw bad(
                "norm ε \(normEpsilon) (rms_norm_eps) or RoPE base \(ropeBase) (rope_theta) is out of range", "use e.g. 1e-5 and 10000")
        }
    }

    /// The parameter table with Hugging Face names, in buffer order. Matrices decay under AdamW, norms do not.
    public var parameterSpecs: [TensorSpec] {
        let C = channels, hs = headSize, H = hidden
        var specs = [TensorSpec(name: "model.embed_tokens.weight", shape: [paddedVocabularySize, C], decays: true)]
        for l in 0..<layers {
            let p = "model.layers.\(l)."
            specs += [
                TensorSpec(name: p + "input_layernorm.weight", shape: [C], decays: false),
                TensorSpec(name: p + "self_attn.q_proj.weight", shape: [heads * hs, C], decays: true),
                TensorSpec(name: p + "self_attn.k_proj.weight", shape: [kvHeads * hs, C], decays: true),
                TensorSpec(name: p + "self_attn.v_proj.weight", shape: [kvHeads * hs, C], decays: true),
                TensorSpec(name: p + "self_attn.o_proj.weight", shape: [C, heads * hs], decays: true),
                TensorSpec(name: p + "post_attention_layernorm.weight", shape: [C], decays: false),
            ]
            if isMixture {
                specs.append(TensorSpec(name: p + "block_sparse_moe.gate.weight", shape: [experts, C], decays: true))
                for e in 0..<experts {
                    let x = p + "block_sparse_moe.experts.\(e)."
                    specs += [
                        TensorSpec(name: x + "w1.weight", shape: [H, C], decays: true),
                        TensorSpec(name: x + "w3.weight", shape: [H, C], decays: true),
                        TensorSpec(name: x + "w2.weight", shape: [C, H], decays: true),
                    ]
                }
            } else {
                specs += [
                    TensorSpec(name: p + "mlp.gate_proj.weight", shape: [H, C], decays: true),
                    TensorSpec(name: p + "mlp.up_proj.weight", shape: [H, C], decays: true),
                    TensorSpec(name: p + "mlp.down_proj.weight", shape: [C, H], decays: true),
                ]
            }
        }
        specs += [
            TensorSpec(name: "model.norm.weight", shape: [C], decays: false),
            TensorSpec(name: "lm_head.weight", shape: [paddedVocabularySize, C], decays: true),
        ]
        return specs
    }

    /// Parameters excluding vocabulary padding (of the embedding and the LM head).
    public var parameterCount: Int {
        parameterSpecs.reduce(0) { $0 + $1.count } - 2 * (paddedVocabularySize - vocabularySize) * channels
    }

    public var activeParameterCount: Int {
        guard isMixture else { return parameterCount }
        return parameterCount - layers * (experts - expertsPerToken) * 3 * hidden * channels
    }

    public var cacheFloatsPerPosition: Int { 2 * layers * kvHeads * headSize }

    public var expertWeightFloats: Int { isMixture ? 3 * hidden * channels : 0 }
    public var routedExpertsPerToken: Int { isMixture ? expertsPerToken : 0 }

    /// Every matrix but the embedding table (one row of it is read) and the experts not chosen.
    public var decodeWeightFloats: Int {
        parameterSpecs.reduce(0) { $0 + $1.count } - paddedVocabularySize * channels + channels
            - (isMixture ? layers * (experts - expertsPerToken) * 3 * hidden * channels : 0)
    }

    public func forwardFLOPs(tokens: Int, attentionContext: Int, logitRows: Int) -> Double {
        let L = Double(layers), C = Double(channels), hs = Double(headSize), H = Double(hidden), n = Double(tokens)
        let NH = Double(heads), NKV = Double(kvHeads), V = Double(vocabularySize)
        let projections = 2 * C * (NH + 2 * NKV) * hs + 2 * NH * hs * C
        let mlp = isMixture ? Double(expertsPerToken) * 6 * C * H + 2 * C * Double(experts) : 6 * C * H
        let attention = 4 * NH * hs * Double(attentionContext)
        return n * L * (projections + mlp + attention) + Double(logitRows) * 2 * V * C
    }

    public var flopFormula: String {
        isMixture
            ? "forward/token = L·(2·C·(NH+2·NKV)·hs + 2·NH·hs·C + k·6·C·H + 2·C·E + 4·NH·hs·T_ctx) + 2·V·C; training = 3×forward"
            : "forward/token = L·(2·C·(NH+2·NKV)·hs + 2·NH·hs·C + 6·C·H + 4·NH·hs·T_ctx) + 2·V·C; training = 3×forward"
    }

    public var summary: String {
        var text = "\(layers) layers × \(channels), \(heads) heads (\(kvHeads) KV), SwiGLU \(hidden)"
        if isMixture { text += ", \(experts) experts (top-\(expertsPerToken))" }
        return text + ", vocab \(vocabularySize), context \(maxSequence)"
    }
}
