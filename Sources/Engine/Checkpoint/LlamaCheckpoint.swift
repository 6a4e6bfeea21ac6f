import Foundation

/// Llama and Mixtral checkpoints in Hugging Face's `LlamaForCausalLM` / `MixtralForCausalLM` layout.
///
/// Names: `model.embed_tokens.weight` [V, C]; per layer `model.layers.N.input_layernorm.weight`,
/// `self_attn.{q,k,v,o}_proj.weight` (Linear, output-major), `post_attention_layernorm.weight`, then either
/// `mlp.{gate,up,down}_proj.weight` or `block_sparse_moe.gate.weight` [E, C] and `block_sparse_moe.experts.E.{w1,w3,w2}.weight`;
/// `model.norm.weight`; `lm_head.weight` [V, C] (absent when tied to the embedding: it is then copied). Older files'
/// `rotary_emb.inv_freq` buffers are ignored (the engine computes its own table).
///
/// Layers, width, vocabulary, hidden size, key/value width and experts come from tensor shapes; heads from `heads`,
/// else the engine's metadata, else a sibling `config.json` (`num_attention_heads`); RoPE base, RMSNorm ε, context,
/// top-k and the auxiliary-loss coefficient from the metadata or `config.json` (`rope_theta`, at the top level or in
/// `rope_parameters` as Transformers 5 writes it, `rms_norm_eps`,
/// `max_position_embeddings`, `num_experts_per_tok`, `router_aux_loss_coef`), else defaults that `CheckpointInfo.assumed` lists.
extension Llama {
    static func load(file: SafeTensorsFile, heads: Int?) throws -> (model: Llama, info: CheckpointInfo) {
        let path = file.path
        func mismatch(_ problem: String) -> EngineError { Checkpoint.mismatch(path, problem, architecture: "Llama or Mixtral") }
        let names = file.entries.keys.filter { !$0.hasSuffix(".rotary_emb.inv_freq") }
        func entry(_ name: String) throws -> SafeTensorsEntry {
            guard let entry = file.entries[name] else { throw mismatch("tensor '\(name)' is missing") }
            return entry
        }
        let embed = try entry("model.embed_tokens.weight")
        guard embed.shape.count == 2 else { throw mismatch("model.embed_tokens.weight has shape \(embed.shape), not [V, C]") }
        let (V, C) = (embed.shape[0], embed.shape[1])
        let layers = try Checkpoint.layerCount(names, prefix: "model.layers.", path: path, architecture: "Llama or Mixtral")
        let q = try entry("model.layers.0.self_attn.q_proj.weight"), k = try entry("model.layers.0.self_attn.k_proj.weight")
        guard q.shape.count == 2, q.shape[1] == C, q.shape[0] >= 1 else {
            throw mismatch("q_proj.weight has shape \(q.shape), not [heads × head size, \(C)]")
        }
        let attentionWidth = q.shape[0]
        var experts = 0
        while file.entries["model.layers.0.block_sparse_moe.experts.\(experts).w1.weight"] != nil { experts += 1 }
        let up = try entry(experts > 0 ? "model.layers.0.block_sparse_moe.experts.0.w1.weight" : "model.layers.0.mlp.gate_proj.weight")
        guard up.shape.count == 2, up.shape[1] == C else {
            throw mismatch("the first MLP's gate weight has shape \(up.shape), not [hidden, \(C)]")
        }

        let recorded: LlamaConfig?
        switch try Checkpoint.recordedConfiguration(file) {
        case let .llama(config): recorded = config
        case let other?: throw mismatch("its metadata describes a \(other.architecture.rawValue) model")
        case nil: recorded = nil
        }
        var sibling = recorded == nil ? Checkpoint.huggingFaceConfig(besides: path) : nil
        if let json = sibling {
            try refuseUnsupported(json, path: path)
            // Transformers 5 writes RoPE's settings under rope_parameters; earlier versions at the top level.
            if json["rope_theta"] == nil, let theta = (json["rope_parameters"] as? [String: Any])?["rope_theta"] {
                sibling?["rope_theta"] = theta
            }
        }
        var assumed: [String] = []
        func setting<T>(_ key: String, _ recordedValue: T?, default fallback: T, as read: (NSNumber) -> T) -> T {
            if let recordedValue { return recordedValue }
            if let value = sibling?[key] as? NSNumber { return read(value) }
            assumed.append("\(key) = \(fallback) (a default: neither the file nor a config.json beside it gives it)")
            return fallback
        }
        let recordedHeads: (count: Int, source: String)? =
            recorded.map { ($0.heads, "metadata") }
            ?? (sibling?["num_attention_heads"] as? NSNumber).map { ($0.intValue, "config.json") }
        let headCount: Int, source: String
        switch (heads, recordedHeads) {
        case let (given?, known?) where given != known.count:
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)' records \(known.count) heads (\(known.source)), but --heads says \(given)",
                fix: "drop --heads; it is only for checkpoints that do not record their head count")
        case let (_, known?): (headCount, source) = known
        case let (given?, nil): (headCount, source) = (given, "argument")
        case (nil, nil):
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)' does not record its head count, and Llama head sizes vary (64, 128, …)",
                fix: "put the model's config.json next to the checkpoint, or pass --heads")
        }
        // Head size: the file's own (head_dim, or the engine's metadata), else the query width ÷ heads.
        let headSize =
            recorded?.headSize ?? (sibling?["head_dim"] as? NSNumber)?.intValue ?? (headCount >= 1 ? attentionWidth / headCount : 0)
        guard headCount >= 1, headSize >= 1, headCount * headSize == attentionWidth, k.shape.count == 2, k.shape[0] % headSize == 0 else {
            throw mismatch(
                "q_proj.weight \(q.shape) and k_proj.weight \(k.shape) are not \(headCount) query heads and whole key/value heads of head size \(headSize)"
            )
        }
        if let json = sibling {
            // What config.json says must be what the tensors hold; a disagreement means the wrong file beside it.
            let fromTensors: [(String, Int)] = [
                ("hidden_size", C), ("vocab_size", V), ("num_hidden_layers", layers), ("num_key_value_heads", k.shape[0] / headSize),
                ("intermediate_size", up.shape[0]), ("num_local_experts", experts),
            ]
            for (key, value) in fromTensors {
                guard let said = (json[key] as? NSNumber)?.intValue, !(key == "num_local_experts" && experts == 0) else { continue }
                if said != value {
                    throw mismatch("config.json says \(key) \(said), but the tensors hold \(value)")
                }
            }
        }
        var config = LlamaConfig(
            layers: layers, channels: C, heads: headCount, kvHeads: k.shape[0] / headSize, hidden: up.shape[0],
            vocabularySize: V,
            maxSequence: setting("max_position_embeddings", recorded?.maxSequence, default: 2048) { $0.intValue },
            ropeBase: setting("rope_theta", recorded?.ropeBase, default: 10_000) { $0.floatValue },
            normEpsilon: setting("rms_norm_eps", recorded?.normEpsilon, default: 1e-5) { $0.floatValue }, experts: experts,
            expertsPerToken: experts > 0 ? setting("num_experts_per_tok", recorded?.expertsPerToken, default: 2) { $0.intValue } : 2,
            routerAuxiliaryLossCoefficient: experts > 0
                ? setting("router_aux_loss_coef", recorded?.routerAuxiliaryLossCoefficient, default: 0.001) { $0.floatValue } : 0.001)
        // A head size other than width ÷ heads (pruned heads, or a model that chose its head_dim) is kept as given.
        if C % headCount != 0 || headSize != C / headCount { config.headDimension = headSize }
        try config.validate()

        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        var expected: Set<String> = []
        var tied = false
        for (i, spec) in buffer.layout.specs.enumerated() {
            let padded = spec.name == "model.embed_tokens.weight" || spec.name == "lm_head.weight"
            let shape = padded ? [V, C] : spec.shape
            var stored = spec.name
            if spec.name == "lm_head.weight" && file.entries[stored] == nil {
                guard (sibling?["tie_word_embeddings"] as? Bool) == true else {
                    throw mismatch(
                        "tensor 'lm_head.weight' is missing and no config.json beside it says tie_word_embeddings: true")
                }
                stored = "model.embed_tokens.weight"
                tied = true
            }
            expected.insert(stored)
            let found = try entry(stored)
            guard found.shape == shape else {
                throw mismatch("tensor '\(stored)' has shape \(found.shape) but \(config.summary) needs \(shape)")
            }
            try Checkpoint.read(file, stored, shape: shape, into: buffer.view(i))
        }
        if let extra = names.filter({ !expected.contains($0) }).sorted().first {
            throw mismatch("unexpected tensor '\(extra)' for \(config.summary)")
        }
        if tied {
            assumed.append("lm_head.weight = model.embed_tokens.weight (config.json ties them; the engine trains an untied copy)")
        }
        return (
            try Llama(config: config, parameters: buffer),
            CheckpointInfo(config: .llama(config), tokenizer: file.metadata[Checkpoint.tokenizerKey], headsSource: source, assumed: assumed)
        )
    }

    /// Variants of the layout the engine does not compute, refused by name rather than run wrongly.
    static func refuseUnsupported(_ json: [String: Any], path: String) throws {
        func refuse(_ what: String) -> EngineError {
            EngineError.invalidConfiguration(
                "checkpoint '\(path)': config.json asks for \(what), which the engine does not implement",
                fix: "use a model without it (plain RoPE, SiLU, no attention or MLP biases)")
        }
        if let type = json["model_type"] as? String, !["llama", "mistral", "mixtral"].contains(type) {
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)': config.json says model_type \(type); the engine computes llama, mistral and mixtral only",
                fix: "use a Llama, Mistral or Mixtral checkpoint (a look-alike such as Granite scales its layers differently)")
        }
        if let scaling = json["rope_scaling"], !(scaling is NSNull) { throw refuse("rope_scaling") }
        if let type = (json["rope_parameters"] as? [String: Any])?["rope_type"] as? String, type != "default" {
            throw refuse("rope_type \(type)")
        }
        if let act = json["hidden_act"] as? String, act != "silu" { throw refuse("hidden_act \(act)") }
        if (json["attention_bias"] as? Bool) == true { throw refuse("attention biases") }
        if (json["mlp_bias"] as? Bool) == true { throw refuse("MLP biases") }
        if let window = json["sliding_window"] as? NSNumber, let context = json["max_position_embeddings"] as? NSNumber,
            window.intValue < context.intValue
        {
            throw refuse("sliding-window attention (\(window) < \(context))")
        }
    }

    /// Writes this model in the Hugging Face Llama or Mixtral layout (embedding and LM head without vocabulary
    /// padding), with the engine's metadata.
    /// - Throws: `fileUnwritable`.
    public func save(path: String, tokenizer: String, metadata: [String: String]) throws {
        try Checkpoint.write(
            path: path, parameters: parameters, config: .llama(config), tokenizer: tokenizer,
            vocabularyRows: ["model.embed_tokens.weight", "lm_head.weight"], metadata: metadata)
    }
}
