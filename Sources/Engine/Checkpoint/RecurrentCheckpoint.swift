import Foundation

/// Recurrent language models in PyTorch's state-dict layout: `embedding.weight` [V, E], `rnn.weight_ih_l{k}`
/// [G·H, in], `rnn.weight_hh_l{k}` [G·H, H], `rnn.bias_ih_l{k}`, `rnn.bias_hh_l{k}` [G·H], `decoder.weight` [V, H],
/// `decoder.bias` [V] (what `torch.save`/`safetensors` write for an `nn.Embedding` + `nn.RNN|LSTM|GRU` + `nn.Linear`).
///
/// Shapes give layers, widths and vocabulary; the cell comes from the metadata, else `model_type` in a `config.json`
/// beside the file (rnn, lstm, gru; `nonlinearity` must be tanh), else the gate count (G = 1, 4, 3 is unambiguous).
/// The context the engine allocates for comes from the metadata, else 1024 (listed as assumed).
extension RecurrentLanguageModel {
    static func load(file: SafeTensorsFile) throws -> (model: RecurrentLanguageModel, info: CheckpointInfo) {
        let path = file.path
        func mismatch(_ problem: String) -> EngineError {
            EngineError(
                .checkpointMismatch, "checkpoint '\(path)': \(problem)",
                fix:
                    "pass an RNN, LSTM or GRU language model in PyTorch's state-dict layout (embedding, rnn, decoder) or one written by `model train --out`"
            )
        }
        func entry(_ name: String) throws -> SafeTensorsEntry {
            guard let entry = file.entries[name] else { throw mismatch("tensor '\(name)' is missing") }
            return entry
        }
        let embedding = try entry("embedding.weight"), inputWeight = try entry("rnn.weight_ih_l0"),
            recurrent = try entry("rnn.weight_hh_l0")
        guard embedding.shape.count == 2, inputWeight.shape.count == 2, recurrent.shape.count == 2 else {
            throw mismatch("embedding.weight, rnn.weight_ih_l0 and rnn.weight_hh_l0 must be matrices")
        }
        let H = recurrent.shape[1], V = embedding.shape[0], E = embedding.shape[1]
        var layers = 0
        while file.entries["rnn.weight_ih_l\(layers)"] != nil { layers += 1 }
        var assumed: [String] = []
        let recorded: RecurrentConfig?
        switch try Checkpoint.recordedConfiguration(file) {
        case let .recurrent(config): recorded = config
        case let other?: throw mismatch("its metadata describes a \(other.architecture.rawValue) model")
        case nil: recorded = nil
        }
        let sibling = recorded == nil ? Checkpoint.huggingFaceConfig(besides: path) : nil
        let cell: RecurrentCellKind
        if let recorded {
            cell = recorded.cell
        } else if let type = sibling?["model_type"] as? String {
            guard let named = RecurrentCellKind(rawValue: type) else {
                throw EngineError.invalidConfiguration(
                    "checkpoint '\(path)': config.json says model_type \(type), not rnn, lstm or gru",
                    fix: "put the recurrent model's config.json beside it")
            }
            cell = named
        } else {
            guard let byGates = RecurrentCellKind.allCases.first(where: { $0.gates * H == recurrent.shape[0] }) else {
                throw mismatch("rnn.weight_hh_l0 has \(recurrent.shape[0]) rows, not 1, 4 or 3 × the hidden width \(H)")
            }
            cell = byGates
            assumed.append("cell \(cell.rawValue) (from the gate count: no config.json beside the file)")
        }
        for (key, refused) in [
            ("bidirectional", (sibling?["bidirectional"] as? Bool) == true),
            ("proj_size", ((sibling?["proj_size"] as? NSNumber)?.intValue ?? 0) > 0), ("bias", (sibling?["bias"] as? Bool) == false),
        ]
        where refused {
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)': config.json asks for \(key == "bias" ? "cells without biases" : key), which the engine does not implement",
                fix: "use a one-directional model with biases and no projection (PyTorch's defaults)")
        }
        if let nonlinearity = sibling?["nonlinearity"] as? String, nonlinearity != "tanh" {
            throw EngineError.invalidConfiguration(
                "checkpoint '\(path)': config.json asks for nonlinearity \(nonlinearity), which the engine does not implement",
                fix: "use an RNN with tanh (PyTorch's default)")
        }
        if let json = sibling {
            for (key, value) in [("vocab_size", V), ("embedding_size", E), ("hidden_size", H), ("num_layers", layers)] {
                if let said = (json[key] as? NSNumber)?.intValue, said != value {
                    throw mismatch("config.json says \(key) \(said), but the tensors hold \(value)")
                }
            }
        }
        let context = recorded?.maxSequence ?? 1024
        if recorded == nil { assumed.append("context 1024 (the engine's allocation; the state itself has no limit)") }
        let config = RecurrentConfig(cell: cell, layers: layers, embedding: E, hidden: H, vocabularySize: V, maxSequence: context)
        try config.validate()
        let buffer = TensorBuffer(layout: TensorLayout(config.parameterSpecs))
        for (i, spec) in buffer.layout.specs.enumerated() {
            let shape = spec.name == "decoder.weight" ? [V, H] : spec.name == "decoder.bias" ? [V] : spec.shape
            let found = try entry(spec.name)
            guard found.shape == shape else {
                throw mismatch("tensor '\(spec.name)' has shape \(found.shape) but \(config.summary) needs \(shape)")
            }
            try Checkpoint.read(file, spec.name, shape: shape, into: buffer.view(i))
        }
        let expected = Set(buffer.layout.specs.map(\.name))
        if let extra = file.entries.keys.filter({ !expected.contains($0) }).sorted().first {
            throw mismatch("unexpected tensor '\(extra)' for \(config.summary)")
        }
        return (
            try RecurrentLanguageModel(config: config, parameters: buffer),
            CheckpointInfo(
                config: .recurrent(config), tokenizer: file.metadata[Checkpoint.tokenizerKey], headsSource: "none", assumed: assumed)
        )
    }

    /// Writes this model in PyTorch's state-dict layout (output projection cut to the vocabulary) with the engine's metadata.
    /// - Throws: `fileUnwritable`.
    public func save(path: String, tokenizer: String, metadata: [String: String]) throws {
        try Checkpoint.write(
            path: path, parameters: parameters, config: .recurrent(config), tokenizer: tokenizer,
            vocabularyRows: ["decoder.weight", "decoder.bias"], metadata: metadata)
    }
}
