/// Shape of a BERT encoder (Devlin et al. 2019) with its masked-language-model head.
///
/// The parameter table uses Hugging Face's `BertForPreTraining` names and PyTorch `Linear` (output-major) layouts; a
/// layer's query, key and value weights (and their biases) sit next to each other so one sgemm computes all three.
/// The MLM decoder is tied to the word embeddings, as in BERT; its bias is `cls.predictions.bias`.
///
/// FLOPs (see `ModelConfiguration`), per token and layer: q, k, v and output projections 8·C², feed-forward 4·C·H,
/// attention 4·C·T_ctx (the full bidirectional T×T block); per logits row the MLM transform 2·C² and decoder 2·V·C.
/// The pooler (2·C² per sequence, not per token) is not counted.
public struct BERTConfig: ModelConfiguration, Hashable {
    public var layers: Int
    public var channels: Int
    public var heads: Int
    /// Feed-forward width (`intermediate_size`).
    public var hidden: Int
    public var vocabularySize: Int
    /// Rows of the position table (`max_position_embeddings`).
    public var maxSequence: Int
    /// Rows of the segment table (`type_vocab_size`).
    public var segmentTypes: Int
    /// LayerNorm ε (`layer_norm_eps`; 1e-12 in BERT).
    public var normEpsilon: Float
    /// Id of the padding token (`pad_token_id`).
    public var padTokenID: Int
    /// Id of the mask token that masked-language-model training substitutes ([MASK], 103 in bert-base-uncased); nil
    /// when a checkpoint does not say (it then encodes but does not train).
    public var maskTokenID: Int?
    /// Whether the model has BERT's pooler (tanh of a dense layer over the first token).
    public var pooler: Bool

    public init(
        layers: Int, channels: Int, heads: Int, hidden: Int, vocabularySize: Int, maxSequence: Int, segmentTypes: Int = 2,
        normEpsilon: Float = 1e-12, padTokenID: Int = 0, maskTokenID: Int?, pooler: Bool = true
    ) {
        self.layers = layers; self.channels = channels; self.heads = heads; self.hidden = hidden; self.vocabularySize = vocabularySize
        self.maxSequence = maxSequence; self.segmentTypes = segmentTypes; self.normEpsilon = normEpsilon; self.padTokenID = padTokenID
        self.maskTokenID = maskTokenID; self.pooler = pooler
    }

    /// BERT-base's shape (≈110 M parameters): 12 layers, width 768, 12 heads, feed-forward 3072, the uncased
    /// WordPiece vocabulary of 30522 with [PAD] 0 and [MASK] 103, 512 positions (Devlin et al. 2019, §3).
    public static let base = BERTConfig(
        layers: 12, channels: 768, heads: 12, hidden: 3072, vocabularySize: 30522, maxSequence: 512, maskTokenID: 103)

    /// The special tokens a tokenizer's vocabulary of `tokenizerVocabulary` ids is extended by when the engine trains a
    /// BERT from scratch: [PAD] and [MASK] appended after the tokenizer's own ids.
    public static func specialTokens(after tokenizerVocabulary: Int) -> (pad: Int, mask: Int, vocabulary: Int) {
        (tokenizerVocabulary, tokenizerVocabulary + 1, tokenizerVocabulary + 2)
    }

    public var architecture: Architecture { .bert }

    /// Masked-language modelling; random replacements are drawn from the ids below the appended [PAD] and [MASK] when
    /// they come last (the engine's own vocabularies), else from the whole vocabulary.
    public var objective: any TrainingObjective {
        let specials = [padTokenID, maskTokenID ?? padTokenID]
        let appended = specials.allSatisfy { $0 >= vocabularySize - 2 }
        return MaskedLanguageModeling(
            maskTokenID: maskTokenID.map(Int32.init), randomTokenLimit: appended ? specials.min()! : vocabularySize)
    }
    public var headSize: Int { channels / heads }
    public var paddedVocabularySize: Int { (vocabularySize + 63) / 64 * 64 }

    /// Names the flag and the Hugging Face key of each bad field.
    public func validate() throws {
        func bad(_ problem: String, _ fix: String) -> EngineError { .invalidConfiguration(problem, fix: fix) }
        if layers < 1 || channels < 1 || heads < 1 || hidden < 1 || vocabularySize < 1 || maxSequence < 1 || segmentTypes < 1 {
            throw bad(
                "model shape has a non-positive field (layers \(layers), width \(channels), heads \(heads), hidden \(hidden), vocab \(vocabularySize), positions \(maxSequence), segment types \(segmentTypes))",
                "use positive values, e.g. --layers 4 --width 128 --heads 2 --hidden 512")
        }
        if channels % heads != 0 {
            throw bad(
                "width \(channels) is not divisible by heads \(heads) (--heads; num_attention_heads)",
                ModelShape.headsFix(width: channels))
        }
        if channels % 16 != 0 {
            throw bad(
                "width \(channels) (--width; hidden_size) is not a multiple of 16 (query, key and value are read as one aligned matrix)",
                "use \((channels + 15) / 16 * 16) or another multiple of 16")
        }
        if let maskTokenID, !(0..<vocabularySize).contains(maskTokenID) {
            throw bad(
                "the mask token id \(maskTokenID) is not in the vocabulary 0..<\(vocabularySize), so masked-language-model training has no [MASK] to substitute",
                "use a vocabulary that contains [MASK] (the engine appends [PAD] and [MASK] after the tokenizer's ids when it trains from scratch)"
            )
        }
        if !(0..<vocabularySize).contains(padTokenID) || padTokenID == maskTokenID {
            throw bad(
                "the pad token id \(padTokenID) (pad_token_id) is not a vocabulary id distinct from [MASK]", "use e.g. pad_token_id 0")
        }
        if vocabularySize > Int(Int32.max) { throw bad("vocabulary \(vocabularySize) exceeds Int32 token ids", "use a smaller vocabulary") }
        if !(normEpsilon > 0) { throw bad("LayerNorm ε \(normEpsilon) (layer_norm_eps) is not positive", "use e.g. 1e-12") }
    }

    /// The parameter table with Hugging Face names, in buffer order. Matrices and embedding tables decay under AdamW;
    /// biases, LayerNorm parameters and the pooler (which masked-language modelling does not train) do not.
    public var parameterSpecs: [TensorSpec] {
        let C = channels, H = hidden
        func matrix(_ name: String, _ shape: [Int]) -> TensorSpec { TensorSpec(name: name, shape: shape, decays: true) }
        func vector(_ name: String, _ count: Int) -> TensorSpec { TensorSpec(name: name, shape: [count], decays: false) }
        var specs = [
            matrix("bert.embeddings.word_embeddings.weight", [paddedVocabularySize, C]),
            matrix("bert.embeddings.position_embeddings.weight", [maxSequence, C]),
            matrix("bert.embeddings.token_type_embeddings.weight", [segmentTypes, C]),
            vector("bert.embeddings.LayerNorm.weight", C), vector("bert.embeddings.LayerNorm.bias", C),
        ]
        for l in 0..<layers {
            let p = "bert.encoder.layer.\(l)."
            specs += [
                matrix(p + "attention.self.query.weight", [C, C]), matrix(p + "attention.self.key.weight", [C, C]),
                matrix(p + "attention.self.value.weight", [C, C]),
                vector(p + "attention.self.query.bias", C), vector(p + "attention.self.key.bias", C),
                vector(p + "attention.self.value.bias", C),
                matrix(p + "attention.output.dense.weight", [C, C]), vector(p + "attention.output.dense.bias", C),
                vector(p + "attention.output.LayerNorm.weight", C), vector(p + "attention.output.LayerNorm.bias", C),
                matrix(p + "intermediate.dense.weight", [H, C]), vector(p + "intermediate.dense.bias", H),
                matrix(p + "output.dense.weight", [C, H]), vector(p + "output.dense.bias", C),
                vector(p + "output.LayerNorm.weight", C), vector(p + "output.LayerNorm.bias", C),
            ]
        }
        // The pooler gets no gradient from masked-language modelling: decay alone would shrink it, so it does not decay.
        if pooler {
            specs += [TensorSpec(name: "bert.pooler.dense.weight", shape: [C, C], decays: false), vector("bert.pooler.dense.bias", C)]
        }
        specs += [
            matrix("cls.predictions.transform.dense.weight", [C, C]), vector("cls.predictions.transform.dense.bias", C),
            vector("cls.predictions.transform.LayerNorm.weight", C), vector("cls.predictions.transform.LayerNorm.bias", C),
            vector("cls.predictions.bias", paddedVocabularySize),
        ]
        return specs
    }

    /// Parameters excluding vocabulary padding (of the word embeddings and the decoder bias).
    public var parameterCount: Int {
        parameterSpecs.reduce(0) { $0 + $1.count } - (paddedVocabularySize - vocabularySize) * (channels + 1)
    }

    public var activeParameterCount: Int { parameterCount }
    /// An encoder keeps no decode cache.
    public var cacheFloatsPerPosition: Int { 0 }
    /// An encoder does not decode; what one token's pass reads is every matrix and one row of each table.
    public var decodeWeightFloats: Int {
        parameterSpecs.reduce(0) { $0 + $1.count } - (maxSequence + segmentTypes - 2) * channels
    }
    public var expertWeightFloats: Int { 0 }
    public var routedExpertsPerToken: Int { 0 }

    public func forwardFLOPs(tokens: Int, attentionContext: Int, logitRows: Int) -> Double {
        let L = Double(layers), C = Double(channels), H = Double(hidden), V = Double(vocabularySize)
        let perLayer = 8 * C * C + 4 * C * H + 4 * C * Double(attentionContext)
        return Double(tokens) * L * perLayer + Double(logitRows) * (2 * C * C + 2 * V * C)
    }

    public var flopFormula: String {
        "forward/token = L·(8·C² + 4·C·H + 4·C·T_ctx) + (2·C² + 2·V·C) per MLM logits row; training = 3×forward (logits for every position)"
    }

    public var summary: String {
        "\(layers) layers × \(channels), \(heads) heads, feed-forward \(hidden), vocab \(vocabularySize), positions \(maxSequence)"
    }
}
