import Foundation

/// BERT checkpoints in Hugging Face's `BertForPreTraining` / `BertForMaskedLM` layout.
///
/// Names: `bert.embeddings.{word,position,token_type}_embeddings.weight`, `bert.embeddings.LayerNorm.{weight,bias}`;
/// per layer `bert.encoder.layer.N.attention.self.{query,key,value}.{weight,bias}`, `attention.output.dense`,
/// `attention.output.LayerNorm`, `intermediate.dense`, `output.dense`, `output.LayerNorm`; optionally
/// `bert.pooler.dense`; the MLM head `cls.predictions.transform.{dense,LayerNorm}` and `cls.predictions.bias` (its
/// decoder is the word embeddings). A bare `BertModel`'s names without `bert.` are accepted. Not computed, and
/// listed in `CheckpointInfo.assumed` when present: the next-sentence head `cls.seq_relationship.*`, a stored copy of
/// the tied decoder `cls.predictions.decoder.*`, the `position_ids` buffer.
///
/// Shapes give layers, width, feed-forward width, vocabulary, positions and segment types; heads come from `heads`,
/// the metadata or `config.json` (`num_attention_heads`), else width/64 (every released BERT); ε and the pad id from
/// `layer_norm_eps` and `pad_token_id`; the [MASK] id from the metadata, `mask_token_id`, or the `[MASK]` line of a
/// `vocab.txt` beside the file (none: the model encodes but refuses to train).
extension BERT {
    static let ignoredPrefixes = ["cls.seq_relationship.", "cls.predictions.decoder."]

    static func load(file: SafeTensorsFile, heads: Int?) throws -> (model: BERT, info: CheckpointInfo) {
        let path = file.path
        func mismatch(_ problem: String) -> EngineError { Checkpoint.mismatch(path, problem, architecture: "BERT") }
        var stored: [String: String] = [:]
        var assumed: [String] = []
        for name in file.entries.keys.sorted() {
            if name.hasSuffix("embeddings.position_ids") { continue }
            if let prefix = ignoredPrefixes.first(where: { name.hasPrefix($0) }) {
                if !assumed.contains(where: { $0.hasPrefix(prefix) }) { assumed.append("\(prefix)* ignored (not computed by the engine)") }
                continue
            }
            let canonical = name.hasPrefix("bert.") || name.hasPrefix("cls.") ? name : "bert." + name
            stored[canonical] = name
        }
        func entry(_ name: String) throws -> SafeTensorsEntry {
            guard let key = stored[name], let entry = file.entries[key] else { throw mismatch("tensor '\(name)' is missing") }
            return entry
        }
        let words = try entry("bert.embeddings.word_embeddings.weight")
        let positions = try entry("bert.embeddings.position_embeddings.weight")
        let segments = try entry("bert.embeddings.token_type_embeddings.weight")
        guard words.shape.count == 2, positions.shape.count == 2, segments.shape.count == 2 else {
            throw mismatch("the embedding tables are not matrices")
        }
        let (V, C) = (words.shape[0], words.shape[1])
        let layers = try Checkpoint.layerCount(stored.keys, prefix: "bert.encoder.layer.", path: path, architecture: "BERT")
        let intermediate = try entry("bert.encoder.layer.0.intermediate.dense.weight")
        guard intermediate.shape.count == 2, intermediate.shape[1] == C else {
            throw mismatch("intermediate.dense.weight has shape \(intermediate.shape), not [hidden, \(C)]")
        }
        if stored["cls.predictions.bias"] == nil {
            throw mismatch(
                "it has no masked-language-model head (cls.predictions.*); the engine needs BertForMaskedLM or BertForPreTraining weights")
        }

        let recorded: BERTConfig?
        switch try Checkpoint.recordedConfiguration(file) {
        case let .bert(config): recorded = config
        case let other?: throw mismatch("its metadata describes a \(other.architecture.rawValue) model")
        case nil: recorded = nil
        }
        let sibling = recorded == nil ? Checkpoint.huggingFaceConfig(besides: path) : nil
        if let json = sibling { try refuseUnsupported(json, path: path) }
        let resolvedHeads = try Checkpoint.headCount(
            given: heads, recorded: recorded?.heads, json: sibling, key: "num_attention_heads", width: C, path: path, defaultHeadSize: 64)
        if let json = sibling {
            for (key, value) in [
                ("hidden_size", C), ("vocab_size", V), ("num_hidden_layers", layers), ("intermediate_size", intermediate.shape[0]),
            ] {
                if let said = (json[key] as? NSNumber)?.intValue, said != value {
                    throw mismatch("config.json says \(key) \(said), but the tensors hold \(value)")
                }
            }
        }
        assumed += resolvedHeads.assumed
        func setting<T>(_ key: String, _ recordedValue: T?, default fallback: T, as read: (NSNumber) -> T) -> T {
            if let recordedValue { return recordedValue }
            if let value = sibling?[key] as? NSNumber { return read(value) }
            assumed.append("\(key) = \(fallback) (a default: neither the file nor a config.json beside it gives it)")
            return fallback
        }
        var mask = recorded?.maskTokenID ?? (sibling?["mask_token_id"] as? NSNumber)?.intValue
        if recorded == nil, mask == nil {
            mask = Self.maskFromVocabulary(besides: path)
            if mask == nil { assumed.append("[MASK] id unknown (no mask_token_id and no vocab.txt beside it): encodes, does not train") }
        }
        let config = BERTConfig(
            layers: layers, channels: C, heads: resolvedHeads.count, hidden: intermediate.shape[0], vocabularySize: V,
            maxSequence: positions.shape[0], segmentTypes: segments.shape[0],
            normEpsilon: setting("layer_norm_eps", recorded?.normEpsilon, default: 1e-12) { $0.floatValue },
            padTokenID: setting("pad_token_id", recorded?.padTokenID, default: 0) { $0.intValue }, maskTokenID: mask,
            pooler: stored["bert.pooler.dense.weight"] != nil)
        try config.validate()

        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        var used: Set<String> = []
        for (i, spec) in buffer.layout.specs.enumerated() {
            let vocabularyRows = spec.name == "bert.embeddings.word_embeddings.weight" || spec.name == "cls.predictions.bias"
            let shape = vocabularyRows ? (spec.shape.count == 1 ? [V] : [V, C]) : spec.shape
            let found = try entry(spec.name)
            guard found.shape == shape else {
                throw mismatch("tensor '\(spec.name)' has shape \(found.shape) but \(config.summary) needs \(shape)")
            }
            try Checkpoint.read(file, stored[spec.name]!, shape: shape, into: buffer.view(i))
            used.insert(spec.name)
        }
        if let extra = stored.keys.filter({ !used.contains($0) }).sorted().first {
            throw mismatch("unexpected tensor '\(stored[extra]!)' for \(config.summary)")
        }
        return (
            try BERT(config: config, parameters: buffer),
            CheckpointInfo(
                config: .bert(config), tokenizer: file.metadata[Checkpoint.tokenizerKey], headsSource: resolvedHeads.source,
                assumed: assumed)
        )
    }

    /// The line number of `[MASK]` in a WordPiece `vocab.txt` beside the checkpoint (ids are line numbers from 0).
    static func maskFromVocabulary(besides path: String) -> Int? {
        let sibling = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("vocab.txt")
        guard let text = try? String(contentsOfFile: sibling, encoding: .utf8) else { return nil }
        return text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex {
            $0.trimmingCharacters(in: .whitespaces) == "[MASK]"
        }
    }

    /// Variants the engine does not compute, refused by name rather than run wrongly.
    static func refuseUnsupported(_ json: [String: Any], path: String) throws {
        func refuse(_ what: String) -> EngineError {
            EngineError.invalidConfiguration(
                "checkpoint '\(path)': config.json asks for \(what), which the engine does not implement",
                fix: "use a BERT with absolute positions and the exact GELU (hidden_act \"gelu\")")
        }
        if let type = json["model_type"] as? String, type != "bert" {
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)': config.json says model_type \(type); the engine computes bert only",
                fix: "use a BERT checkpoint (RoBERTa and others offset positions or change the layers)")
        }
        if let act = json["hidden_act"] as? String, act != "gelu" { throw refuse("hidden_act \(act)") }
        if let kind = json["position_embedding_type"] as? String, kind != "absolute" { throw refuse("position_embedding_type \(kind)") }
        if (json["is_decoder"] as? Bool) == true { throw refuse("a causal decoder (is_decoder)") }
    }

    /// Writes this model in the Hugging Face `BertForPreTraining` layout (minus the next-sentence head), vocabulary
    /// padding cut, with the engine's metadata.
    /// - Throws: `fileUnwritable`.
    public func save(path: String, tokenizer: String, metadata: [String: String]) throws {
        try Checkpoint.write(
            path: path, parameters: parameters, config: .bert(config), tokenizer: tokenizer,
            vocabularyRows: ["bert.embeddings.word_embeddings.weight", "cls.predictions.bias"], metadata: metadata)
    }
}
