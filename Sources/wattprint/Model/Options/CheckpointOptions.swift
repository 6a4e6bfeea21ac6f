import ArgumentParser
import Engine

/// The checkpoint a model command reads, and what to assume where it records too little.
struct CheckpointOptions: ParsableArguments {
    @Argument(help: "Checkpoint (.safetensors, Hugging Face layout).")
    var checkpoint: String

    @Option(help: "Attention heads, for checkpoints that do not record them (default: metadata, config.json, or width/64).")
    var heads: Int?

    /// The model and what its file said.
    /// - Throws: `EngineError` for a file that is not a checkpoint of a known architecture.
    func load() throws -> (GPT2, CheckpointInfo) { try GPT2.load(path: checkpoint, heads: heads) }
}
