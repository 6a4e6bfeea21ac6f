import Foundation

/// What a checkpoint says about itself beyond its tensors.
public struct CheckpointInfo: Sendable, Codable {
    public let config: AnyModelConfiguration
    /// "byte" or "gpt2" when written by this engine; nil for external (Hugging Face) files.
    public let tokenizer: String?
    /// Where the head count came from: "metadata", "config.json", "argument" or "width/64".
    public let headsSource: String
    /// Fields neither the tensors, the metadata, a `config.json` nor an argument gave, so defaults were used
    /// ("rope_theta = 10000", …); empty for the engine's own files.
    public let assumed: [String]
    /// What `model prune` removed to make this checkpoint (its `wattprint.pruning` metadata); nil for any other file.
    public var pruning: PruningRecord? = nil
}

/// Safetensors checkpoints of every architecture, in Hugging Face's layouts (GPT-2's `GPT2LMHeadModel`, Llama's
/// `LlamaForCausalLM`, Mixtral's `MixtralForCausalLM`, `BertForPreTraining`, `T5ForConditionalGeneration`), so files
/// move both ways between the engine and PyTorch.
///
/// The engine's own files add `__metadata__` keys: `wattprint.config` (the configuration as JSON, tagged with its
/// `architecture`), `wattprint.tokenizer` and `wattprint.format` (`EngineInfo.checkpointFormatVersion`). External
/// files are recognised by their tensor names; what the tensors do not fix comes from a `config.json` beside them.
public enum Checkpoint {
    static let configKey = "wattprint.config"
    static let tokenizerKey = "wattprint.tokenizer"
    /// Metadata key of a pruned checkpoint's `PruningRecord` (JSON), written by `model prune`.
    public static let pruningKey = "wattprint.pruning"

    /// `info` with what the file's metadata says beyond the model: the pruning that made it.
    /// - Throws: `checkpointMalformed` when `wattprint.pruning` is not a pruning record.
    static func described(_ info: CheckpointInfo, _ file: SafeTensorsFile) throws -> CheckpointInfo {
        guard let json = file.metadata[pruningKey] else { return info }
        var described = info
        do { described.pruning = try JSONDecoder().decode(PruningRecord.self, from: Data(json.utf8)) } catch {
            throw EngineError.checkpointMalformed(file.path, "metadata '\(pruningKey)' is not a pruning record (\(error))")
        }
        return described
    }

    /// Loads the model a checkpoint holds, whatever its architecture. `heads` overrides the recorded head count.
    /// - Throws: `EngineError`: `checkpointMismatch` for tensors of no known architecture or the wrong shapes (naming
    ///   the tensor), `invalidConfiguration` where the head count cannot be known, and the unreadable, truncated,
    ///   malformed and dtype cases of `SafeTensorsFile`.
    public static func load(path: String, heads: Int? = nil) throws -> (model: any ConfiguredModel, info: CheckpointInfo) {
        let file = try SafeTensorsFile(path: path)
        switch try architecture(of: file) {
        case .gpt2:
            let (model, info) = try GPT2.load(file: file, heads: heads)
            return (model, try described(info, file))
        case .llama, .moe:
            let (model, info) = try Llama.load(file: file, heads: heads)
            return (model, try described(info, file))
        case .bert:
            let (model, info) = try BERT.load(file: file, heads: heads)
            return (model, try described(info, file))
        case .t5:
            let (model, info) = try T5.load(file: file, heads: heads)
            return (model, try described(info, file))
        case .rnn, .lstm, .gru:
            let (model, info) = try RecurrentLanguageModel.load(file: file)
            return (model, try described(info, file))
        case .ae, .vae:
            let (model, info) = try Autoencoder.load(file: file)
            return (model, try described(info, file))
        case .gan:
            let (model, info) = try GAN.load(file: file)
            return (model, try described(info, file))
        }
    }

    /// The architecture a file holds: its metadata's tag, else what its tensor names say.
    /// - Throws: `checkpointMismatch` when the names match no architecture; `checkpointMalformed` for unreadable metadata.
    static func architecture(of file: SafeTensorsFile) throws -> Architecture {
        if let recorded = try recordedConfiguration(file) { return recorded.architecture }
        let names = file.entries.keys
        if names.contains(where: { $0 == "wte.weight" || $0 == "transformer.wte.weight" }) { return .gpt2 }
        if names.contains("model.embed_tokens.weight") {
            return names.contains(where: { $0.contains(".block_sparse_moe.") }) ? .moe : .llama
        }
        if names.contains(where: { $0 == "bert.embeddings.word_embeddings.weight" || $0 == "embeddings.word_embeddings.weight" }) {
            return .bert
        }
        if names.contains("shared.weight") && names.contains(where: { $0.hasPrefix("decoder.block.") }) { return .t5 }
        if names.contains("rnn.weight_ih_l0") { return try RecurrentLanguageModel.load(file: file).info.config.architecture }
        if names.contains("encoder.0.weight") && names.contains("decoder.2.weight") {
            return try Autoencoder.load(file: file).info.config.architecture
        }
        throw EngineError(
            .checkpointMismatch,
            "checkpoint '\(file.path)' holds none of GPT-2 (wte.weight), Llama/Mixtral (model.embed_tokens.weight), BERT (bert.embeddings.word_embeddings.weight) or T5 (shared.weight with decoder.block.*) tensors",
            fix:
                "pass a Hugging Face GPT2LMHeadModel, LlamaForCausalLM, MixtralForCausalLM, BertForPreTraining or T5ForConditionalGeneration model.safetensors, or one written by `model train --out`"
        )
    }

    /// The configuration the engine recorded in the file, if it did.
    /// - Throws: `checkpointMalformed` when `wattprint.config` is present but not a configuration.
    static func recordedConfiguration(_ file: SafeTensorsFile) throws -> AnyModelConfiguration? {
        guard let json = file.metadata[configKey] else { return nil }
        do { return try JSONDecoder().decode(AnyModelConfiguration.self, from: Data(json.utf8)) } catch {
            throw EngineError.checkpointMalformed(file.path, "metadata '\(configKey)' is not a model configuration (\(error))")
        }
    }

    /// Writes `parameters` under their spec names; tensors in `vocabularyRows` (tables [Vp, C] or vectors [Vp]) are cut
    /// to the real vocabulary (the padding rows are the engine's, not the model's).
    /// - Throws: `fileUnwritable`.
    static func write(
        path: String, parameters: TensorBuffer, config: AnyModelConfiguration, tokenizer: String, vocabularyRows: Set<String>,
        metadata extra: [String: String] = [:]
    ) throws {
        let shape = config.configuration
        var tensors: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)] = []
        for (i, spec) in parameters.layout.specs.enumerated() {
            let view = parameters.view(i)
            if vocabularyRows.contains(spec.name) {
                let rows = spec.shape.count == 1 ? [shape.vocabularySize] : [shape.vocabularySize, spec.shape[1]]
                tensors.append((spec.name, rows, UnsafeBufferPointer(rebasing: view[0..<rows.reduce(1, *)])))
            } else {
                tensors.append((spec.name, spec.shape, UnsafeBufferPointer(view)))
            }
        }
        try SafeTensorsWriter.write(
            path: path, tensors: tensors,
            metadata: [
                "format": "pt",
                configKey: String(decoding: try JSONEncoder().encode(config), as: UTF8.self),
                tokenizerKey: tokenizer,
                "wattprint.format": String(EngineInfo.checkpointFormatVersion),
            ].merging(extra) { engine, _ in engine })
    }

    /// Reads the stored tensor into the first rows of `view` (the rest, vocabulary padding, stays zero).
    static func read(_ file: SafeTensorsFile, _ stored: String, shape: [Int], into view: UnsafeMutableBufferPointer<Float>) throws {
        try file.read(stored, into: UnsafeMutableBufferPointer(rebasing: view[0..<shape.reduce(1, *)]))
    }

    /// A Hugging Face `config.json` beside the checkpoint, if there is one that parses.
    static func huggingFaceConfig(besides path: String) -> [String: Any]? {
        let sibling = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: sibling) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// Layer indices present under `prefix` ("h." or "model.layers."), checked to be 0 … N-1.
    /// - Throws: `checkpointMismatch` for missing or extra indices.
    static func layerCount(_ names: some Sequence<String>, prefix: String, path: String, architecture: String) throws -> Int {
        var indices = Set<Int>()
        for name in names where name.hasPrefix(prefix) {
            if let index = Int(name.dropFirst(prefix.count).prefix { $0 != "." }) { indices.insert(index) }
        }
        guard !indices.isEmpty, indices == Set(0..<indices.count) else {
            throw mismatch(path, "blocks are \(indices.sorted()), not \(prefix)0 … \(prefix)N-1", architecture: architecture)
        }
        return indices.count
    }

    /// The head count of a checkpoint: the argument (refused when it contradicts a recorded count), the engine's
    /// metadata, a `config.json` key, else width / `defaultHeadSize` (listed as assumed), else an error.
    /// - Throws: `invalidConfiguration` for a contradicting argument, an unknown count, or one that does not divide the width.
    static func headCount(
        given: Int?, recorded: Int?, json: [String: Any]?, key: String, width: Int, path: String, defaultHeadSize: Int?
    ) throws -> (count: Int, source: String, assumed: [String]) {
        let known: (count: Int, source: String)? =
            recorded.map { ($0, "metadata") } ?? (json?[key] as? NSNumber).map { ($0.intValue, "config.json") }
        var result: (count: Int, source: String, assumed: [String])
        switch (given, known) {
        case let (given?, known?) where given != known.count:
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)' records \(known.count) heads (\(known.source)), but --heads says \(given)",
                fix: "drop --heads; it is only for checkpoints that do not record their head count")
        case let (_, known?): result = (known.count, known.source, [])
        case let (given?, nil): result = (given, "argument", [])
        case (nil, nil):
            guard let size = defaultHeadSize, width % size == 0 else {
                throw EngineError.invalidConfiguration(
                    "checkpoint '\(path)' does not record its head count (\(key))",
                    fix: "put the model's config.json next to the checkpoint, or pass --heads")
            }
            result = (
                width / size, "width/\(size)", ["\(key) = \(width / size) (width / \(size): no config.json beside the file gives it)"]
            )
        }
        guard result.count >= 1, width % result.count == 0 else {
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)': \(result.count) heads do not divide the width \(width)",
                fix: "pass the model's own config.json or --heads")
        }
        return result
    }

    static func mismatch(_ path: String, _ problem: String, architecture: String) -> EngineError {
        EngineError(
            .checkpointMismatch, "checkpoint '\(path)': \(problem)",
            fix: "pass a \(architecture) checkpoint in the Hugging Face layout (model.safetensors) or one written by `model train --out`")
    }
}
