/// Shape of a T5 v1.1-style encoder–decoder (Raffel et al. 2020; v1.1's gated-GELU feed-forward, no biases).
///
/// The parameter table uses Hugging Face's `T5ForConditionalGeneration` names and PyTorch `Linear` (output-major)
/// layouts. Each self-attention's q, k and v weights are adjacent (one sgemm), as are each cross-attention's k and v
/// and each feed-forward's wi_0 (gate) and wi_1 (up). Attention width is heads × `headSize` (d_kv), which need not
/// equal d_model. The relative position tables live in block 0 of each stack and serve all its layers.
///
/// FLOPs (see `ModelConfiguration`), with A = heads·d_kv: an encoder token, per layer, 8·C·A + 4·A·T_ctx + 6·C·H; the
/// cross-attention keys and values every decoder layer computes from each encoder output once, 4·C·A per source token
/// and decoder layer; a decoder token, per layer, 8·C·A + 4·A·T_self (self-attention), 4·C·A + 4·A·S (cross-attention
/// queries and output, attention over S source positions), 6·C·H; the LM head 2·V·C per row with logits.
/// `forwardFLOPs` is a decoder pass with S = its context.
public struct T5Config: ModelConfiguration, Hashable {
    /// Encoder layers (`num_layers`).
    public var layers: Int
    /// Decoder layers (`num_decoder_layers`).
    public var decoderLayers: Int
    public var channels: Int
    public var heads: Int
    /// Head size (`d_kv`).
    public var headSize: Int
    /// Feed-forward width (`d_ff`).
    public var hidden: Int
    public var vocabularySize: Int
    /// Longest source or target the engine allocates for (T5 itself has no position table).
    public var maxSequence: Int
    /// Relative position buckets (`relative_attention_num_buckets`) and the distance beyond which they saturate
    /// (`relative_attention_max_distance`).
    public var buckets: Int
    public var maxDistance: Int
    /// RMS layer norm ε (`layer_norm_epsilon`).
    public var normEpsilon: Float
    public var padTokenID: Int
    public var endOfSequenceTokenID: Int
    public var decoderStartTokenID: Int
    /// Sentinel tokens for span corruption: <extra_id_i> is `firstSentinelID − i`.
    public var sentinels: Int
    /// Id of <extra_id_0>: the last id of the engine's own vocabularies (nil), 32099 in Google's T5 checkpoints
    /// (32000 SentencePiece pieces and 100 sentinels, the embedding padded to 32128 rows).
    public var firstSentinel: Int?
    /// Whether the LM head is the shared embedding (Transformers 5 always ties it) rather than its own `lm_head.weight`.
    public var tiedHead: Bool
    /// Whether the decoder output is scaled by 1/√d_model before the LM head (original T5; not v1.1).
    public var scaleDecoderOutput: Bool

    public init(
        layers: Int, decoderLayers: Int? = nil, channels: Int, heads: Int, headSize: Int, hidden: Int, vocabularySize: Int,
        maxSequence: Int, buckets: Int = 32, maxDistance: Int = 128, normEpsilon: Float = 1e-6, padTokenID: Int = 0,
        endOfSequenceTokenID: Int = 1, decoderStartTokenID: Int = 0, sentinels: Int = 100, firstSentinel: Int? = nil,
        tiedHead: Bool = false, scaleDecoderOutput: Bool = false
    ) {
        self.firstSentinel = firstSentinel
        self.layers = layers; self.decoderLayers = decoderLayers ?? layers; self.channels = channels; self.heads = heads
        self.headSize = headSize; self.hidden = hidden; self.vocabularySize = vocabularySize; self.maxSequence = maxSequence
        self.buckets = buckets; self.maxDistance = maxDistance; self.normEpsilon = normEpsilon; self.padTokenID = padTokenID
        self.endOfSequenceTokenID = endOfSequenceTokenID; self.decoderStartTokenID = decoderStartTokenID; self.sentinels = sentinels
        self.tiedHead = tiedHead; self.scaleDecoderOutput = scaleDecoderOutput
    }

    /// A T5 v1.1 of BERT-base's size for the engine's benchmarks (≈ 115 M parameters against BERT-base's 110 M):
    /// 4 encoder and 4 decoder layers, d_model 768, 12 heads of 64, gated-GELU 2048, an untied LM head, T5's
    /// embedding of 32128 rows (32000 SentencePiece pieces, sentinels 32099 down to 32000, 28 rows of padding),
    /// context 512.
    public static let small = T5Config(
        layers: 4, channels: 768, heads: 12, headSize: 64, hidden: 2048, vocabularySize: 32128, maxSequence: 512, firstSentinel: 32099)

    /// <extra_id_0>'s id.
    public var firstSentinelID: Int { firstSentinel ?? vocabularySize - 1 }

    /// Special tokens appended after a tokenizer's ids when the engine trains a T5 from scratch: [pad], [eos], then
    /// `sentinels` sentinels counting down from the last id.
    public static func specialTokens(after tokenizerVocabulary: Int, sentinels: Int = 100) -> (pad: Int, eos: Int, vocabulary: Int) {
        (tokenizerVocabulary, tokenizerVocabulary + 1, tokenizerVocabulary + 2 + sentinels)
    }

    public var architecture: Architecture { .t5 }
    /// Attention width A = heads · d_kv.
    public var attentionWidth: Int { heads * headSize }
    public var paddedVocabularySize: Int { (vocabularySize + 63) / 64 * 64 }

    public var objective: any TrainingObjective {
        SpanCorruption(
            firstSentinelID: Int32(firstSentinelID), sentinels: sentinels, endOfSequenceID: Int32(endOfSequenceTokenID),
            decoderStartID: Int32(decoderStartTokenID))
    }

    /// Names the flag and the Hugging Face key of each bad field.
    public func validate() throws {
        func bad(_ problem: String, _ fix: String) -> EngineError { .invalidConfiguration(problem, fix: fix) }
        if layers < 1 || decoderLayers < 1 || channels < 1 || heads < 1 || headSize < 1 || hidden < 1 || vocabularySize < 1
            || maxSequence < 1
        {
            throw bad(
                "model shape has a non-positive field (layers \(layers)/\(decoderLayers), width \(channels), heads \(heads) × \(headSize), hidden \(hidden), vocab \(vocabularySize), context \(maxSequence))",
                "use positive values, e.g. --layers 4 --width 128 --heads 2 --hidden 352")
        }
        if channels % 16 != 0 {
            throw bad(
                "width \(channels) (--width; d_model) is not a multiple of 16 (q, k and v are read as one aligned matrix)",
                "use \((channels + 15) / 16 * 16) or another multiple of 16")
        }
        if buckets < 4 || buckets % 2 != 0 {
            throw bad(
                "relative_attention_num_buckets \(buckets) must be even and at least 4 (half per direction, half of those exact)",
                "use T5's 32")
        }
        if maxDistance <= buckets / 2 {
            throw bad(
                "relative_attention_max_distance \(maxDistance) must exceed the \(buckets / 2) exact-distance buckets of the decoder",
                "use T5's 128 (with 32 buckets)")
        }
        for (name, id) in [
            ("pad_token_id", padTokenID), ("eos_token_id", endOfSequenceTokenID), ("decoder_start_token_id", decoderStartTokenID),
        ]
        where !(0..<vocabularySize).contains(id) {
            throw bad("\(name) \(id) is not in the vocabulary 0..<\(vocabularySize)", "use an id of the vocabulary (T5: pad 0, eos 1)")
        }
        if sentinels < 0 || firstSentinelID >= vocabularySize || firstSentinelID - sentinels + 1 < 0 {
            throw bad(
                "\(sentinels) sentinel tokens counting down from id \(firstSentinelID) do not fit a vocabulary of \(vocabularySize)",
                "use a vocabulary of at least \(sentinels + 3) ids (--vocab), which leaves room for [pad], [eos] and the sentinels")
        }
        if vocabularySize > Int(Int32.max) { throw bad("vocabulary \(vocabularySize) exceeds Int32 token ids", "use a smaller vocabulary") }
        if !(normEpsilon > 0) { throw bad("layer_norm_epsilon \(normEpsilon) is not positive", "use e.g. 1e-6") }
    }

    /// The parameter table with Hugging Face names, in buffer order. Matrices and tables decay under AdamW, norms do not.
    public var parameterSpecs: [TensorSpec] {
        let C = channels, A = attentionWidth, H = hidden
        func matrix(_ name: String, _ shape: [Int]) -> TensorSpec { TensorSpec(name: name, shape: shape, decays: true) }
        func norm(_ name: String) -> TensorSpec { TensorSpec(name: name, shape: [C], decays: false) }
        func attention(_ p: String) -> [TensorSpec] {
            [
                matrix(p + "q.weight", [A, C]), matrix(p + "k.weight", [A, C]), matrix(p + "v.weight", [A, C]),
                matrix(p + "o.weight", [C, A]),
            ]
        }
        func feedForward(_ p: String) -> [TensorSpec] {
            [matrix(p + "wi_0.weight", [H, C]), matrix(p + "wi_1.weight", [H, C]), matrix(p + "wo.weight", [C, H])]
        }
        var specs = [matrix("shared.weight", [paddedVocabularySize, C])]
        for l in 0..<layers {
            let p = "encoder.block.\(l)."
            if l == 0 { specs.append(matrix(p + "layer.0.SelfAttention.relative_attention_bias.weight", [buckets, heads])) }
            specs += attention(p + "layer.0.SelfAttention.") + [norm(p + "layer.0.layer_norm.weight")]
            specs += feedForward(p + "layer.1.DenseReluDense.") + [norm(p + "layer.1.layer_norm.weight")]
        }
        specs.append(norm("encoder.final_layer_norm.weight"))
        for l in 0..<decoderLayers {
            let p = "decoder.block.\(l)."
            if l == 0 { specs.append(matrix(p + "layer.0.SelfAttention.relative_attention_bias.weight", [buckets, heads])) }
            specs += attention(p + "layer.0.SelfAttention.") + [norm(p + "layer.0.layer_norm.weight")]
            let cross = p + "layer.1.EncDecAttention."
            specs += [
                matrix(cross + "q.weight", [A, C]), matrix(cross + "k.weight", [A, C]), matrix(cross + "v.weight", [A, C]),
                matrix(cross + "o.weight", [C, A]), norm(p + "layer.1.layer_norm.weight"),
            ]
            specs += feedForward(p + "layer.2.DenseReluDense.") + [norm(p + "layer.2.layer_norm.weight")]
        }
        specs.append(norm("decoder.final_layer_norm.weight"))
        if !tiedHead { specs.append(matrix("lm_head.weight", [paddedVocabularySize, C])) }
        return specs
    }

    public var parameterCount: Int {
        parameterSpecs.reduce(0) { $0 + $1.count } - (tiedHead ? 1 : 2) * (paddedVocabularySize - vocabularySize) * channels
    }

    public var activeParameterCount: Int { parameterCount }
    /// The decoder's self-attention K and V per position (the cross-attention cache grows with the source, not the output).
    public var cacheFloatsPerPosition: Int { 2 * decoderLayers * attentionWidth }
    /// The decoder's matrices but its cached cross-attention k and v, the LM head over Vp rows, one embedding row, norms.
    public var decodeWeightFloats: Int {
        let C = channels, A = attentionWidth, H = hidden
        let perLayer = 4 * A * C + 2 * A * C + 3 * C * H + 3 * C
        return decoderLayers * perLayer + C + paddedVocabularySize * C + (tiedHead ? 0 : C) + buckets * heads
    }
    public var expertWeightFloats: Int { 0 }
    public var routedExpertsPerToken: Int { 0 }

    /// FLOPs of `tokens` decoder positions attending over `selfContext` decoder keys and `sourceLength` encoder keys,
    /// with logits for `logitRows` rows.
    public func decoderFLOPs(tokens: Int, selfContext: Int, sourceLength: Int, logitRows: Int) -> Double {
        let C = Double(channels), A = Double(attentionWidth), H = Double(hidden)
        let perLayer = 8 * C * A + 4 * A * Double(selfContext) + 4 * C * A + 4 * A * Double(sourceLength) + 6 * C * H
        return Double(tokens) * Double(decoderLayers) * perLayer + Double(logitRows) * 2 * Double(vocabularySize) * C
    }

    /// The encoder stack over `tokens` positions with `context` keys each.
    public func encoderFLOPs(tokens: Int, context: Int) -> Double {
        let C = Double(channels), A = Double(attentionWidth), H = Double(hidden)
        return Double(tokens) * Double(layers) * (8 * C * A + 4 * A * Double(context) + 6 * C * H)
    }

    /// The cross-attention keys and values every decoder layer computes from `tokens` encoder outputs (once per source).
    public func crossKeyValueFLOPs(tokens: Int) -> Double {
        Double(tokens) * Double(decoderLayers) * 4 * Double(channels) * Double(attentionWidth)
    }

    /// Encoding a source of `tokens` for decoding: the encoder and every decoder layer's cross keys and values.
    public func sourceFLOPs(tokens: Int) -> Double { encoderFLOPs(tokens: tokens, context: tokens) + crossKeyValueFLOPs(tokens: tokens) }

    public func forwardFLOPs(tokens: Int, attentionContext: Int, logitRows: Int) -> Double {
        decoderFLOPs(tokens: tokens, selfContext: attentionContext, sourceLength: attentionContext, logitRows: logitRows)
    }

    /// One span-corruption step over B examples of S source and T target positions: 3 × (encoder + decoder).
    public func trainingStepFLOPs(B: Int, S: Int, T: Int) -> Double {
        let encoder = encoderFLOPs(tokens: B * S, context: S) + crossKeyValueFLOPs(tokens: B * S)
        return 3 * (encoder + decoderFLOPs(tokens: B * T, selfContext: T, sourceLength: S, logitRows: B * T))
    }

    public var flopFormula: String {
        "encoder/token = L_enc·(8·C·A + 4·A·S + 6·C·H); cross K,V/source token = L_dec·4·C·A; decoder/token = L_dec·(12·C·A + 4·A·T_ctx + 4·A·S + 6·C·H) + 2·V·C (A = heads·d_kv); training = 3×(encoder + cross K,V + decoder)"
    }

    public var summary: String {
        "\(layers)+\(decoderLayers) layers × \(channels), \(heads) heads × \(headSize), gated-GELU \(hidden), vocab \(vocabularySize), context \(maxSequence)"
    }
}
