import ArgumentParser
import Engine

/// `--arch` and the shape flags of `model train` and `model bench`.
struct ModelShapeOptions: ParsableArguments {
    @Option(name: .customLong("arch"), help: "Architecture: \(Architecture.list) (default gpt2; for bench, the preset's).")
    var architecture: Architecture?
    @Option(help: "Layers: transformer blocks, or stacked recurrent cells (T5: each stack).") var layers: Int?
    @Option(help: "Channels (the residual stream's width).") var width: Int?
    @Option(help: "Attention heads (default width/64).") var heads: Int?
    @Option(help: "Key/value heads, dividing --heads (llama, moe; default --heads: multi-head attention).") var kvHeads: Int?
    @Option(
        help:
            "Feed-forward width: llama and moe SwiGLU (default 8/3 × width, ÷ experts per token for moe, rounded up to 16), bert (default 4 × width), t5 gated-GELU (default as llama); the hidden state of rnn, lstm, gru (default --width)."
    ) var hidden: Int?
    @Option(help: "Experts per MLP (moe; default 8).") var experts: Int?
    @Option(help: "Experts each token is routed to (moe; default 2).") var expertsPerToken: Int?
    @Option(
        help:
            "Bottleneck of an autoencoder (ae, vae; default 32) or the GAN's noise width (default 16). For ae, vae and gan --width is the embedding (data) width, --hidden the MLPs' and --context the window."
    )
    var latent: Int?
    @Option(
        help:
            "Head size when it is not width ÷ heads (gpt2, llama, moe): the shape of a model whose heads were pruned, e.g. --heads 6 --head-size 64 for GPT-2 small at half its heads."
    )
    var headSize: Int?

    var shape: ModelShape {
        ModelShape(
            architecture: architecture, layers: layers, width: width, heads: heads, kvHeads: kvHeads, hidden: hidden,
            experts: experts, expertsPerToken: expertsPerToken, latent: latent, headSize: headSize)
    }

    func validate() throws {
        for (flag, value) in [
            ("--layers", layers), ("--width", width), ("--heads", heads), ("--kv-heads", kvHeads), ("--hidden", hidden),
            ("--experts", experts), ("--experts-per-token", expertsPerToken), ("--latent", latent), ("--head-size", headSize),
        ] {
            if let value, value < 1 { throw ValidationError("\(flag) must be at least 1 (got \(value))") }
        }
    }
}
