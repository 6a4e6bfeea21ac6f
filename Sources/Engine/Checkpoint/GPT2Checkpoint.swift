import Foundation

/// GPT-2 checkpoints in the Hugging Face `model.safetensors` layout.
///
/// Names: `wte.weight` [V,C], `wpe.weight` [maxSeq,C], `h.N.ln_1.{weight,bias}`, `h.N.attn.c_attn.{weight [C,3C], bias}`,
/// `h.N.attn.c_proj`, `h.N.ln_2`, `h.N.mlp.c_fc`, `h.N.mlp.c_proj` (Conv1D, input-major), `ln_f`,
/// optionally prefixed `transformer.`. `attn.bias`/`attn.masked_bias` (causal-mask buffers) are ignored,
/// and `lm_head.weight` is accepted only when equal to `wte.weight` (GPT-2 ties them).
/// The engine writes the same layout plus its metadata (see `Checkpoint`), so either side loads the other's files.
extension GPT2 {

    /// Loads a checkpoint. Layers, width, vocabulary and context come from tensor shapes; heads from the
    /// `wattprint.config` metadata, else a sibling `config.json` (`n_head`), else `heads`, else width/64
    /// (true for every released GPT-2 size); `heads` that contradict a recorded head count are refused.
    /// - Throws: `EngineError` (`checkpointMismatch` naming the tensor, expected and actual shape, and
    ///   the malformed/truncated/unreadable/dtype cases of `SafeTensorsFile`).
    public static func load(path: String, heads: Int? = nil) throws -> (model: GPT2, info: CheckpointInfo) {
        try load(file: SafeTensorsFile(path: path), heads: heads)
    }

    static func load(file: SafeTensorsFile, heads: Int?) throws -> (model: GPT2, info: CheckpointInfo) {
        let path = file.path
        var byName: [String: String] = [:]
        for name in file.entries.keys {
            let normalised = name.hasPrefix("transformer.") ? String(name.dropFirst("transformer.".count)) : name
            if normalised.hasSuffix(".attn.bias") || normalised.hasSuffix(".attn.masked_bias") { continue }
            if byName[normalised] != nil {
                throw mismatch(path, "tensor '\(normalised)' appears twice (with and without the 'transformer.' prefix)")
            }
            byName[normalised] = name
        }
        func entry(_ name: String) throws -> SafeTensorsEntry {
            guard let stored = byName[name], let entry = file.entries[stored] else {
                throw mismatch(path, "tensor '\(name)' is missing")
            }
            return entry
        }
        let wte = try entry("wte.weight"), wpe = try entry("wpe.weight")
        guard wte.shape.count == 2, wpe.shape.count == 2, wte.shape[1] == wpe.shape[1] else {
            throw mismatch(path, "wte.weight \(wte.shape) and wpe.weight \(wpe.shape) are not [V, C] and [maxSeq, C]")
        }
        let layers = try Checkpoint.layerCount(byName.keys, prefix: "h.", path: path, architecture: "GPT-2")
        let channels = wte.shape[1]
        var metadataConfig: GPT2Config?
        if case let .gpt2(recorded) = try Checkpoint.recordedConfiguration(file) { metadataConfig = recorded }
        let recordedHeads: (count: Int, source: String)? =
            metadataConfig.map { ($0.heads, "metadata") }
            ?? (Checkpoint.huggingFaceConfig(besides: path)?["n_head"] as? NSNumber).map { ($0.intValue, "config.json") }
        let headCount: Int, source: String
        switch (heads, recordedHeads) {
        case let (given?, known?) where given != known.count:
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)' records \(known.count) heads (\(known.source)), but --heads says \(given)",
                fix: "drop --heads; it is only for checkpoints that do not record their head count")
        case let (_, known?): (headCount, source) = known
        case let (given?, nil): (headCount, source) = (given, "argument")
        case (nil, nil) where channels % 64 == 0: (headCount, source) = (channels / 64, "width/64")
        case (nil, nil):
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)' does not record its head count and width \(channels) is not a multiple of 64",
                fix: "pass --heads, or put the model's config.json next to the checkpoint")
        }
        // The MLP width is GPT-2's 4 × width unless its channels were pruned (`model prune`).
        let fc = try entry("h.0.mlp.c_fc.weight")
        let mlp = fc.shape.count == 2 && fc.shape[0] == channels ? fc.shape[1] : 4 * channels
        // The attention is the width unless heads were pruned (`model prune --attention`): c_attn is then [C, 3·A].
        let qkv = try entry("h.0.attn.c_attn.weight")
        let attention = qkv.shape.count == 2 && qkv.shape[0] == channels && qkv.shape[1] % 3 == 0 ? qkv.shape[1] / 3 : channels
        if attention != channels && source == "width/64" {
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)' has an attention \(attention) wide (pruned heads) but does not record its head count",
                fix: "pass --heads (the heads it kept)")
        }
        let config = GPT2Config(
            layers: layers, channels: channels, heads: headCount, vocabularySize: wte.shape[0], maxSequence: wpe.shape[0],
            hidden: mlp == 4 * channels ? nil : mlp,
            headDimension: attention == channels || attention % headCount != 0 ? nil : attention / headCount)
        try config.validate()
        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        var expected = Set<String>()
        for (i, spec) in buffer.layout.specs.enumerated() {
            expected.insert(spec.name)
            let stored = try entry(spec.name)
            let shape = spec.name == "wte.weight" ? [config.vocabularySize, channels] : spec.shape
            guard stored.shape == shape else {
                throw mismatch(
                    path,
                    "tensor '\(spec.name)' has shape \(stored.shape) but a GPT-2 with \(layers) layers, width \(channels) needs \(shape)")
            }
            try Checkpoint.read(file, byName[spec.name]!, shape: shape, into: buffer.view(i))
        }
        if let head = byName["lm_head.weight"] {
            expected.insert("lm_head.weight")
            let stored = file.entries[head]!
            guard stored.shape == [config.vocabularySize, channels] else {
                throw mismatch(path, "lm_head.weight has shape \(stored.shape), expected the tied [\(config.vocabularySize), \(channels)]")
            }
            let copy = TensorBuffer(layout: TensorLayout([TensorSpec(name: "lm_head", shape: stored.shape, decays: false)]))
            try file.read(head, into: copy.view(0))
            let wteView = buffer["wte.weight"]
            for i in 0..<copy.view(0).count where copy.view(0)[i] != wteView[i] {
                throw mismatch(path, "lm_head.weight differs from wte.weight, but GPT-2 ties the LM head to the token embedding")
            }
        }
        if let extra = byName.keys.filter({ !expected.contains($0) }).sorted().first {
            throw mismatch(path, "unexpected tensor '\(extra)' for a GPT-2 with \(layers) layers")
        }
        let model = try GPT2(config: config, parameters: buffer)
        return (
            model,
            CheckpointInfo(config: .gpt2(config), tokenizer: file.metadata[Checkpoint.tokenizerKey], headsSource: source, assumed: [])
        )
    }

    /// Writes this model in the Hugging Face GPT-2 layout (wte without vocabulary padding), with the engine's metadata.
    /// - Throws: `fileUnwritable`.
    public func save(path: String, tokenizer: String, metadata: [String: String]) throws {
        try Checkpoint.write(
            path: path, parameters: parameters, config: .gpt2(config), tokenizer: tokenizer, vocabularyRows: ["wte.weight"],
            metadata: metadata)
    }

    static func mismatch(_ path: String, _ problem: String) -> EngineError { Checkpoint.mismatch(path, problem, architecture: "GPT-2") }
}
