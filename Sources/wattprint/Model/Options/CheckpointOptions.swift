import ArgumentParser
import Engine

/// The checkpoint a model command reads, the architecture it must hold, and what to assume where it records too little.
struct CheckpointOptions: ParsableArguments {
    @Argument(help: "Checkpoint (.safetensors, Hugging Face layout: GPT-2, Llama, Mixtral, BERT or T5).")
    var checkpoint: String

    @Option(name: .customLong("arch"), help: "Architecture the checkpoint must hold: \(Architecture.list) (default: whatever it holds).")
    var architecture: Architecture?

    @Option(help: "Attention heads, for checkpoints that do not record them (default: metadata, config.json, or width/64 for GPT-2).")
    var heads: Int?

    /// The model and what its file said.
    /// - Throws: `EngineError` for a file that is not a checkpoint of a known architecture; `ModelCommandError` when it
    ///   holds another architecture than `--arch`.
    func load() throws -> (model: any ConfiguredModel, info: CheckpointInfo) {
        let (model, info) = try Checkpoint.load(path: checkpoint, heads: heads)
        if let architecture, info.config.architecture != architecture {
            throw ModelCommandError(
                "checkpoint '\(checkpoint)' holds a \(info.config.architecture.rawValue) model, not --arch \(architecture.rawValue)",
                fix: "pass --arch \(info.config.architecture.rawValue), or the checkpoint of the \(architecture.rawValue) model")
        }
        return (model, info)
    }

    /// The model as one trainable network, or an error for a GAN (evaluated by its training runs' MMD).
    func loadTrainable() throws -> (model: any TrainableModel, info: CheckpointInfo) {
        let (model, info) = try load()
        guard let trainable = model as? any TrainableModel else {
            throw ModelCommandError(
                "checkpoint '\(checkpoint)' holds a \(info.config.architecture.rawValue): two networks without a loss on text to evaluate",
                fix: "read its evaluations (losses and MMD) in `wattprint show` of the run that trained it")
        }
        return (trainable, info)
    }

    /// The model as a decoder, or an error naming what an encoder-only model can do instead.
    func loadDecoder() throws -> (model: any DecodingModel, info: CheckpointInfo) {
        let (model, info) = try load()
        guard let decoder = model as? any DecodingModel else {
            throw ModelCommandError(
                "checkpoint '\(checkpoint)' holds a \(info.config.architecture.rawValue) encoder, which does not generate text",
                fix: "use `wattprint model eval` for its masked-token loss and accuracy, or `model bench --phase encode`")
        }
        return (decoder, info)
    }
}
