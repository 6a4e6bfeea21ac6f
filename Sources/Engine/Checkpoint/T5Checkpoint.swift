import Foundation

/// T5 checkpoints in Hugging Face's `T5ForConditionalGeneration` layout (v1.1: gated-GELU, no biases).
///
/// Names: `shared.weight` [V, C]; per encoder block `encoder.block.N.layer.0.SelfAttention.{q,k,v,o}.weight`,
/// `layer.0.layer_norm.weight`, `layer.1.DenseReluDense.{wi_0,wi_1,wo}.weight`, `layer.1.layer_norm.weight`, block 0's
/// `relative_attention_bias.weight` [buckets, heads]; the decoder's blocks add `layer.1.EncDecAttention.{q,k,v,o}` and
/// move the feed-forward to `layer.2`; `encoder.final_layer_norm.weight`, `decoder.final_layer_norm.weight`;
/// `lm_head.weight` when untied (absent: the head is `shared.weight`, as Transformers 5 always saves it). Stored
/// copies `encoder.embed_tokens.weight` / `decoder.embed_tokens.weight` of the shared table are ignored.
///
/// Shapes give layers, width, attention width, feed-forward width, vocabulary and buckets; heads come from `heads`,
/// the metadata or `config.json` (`num_heads`), else width/64; `relative_attention_max_distance`,
/// `layer_norm_epsilon`, `pad_token_id`, `eos_token_id`, `decoder_start_token_id`, `n_positions` and
/// `scale_decoder_outputs` (else `tie_word_embeddings` ≠ false, as Transformers reads older files) from the metadata or
/// `config.json`, else defaults that `CheckpointInfo.assumed` lists. Sentinels: T5's 100.
extension T5 {
    static func load(file: SafeTensorsFile, heads: Int?) throws -> (model: T5, info: CheckpointInfo) {
        let path = file.path
        func mismatch(_ problem: String) -> EngineError { Checkpoint.mismatch(path, problem, architecture: "T5 v1.1") }
        var assumed: [String] = []
        let ignored: Set<String> = ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"]
        let names = Set(file.entries.keys).subtracting(ignored)
        for name in ignored.sorted() where file.entries[name] != nil { assumed.append("\(name) ignored (a stored copy of shared.weight)") }
        func entry(_ name: String) throws -> SafeTensorsEntry {
            guard names.contains(name), let entry = file.entries[name] else { throw mismatch("tensor '\(name)' is missing") }
            return entry
        }
        if names.contains("encoder.block.0.layer.1.DenseReluDense.wi.weight") {
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)' is an original T5 (one ReLU feed-forward matrix wi), which the engine does not implement",
                fix: "use a T5 v1.1 / Flan-T5 checkpoint (gated-GELU: wi_0 and wi_1)")
        }
        let shared = try entry("shared.weight")
        guard shared.shape.count == 2 else { throw mismatch("shared.weight has shape \(shared.shape), not [V, C]") }
        let (V, C) = (shared.shape[0], shared.shape[1])
        let encoderLayers = try Checkpoint.layerCount(names, prefix: "encoder.block.", path: path, architecture: "T5 v1.1")
        let decoderLayers = try Checkpoint.layerCount(names, prefix: "decoder.block.", path: path, architecture: "T5 v1.1")
        let q = try entry("encoder.block.0.layer.0.SelfAttention.q.weight")
        let wi = try entry("encoder.block.0.layer.1.DenseReluDense.wi_0.weight")
        let table = try entry("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight")
        guard q.shape.count == 2, q.shape[1] == C, wi.shape.count == 2, wi.shape[1] == C, table.shape.count == 2 else {
            throw mismatch(
                "q.weight \(q.shape) or wi_0.weight \(wi.shape) is not [·, \(C)], or the relative table \(table.shape) not [buckets, heads]"
            )
        }
        let recorded: T5Config?
        switch try Checkpoint.recordedConfiguration(file) {
        case let .t5(config): recorded = config
        case let other?: throw mismatch("its metadata describes a \(other.architecture.rawValue) model")
        case nil: recorded = nil
        }
        let sibling = recorded == nil ? Checkpoint.huggingFaceConfig(besides: path) : nil
        if let json = sibling { try refuseUnsupported(json, path: path) }
        let A = q.shape[0]
        let resolved = try Checkpoint.headCount(
            given: heads, recorded: recorded?.heads, json: sibling, key: "num_heads", width: A, path: path, defaultHeadSize: 64)
        assumed += resolved.assumed
        guard resolved.count == table.shape[1] else {
            throw mismatch("the relative position table has \(table.shape[1]) heads, but the model has \(resolved.count)")
        }
        if let json = sibling {
            let fromTensors = [
                ("d_model", C), ("vocab_size", V), ("num_layers", encoderLayers), ("num_decoder_layers", decoderLayers),
                ("d_ff", wi.shape[0]),
                ("d_kv", A / resolved.count), ("relative_attention_num_buckets", table.shape[0]),
            ]
            for (key, value) in fromTensors {
                if let said = (json[key] as? NSNumber)?.intValue, said != value {
                    throw mismatch("config.json says \(key) \(said), but the tensors hold \(value)")
                }
            }
        }
        func setting<T>(_ key: String, _ recordedValue: T?, default fallback: T, as read: (NSNumber) -> T) -> T {
            if let recordedValue { return recordedValue }
            if let value = sibling?[key] as? NSNumber { return read(value) }
            assumed.append("\(key) = \(fallback) (a default: neither the file nor a config.json beside it gives it)")
            return fallback
        }
        let tied = !names.contains("lm_head.weight")
        let scale: Bool
        if let recorded {
            scale = recorded.scaleDecoderOutput
        } else if let said = sibling?["scale_decoder_outputs"] as? Bool {
            scale = said
        } else if let tie = sibling?["tie_word_embeddings"] as? Bool {
            scale = tie
        } else {
            scale = tied
            assumed.append(
                "decoder output \(tied ? "" : "not ")scaled by 1/√d_model (no config.json says; \(tied ? "tied heads are original T5's" : "untied heads are v1.1's"))"
            )
        }
        // Sentinels are tokenizer facts no config.json records: Google's T5 vocabularies end their 32100 ids with 100
        // sentinels and pad the embedding to 32128 rows; other files are taken to end with theirs.
        let sentinelCount = min(100, max(0, V - 3))
        let firstSentinel = V == 32128 ? 32099 : V - 1
        if recorded == nil {
            assumed.append(
                "sentinels <extra_id_0> = \(firstSentinel) counting down, \(sentinelCount) of them (\(V == 32128 ? "Google's T5 vocabulary" : "the last ids"): no file records them)"
            )
        }
        let config = T5Config(
            layers: encoderLayers, decoderLayers: decoderLayers, channels: C, heads: resolved.count, headSize: A / resolved.count,
            hidden: wi.shape[0], vocabularySize: V,
            maxSequence: setting("n_positions", recorded?.maxSequence, default: 512) { $0.intValue }, buckets: table.shape[0],
            maxDistance: setting("relative_attention_max_distance", recorded?.maxDistance, default: 128) { $0.intValue },
            normEpsilon: setting("layer_norm_epsilon", recorded?.normEpsilon, default: 1e-6) { $0.floatValue },
            padTokenID: setting("pad_token_id", recorded?.padTokenID, default: 0) { $0.intValue },
            endOfSequenceTokenID: setting("eos_token_id", recorded?.endOfSequenceTokenID, default: 1) { $0.intValue },
            decoderStartTokenID: setting("decoder_start_token_id", recorded?.decoderStartTokenID, default: 0) { $0.intValue },
            sentinels: recorded?.sentinels ?? sentinelCount, firstSentinel: recorded == nil ? firstSentinel : recorded?.firstSentinel,
            tiedHead: tied, scaleDecoderOutput: scale)
        try config.validate()

        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        for (i, spec) in buffer.layout.specs.enumerated() {
            let vocabularyRows = spec.name == "shared.weight" || spec.name == "lm_head.weight"
            let shape = vocabularyRows ? [V, C] : spec.shape
            let found = try entry(spec.name)
            guard found.shape == shape else {
                throw mismatch("tensor '\(spec.name)' has shape \(found.shape) but \(config.summary) needs \(shape)")
            }
            try Checkpoint.read(file, spec.name, shape: shape, into: buffer.view(i))
        }
        let expected = Set(buffer.layout.specs.map(\.name))
        if let extra = names.subtracting(expected).sorted().first {
            throw mismatch("unexpected tensor '\(extra)' for \(config.summary)")
        }
        return (
            try T5(config: config, parameters: buffer),
            CheckpointInfo(
                config: .t5(config), tokenizer: file.metadata[Checkpoint.tokenizerKey], headsSource: resolved.source, assumed: assumed)
        )
    }

    /// Variants the engine does not compute, refused by name rather than run wrongly.
    static func refuseUnsupported(_ json: [String: Any], path: String) throws {
        if let type = json["model_type"] as? String, !["t5", "mt5"].contains(type) {
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)': config.json says model_type \(type); the engine computes t5 and mt5 only",
                fix: "use a T5 v1.1, Flan-T5 or mT5 checkpoint")
        }
        if let projection = json["feed_forward_proj"] as? String, projection != "gated-gelu" {
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)': config.json asks for feed_forward_proj \(projection), which the engine does not implement",
                fix: "use a T5 v1.1 checkpoint (feed_forward_proj \"gated-gelu\")")
        }
    }

    /// Writes this model in the Hugging Face `T5ForConditionalGeneration` layout (vocabulary padding cut), with the
    /// engine's metadata.
    /// - Throws: `fileUnwritable`.
    public func save(path: String, tokenizer: String, metadata: [String: String]) throws {
        try Checkpoint.write(
            path: path, parameters: parameters, config: .t5(config), tokenizer: tokenizer,
            vocabularyRows: ["shared.weight", "lm_head.weight"], metadata: metadata)
    }
}
