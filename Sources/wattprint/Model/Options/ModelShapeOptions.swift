import ArgumentParser
import Engine

/// A model's architecture and shape as a user gives it: every field optional, filled from flags, then a spec file,
/// then the architecture's defaults. The keys are the flag names, so a workload spec reads the same way.
struct ModelShape: Decodable, Equatable {
    var architecture: Architecture?
    var layers, width, heads, kvHeads, hidden, experts, expertsPerToken: Int?

    /// These fields where set, else `other`'s.
    func over(_ other: ModelShape) -> ModelShape {
        ModelShape(
            architecture: architecture ?? other.architecture, layers: layers ?? other.layers, width: width ?? other.width,
            heads: heads ?? other.heads, kvHeads: kvHeads ?? other.kvHeads, hidden: hidden ?? other.hidden,
            experts: experts ?? other.experts, expertsPerToken: expertsPerToken ?? other.expertsPerToken)
    }

    /// The configuration: `base` for what is unset (its architecture must match the requested one), the defaults of
    /// each field's doc otherwise.
    /// - Throws: `ValidationError` for options that do not apply to the architecture; `EngineError` for a bad shape.
    func configuration(vocabularySize: Int, maxSequence: Int, base: AnyModelConfiguration? = nil) throws -> AnyModelConfiguration {
        let arch = architecture ?? base?.architecture ?? .gpt2
        let gpt2Only = arch == .gpt2
        if gpt2Only,
            let misplaced = [
                ("--kv-heads", kvHeads), ("--hidden", hidden), ("--experts", experts), ("--experts-per-token", expertsPerToken),
            ]
            .first(where: { $0.1 != nil })
        {
            throw ValidationError("\(misplaced.0) applies to --arch llama or moe, not gpt2")
        }
        if arch == .llama, experts != nil || expertsPerToken != nil {
            throw ValidationError("--experts and --experts-per-token apply to --arch moe; llama is dense")
        }
        let config: AnyModelConfiguration
        switch (arch, base) {
        case (.gpt2, .gpt2(var c)?):
            if let layers { c.layers = layers }
            if let width { c.channels = width; c.heads = heads ?? max(1, width / 64) }
            if let heads { c.heads = heads }
            c.vocabularySize = vocabularySize; c.maxSequence = maxSequence
            config = .gpt2(c)
        case (.gpt2, _):
            let w = width ?? 128
            config = .gpt2(
                GPT2Config(
                    layers: layers ?? 4, channels: w, heads: heads ?? max(1, w / 64), vocabularySize: vocabularySize,
                    maxSequence: maxSequence))
        case (.llama, .llama(var c)?),
            (.moe, .llama(var c)?) where base?.architecture == arch:
            let k = expertsPerToken ?? c.expertsPerToken
            if let layers { c.layers = layers }
            if let width { c.channels = width; c.heads = heads ?? max(1, width / 64); c.kvHeads = kvHeads ?? c.heads }
            if let heads { c.heads = heads; c.kvHeads = kvHeads ?? heads }
            if let kvHeads { c.kvHeads = kvHeads }
            if let experts { c.experts = experts }
            c.expertsPerToken = k
            if let hidden {
                c.hidden = hidden
            } else if width != nil || expertsPerToken != nil {
                c.hidden = LlamaConfig.defaultHidden(width: c.channels, expertsPerToken: c.isMixture ? k : 1)
            }
            c.vocabularySize = vocabularySize; c.maxSequence = maxSequence
            config = .llama(c)
        case (.llama, _), (.moe, _):
            let w = width ?? 128, h = heads ?? max(1, w / 64), e = arch == .moe ? experts ?? 8 : 0, k = expertsPerToken ?? 2
            config = .llama(
                LlamaConfig(
                    layers: layers ?? 4, channels: w, heads: h, kvHeads: kvHeads ?? h,
                    hidden: hidden ?? LlamaConfig.defaultHidden(width: w, expertsPerToken: e > 0 ? k : 1), vocabularySize: vocabularySize,
                    maxSequence: maxSequence, experts: e, expertsPerToken: k))
        }
        if arch == .moe, case let .llama(c) = config, !c.isMixture {
            throw ValidationError("--arch moe needs --experts of at least 1 (e.g. --experts 8)")
        }
        try config.configuration.validate()
        return config
    }
}

/// `--arch` and the shape flags of `model train` and `model bench`.
struct ModelShapeOptions: ParsableArguments {
    @Option(name: .customLong("arch"), help: "Architecture: \(Architecture.list) (default gpt2, or the preset's).")
    var architecture: Architecture?
    @Option(help: "Transformer blocks.") var layers: Int?
    @Option(help: "Channels (the residual stream's width).") var width: Int?
    @Option(help: "Attention heads (default width/64).") var heads: Int?
    @Option(help: "Key/value heads, dividing --heads (llama, moe; default --heads: multi-head attention).") var kvHeads: Int?
    @Option(help: "SwiGLU MLP (or expert) width (llama, moe; default 8/3 × width, ÷ experts per token for moe).") var hidden: Int?
    @Option(help: "Experts per MLP (moe; default 8).") var experts: Int?
    @Option(help: "Experts each token is routed to (moe; default 2).") var expertsPerToken: Int?

    var shape: ModelShape {
        ModelShape(
            architecture: architecture, layers: layers, width: width, heads: heads, kvHeads: kvHeads, hidden: hidden,
            experts: experts, expertsPerToken: expertsPerToken)
    }

    func validate() throws {
        for (flag, value) in [
            ("--layers", layers), ("--width", width), ("--heads", heads), ("--kv-heads", kvHeads), ("--hidden", hidden),
            ("--experts", experts), ("--experts-per-token", expertsPerToken),
        ] {
            if let value, value < 1 { throw ValidationError("\(flag) must be at least 1 (got \(value))") }
        }
    }
}
