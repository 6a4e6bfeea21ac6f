import ArgumentParser

/// `model`: train, evaluate, sample from and benchmark wattprint's own engine (GPT-2, Llama, mixture of experts, BERT,
/// T5, RNN, LSTM, GRU).
///
/// Holds configuration only; each subcommand lives in its own file as `extension ModelCommand`.
/// No `@main` here: the wattprint executable mounts it.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract:
            "Train, evaluate, sample from and benchmark the built-in engine: GPT-2, Llama, mixture of experts, BERT, T5, RNN, LSTM, GRU.",
        discussion: "Example:\n  wattprint model train Workloads/train/gpt2.json --region FR",
        subcommands: [Info.self, Eval.self, Generate.self, Train.self, Bench.self, Prune.self]
    )

    init() {}
}
