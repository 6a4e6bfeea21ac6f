import Foundation

/// What a checkpoint says about itself beyond its tensors.
public struct CheckpointInfo: Sendable, Codable {
    public let config: GPT2Config
    /// "byte" or "gpt2" when written by this engine; nil for external (Hugging Face) files.
    public let tokenizer: String?
    /// Where the head count came from: "metadata", "config.json", "argument" or "width/64".
    public let headsSource: String
}

/// GPT-2 checkpoints in the Hugging Face `model.safetensors` layout.
///
/// Names: `wte.weight` [V,C], `wpe.weight` [maxSeq,C], `h.N.ln_1.{weight,bias}`, `h.N.attn.c_attn.{weight [C,3C], bias}`,
/// `h.N.attn.c_proj`, `h.N.ln_2`, `h.N.mlp.c_fc`, `h.N.mlp.c_proj` (Conv1D, input-major), `ln_f`,
/// optionally prefixed `transformer.`. `attn.bias`/`attn.masked_bias` (causal-mask buffers) are ignored,
/// and `lm_head.weight` is accepted only when equal to `wte.weight` (GPT-2 ties them).
/// The engine writes the same layout, plus `__metadata__` keys `wattprint.config` (JSON) and
/// `wattprint.tokenizer`, so either side loads the other's files.
extension GPT2 {
    static let configKey = "wattprint.config"
    static let tokenizerKey = "wattprint.tokenizer"

    /// Loads a checkpoint. Layers, width, vocabulary and context come from tensor shapes; heads from
    /// `heads`, else `wattprint.config` metadata, else a sibling `config.json` (`n_head`), else width/64
    /// (true for every released GPT-2 size).
    /// - Throws: `EngineError` (`checkpointMismatch` naming the tensor, expected and actual shape, and
    ///   the malformed/truncated/unreadable/dtype cases of `SafeTensorsFile`).
    public static func load(path: String, heads: Int? = nil) throws -> (model: GPT2, info: CheckpointInfo) {
        let file = try SafeTensorsFile(path: path)
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
        var layerIndices = Set<Int>()
        for name in byName.keys where name.hasPrefix("h.") {
            if let index = Int(name.dropFirst(2).prefix { $0 != "." }) { layerIndices.insert(index) }
        }
        let layers = layerIndices.count
        guard layers > 0, layerIndices == Set(0..<layers) else {
            throw mismatch(path, "transformer blocks are \(layerIndices.sorted()), not h.0 … h.N-1")
        }
        let channels = wte.shape[1]
        let metadataConfig = file.metadata[configKey].flatMap { try? JSONDecoder().decode(GPT2Config.self, from: Data($0.utf8)) }
        var headCount: Int, source: String
        if let heads {
            (headCount, source) = (heads, "argument")
        } else if let metadataConfig {
            (headCount, source) = (metadataConfig.heads, "metadata")
        } else if let sibling = siblingHeadCount(path) {
            (headCount, source) = (sibling, "config.json")
        } else if channels % 64 == 0 {
            (headCount, source) = (channels / 64, "width/64")
        } else {
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)' does not record its head count and width \(channels) is not a multiple of 64",
                fix: "pass --heads, or put the model's config.json next to the checkpoint")
        }
        let config = GPT2Config(
            layers: layers, channels: channels, heads: headCount, vocabularySize: wte.shape[0], maxSequence: wpe.shape[0])
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
            let view = buffer.view(i)
            try file.read(byName[spec.name]!, into: UnsafeMutableBufferPointer(rebasing: view[0..<(shape.reduce(1, *))]))
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
        return (model, CheckpointInfo(config: config, tokenizer: file.metadata[tokenizerKey], headsSource: source))
    }

    /// Writes this model in the Hugging Face GPT-2 layout (wte without vocabulary padding), with
    /// the config and tokenizer kind in `__metadata__`.
    /// - Throws: `fileUnwritable`.
    public func save(path: String, tokenizer: String) throws {
        let configJSON = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        var tensors: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)] = []
        for (i, spec) in parameters.layout.specs.enumerated() {
            let view = parameters.view(i)
            if spec.name == "wte.weight" {
                let count = config.vocabularySize * config.channels
                tensors.append((spec.name, [config.vocabularySize, config.channels], UnsafeBufferPointer(rebasing: view[0..<count])))
            } else {
                tensors.append((spec.name, spec.shape, UnsafeBufferPointer(view)))
            }
        }
        try SafeTensorsWriter.write(
            path: path, tensors: tensors,
            metadata: [
                "format": "pt",
                Self.configKey: configJSON,
                Self.tokenizerKey: tokenizer,
                "wattprint.format": String(EngineInfo.checkpointFormatVersion),
            ])
    }

    static func mismatch(_ path: String, _ problem: String) -> EngineError {
        EngineError(
            .checkpointMismatch, "checkpoint '\(path)': \(problem)",
            fix: "pass a GPT-2 checkpoint in the Hugging Face layout (model.safetensors) or one written by `model train --out`")
    }

    /// `n_head` from a Hugging Face `config.json` next to the checkpoint, if there is one.
    static func siblingHeadCount(_ path: String) -> Int? {
        let sibling = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: sibling),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return (json["n_head"] as? NSNumber)?.intValue
    }
}
