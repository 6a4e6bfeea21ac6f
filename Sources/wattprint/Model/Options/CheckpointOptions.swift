import ArgumentParser
import Engine

/// The checkpoint a model command reads, the architecture it must hold, and what to assume where it records too little.
struct CheckpointOptions: ParsableArguments {
    @Argument(
        help:
            "Checkpoint (.safetensors: Hugging Face layouts for GPT-2, Llama, Mixtral, BERT and T5, PyTorch's for RNN/LSTM/GRU, or one the engine wrote)."
    )
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
                fix:
                    "its evaluations (both losses and the MMD²) are in the ledger events of the run that trained it (`wattprint show N --json`)"
            )
        }
        return (trainable, info)
    }

    /// The model as a decoder, or an error naming what an encoder-only model can do instead.
    func loadDecoder() throws -> (model: any DecodingModel, info: CheckpointInfo) {
        let (model, info) = try load()
        guard let decoder = model as? any DecodingModel else {
            let architecture = info.config.architecture
            switch architecture {
            case .bert:
                throw ModelCommandError(
                    "checkpoint '\(checkpoint)' holds a bert encoder, which does not generate text",
                    fix: "use `wattprint model eval` for its masked-token loss and accuracy, or `model bench --phase encode`")
            case .gan:
                throw ModelCommandError(
                    "checkpoint '\(checkpoint)' holds a GAN, which generates vectors, not text",
                    fix: "its quality is the MMD² its training run recorded (`wattprint show N --json`)")
            default:
                throw ModelCommandError(
                    "checkpoint '\(checkpoint)' holds an \(architecture.rawValue), which reconstructs windows rather than generating text",
                    fix: "use `wattprint model eval` for its reconstruction loss\(architecture == .vae ? " and ELBO" : "")")
            }
        }
        return (decoder, info)
    }
}
