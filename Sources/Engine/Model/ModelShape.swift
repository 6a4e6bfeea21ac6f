/// A model's architecture and shape as a user gives it: every field optional, filled from flags, then a spec file,
/// then the architecture's defaults. The keys are the flag names, so a workload spec reads the same way.
public struct ModelShape: Codable, Sendable, Equatable {
    public var architecture: Architecture?
    public var layers, width, heads, kvHeads, hidden, experts, expertsPerToken: Int?
    /// An autoencoder's latent width.
    public var latent: Int?
    /// Head size when it is not width ÷ heads (GPT-2, Llama, mixture): the shape of a model whose heads were pruned.
    public var headSize: Int?

    public init(
        architecture: Architecture? = nil, layers: Int? = nil, width: Int? = nil, heads: Int? = nil, kvHeads: Int? = nil,
        hidden: Int? = nil, experts: Int? = nil, expertsPerToken: Int? = nil, latent: Int? = nil, headSize: Int? = nil
    ) {
        self.architecture = architecture; self.layers = layers; self.width = width; self.heads = heads; self.kvHeads = kvHeads
        self.hidden = hidden; self.experts = experts; self.expertsPerToken = expertsPerToken; self.latent = latent
        self.headSize = headSize
    }

    /// These fields where set, else `other`'s.
    public func over(_ other: ModelShape) -> ModelShape {
        ModelShape(
            architecture: architecture ?? other.architecture, layers: layers ?? other.layers, width: width ?? other.width,
            heads: heads ?? other.heads, kvHeads: kvHeads ?? other.kvHeads, hidden: hidden ?? other.hidden,
            experts: experts ?? other.experts, expertsPerToken: expertsPerToken ?? other.expertsPerToken, latent: latent ?? other.latent,
            headSize: headSize ?? other.headSize)
    }

    /// The configuration: `base` for what is unset (its architecture must match the requested one), the defaults of
    /// each field's doc otherwise.
    /// Defaults: 4 layers × 128; heads width/64; KV heads = heads; hidden `LlamaConfig.defaultHidden` (Llama, T5) or 4 ×
    /// width (BERT); 8 experts, 2 per token. A BERT or T5 trained from scratch appends its special tokens to the
    /// tokenizer's `vocabularySize` ids ([PAD], [MASK]; [pad], [eos] and 100 sentinels).
    /// - Throws: `EngineError.invalidConfiguration` for fields that do not apply to the architecture or a bad shape.
    public func configuration(vocabularySize: Int, maxSequence: Int, base: AnyModelConfiguration? = nil) throws -> AnyModelConfiguration {
        let arch = architecture ?? base?.architecture ?? .gpt2
        // Named by flag and spec key, since the shape comes from either (flags override the spec).
        if ![.llama, .moe].contains(arch), kvHeads != nil {
            throw EngineError.invalidConfiguration(
                "--kv-heads (kvHeads) applies to --arch llama or moe, not \(arch.rawValue)", fix: "drop it, or choose --arch llama or moe")
        }
        if arch != .moe,
            let misplaced = [("--experts (experts)", experts), ("--experts-per-token (expertsPerToken)", expertsPerToken)]
                .first(where: { $0.1 != nil })
        {
            throw EngineError.invalidConfiguration(
                "\(misplaced.0) applies to --arch moe, not \(arch.rawValue)", fix: "drop it, or choose --arch moe")
        }
        var config: AnyModelConfiguration
        switch (arch, base) {
        case (.gpt2, .gpt2(var c)?):
            if let layers { c.layers = layers }
            if let width { c.channels = width; c.heads = heads ?? max(1, width / 64) }
            if let heads { c.heads = heads }
            // A new width or head count reshapes the attention: a pruned base's head size no longer applies.
            if width != nil || heads != nil { c.headDimension = nil }
            if let hidden { c.hidden = hidden == 4 * c.channels ? nil : hidden }
            c.vocabularySize = vocabularySize; c.maxSequence = maxSequence
            config = .gpt2(c)
        case (.gpt2, _):
            let w = width ?? 128
            config = .gpt2(
                GPT2Config(
                    layers: layers ?? 4, channels: w, heads: heads ?? max(1, w / 64), vocabularySize: vocabularySize,
                    maxSequence: maxSequence, hidden: hidden.flatMap { $0 == 4 * w ? nil : $0 }))
        case (.llama, .llama(var c)?) where !c.isMixture, (.moe, .llama(var c)?) where c.isMixture:
            let k = expertsPerToken ?? c.expertsPerToken
            if let layers { c.layers = layers }
            if let width { c.channels = width; c.heads = heads ?? max(1, width / 64); c.kvHeads = kvHeads ?? c.heads }
            if let heads { c.heads = heads; c.kvHeads = kvHeads ?? heads }
            // A new width or head count reshapes the attention: a pruned base's head size no longer applies.
            if width != nil || heads != nil { c.headDimension = nil }
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
        case (.bert, .bert(var c)?):
            if let layers { c.layers = layers }
            if let width { c.channels = width; c.heads = heads ?? max(1, width / 64); c.hidden = hidden ?? 4 * width }
            if let heads { c.heads = heads }
            if let hidden { c.hidden = hidden }
            c.vocabularySize = vocabularySize; c.maxSequence = maxSequence
            config = .bert(c)
        case (.bert, _):
            // Trained from scratch: [PAD] and [MASK] follow the tokenizer's ids.
            let w = width ?? 128, special = BERTConfig.specialTokens(after: vocabularySize)
            config = .bert(
                BERTConfig(
                    layers: layers ?? 4, channels: w, heads: heads ?? max(1, w / 64), hidden: hidden ?? 4 * w,
                    vocabularySize: special.vocabulary, maxSequence: maxSequence, padTokenID: special.pad, maskTokenID: special.mask))
        case (.t5, .t5(var c)?):
            if let layers { c.layers = layers; c.decoderLayers = layers }
            if let width { c.channels = width; c.hidden = hidden ?? LlamaConfig.defaultHidden(width: width) }
            if width != nil || heads != nil {
                c.heads = heads ?? max(1, c.channels / 64)
                guard c.channels % c.heads == 0 else {
                    throw EngineError.invalidConfiguration(
                        "width \(c.channels) is not divisible by heads \(c.heads) (the head size d_kv is width ÷ heads)",
                        fix: ModelShape.headsFix(width: c.channels))
                }
                c.headSize = c.channels / c.heads
            }
            if let hidden { c.hidden = hidden }
            // Another vocabulary's sentinels are its last ids.
            if vocabularySize != c.vocabularySize { c.firstSentinel = nil }
            c.vocabularySize = vocabularySize; c.maxSequence = maxSequence
            config = .t5(c)
        case (.t5, _):
            // Trained from scratch: [pad], [eos] and 100 sentinels follow the tokenizer's ids.
            let w = width ?? 128, h = heads ?? max(1, w / 64), special = T5Config.specialTokens(after: vocabularySize)
            guard w % h == 0 else {
                throw EngineError.invalidConfiguration(
                    "width \(w) is not divisible by heads \(h) (the head size d_kv is width ÷ heads)",
                    fix: ModelShape.headsFix(width: w))
            }
            config = .t5(
                T5Config(
                    layers: layers ?? 4, channels: w, heads: h, headSize: w / h, hidden: hidden ?? LlamaConfig.defaultHidden(width: w),
                    vocabularySize: special.vocabulary, maxSequence: maxSequence, padTokenID: special.pad,
                    endOfSequenceTokenID: special.eos, decoderStartTokenID: special.pad))
        case (.rnn, _), (.lstm, _), (.gru, _):
            if let heads {
                throw EngineError.invalidConfiguration(
                    "--heads (heads) \(heads) applies to attention models, not \(arch.rawValue)",
                    fix: "drop it; --width sets the hidden and embedding widths, --hidden the hidden width alone")
            }
            let cell = RecurrentCellKind(rawValue: arch.rawValue)!
            if case var .recurrent(c)? = base, c.cell == cell {
                if let layers { c.layers = layers }
                if let width { c.hidden = width; c.embedding = width }
                if let hidden { c.hidden = hidden }
                c.vocabularySize = vocabularySize; c.maxSequence = maxSequence
                config = .recurrent(c)
            } else {
                let w = width ?? 128
                config = .recurrent(
                    RecurrentConfig(
                        cell: cell, layers: layers ?? 2, embedding: w, hidden: hidden ?? w, vocabularySize: vocabularySize,
                        // The state has no limit; generation may run to 1024 tokens (or a longer --context).
                        maxSequence: max(maxSequence, 1024)))
            }
        case (.ae, _), (.vae, _):
            if let misplaced = [("--layers", layers), ("--heads", heads)].first(where: { $0.1 != nil }) {
                throw EngineError.invalidConfiguration(
                    "\(misplaced.0) does not apply to \(arch.rawValue) (one hidden layer each side, no attention)",
                    fix: "drop it; --width sets the embedding, --hidden the MLP, --latent the bottleneck, --context the window")
            }
            var c = AutoencoderConfig(
                variational: arch == .vae, window: maxSequence, embedding: width ?? 16, hidden: hidden ?? 256, latent: latent ?? 32,
                vocabularySize: vocabularySize)
            if case let .autoencoder(b)? = base, b.variational == (arch == .vae) {
                c = AutoencoderConfig(
                    variational: b.variational, window: maxSequence, embedding: width ?? b.embedding, hidden: hidden ?? b.hidden,
                    latent: latent ?? b.latent, vocabularySize: vocabularySize)
            }
            config = .autoencoder(c)
        case (.gan, _):
            if let misplaced = [("--layers", layers), ("--heads", heads)].first(where: { $0.1 != nil }) {
                throw EngineError.invalidConfiguration(
                    "\(misplaced.0) does not apply to gan (one hidden layer per network, no attention)",
                    fix: "drop it; --width sets the data vectors' width, --latent the noise, --hidden the MLPs, --context the window")
            }
            var c = GANConfig(
                dimension: width ?? 16, noise: latent ?? 16, hidden: hidden ?? 128, window: maxSequence, vocabularySize: vocabularySize)
            if case let .gan(b)? = base {
                c = GANConfig(
                    dimension: width ?? b.dimension, noise: latent ?? b.noise, hidden: hidden ?? b.hidden, window: maxSequence,
                    vocabularySize: vocabularySize, embeddingSeed: b.embeddingSeed)
            }
            config = .gan(c)
        }
        if ![.ae, .vae, .gan].contains(arch), latent != nil {
            throw EngineError.invalidConfiguration("--latent applies to --arch ae, vae or gan, not \(arch.rawValue)", fix: "drop it")
        }
        if arch == .moe, case let .llama(c) = config, !c.isMixture {
            throw EngineError.invalidConfiguration("--arch moe needs at least 1 expert", fix: "pass e.g. --experts 8")
        }
        if let headSize {
            // The head size stays width ÷ heads unless set otherwise (a pruned model's shape).
            func given(_ channels: Int, _ heads: Int) -> Int? { channels % heads == 0 && headSize == channels / heads ? nil : headSize }
            switch config {
            case var .gpt2(c): c.headDimension = given(c.channels, c.heads); config = .gpt2(c)
            case var .llama(c): c.headDimension = given(c.channels, c.heads); config = .llama(c)
            default:
                throw EngineError.invalidConfiguration(
                    "--head-size (headSize) applies to --arch gpt2, llama or moe, not \(arch.rawValue)", fix: "drop it")
            }
        }
        try config.configuration.validate()
        return config
    }
}

extension ModelShape {
    /// The fix for attention heads that do not divide the width: the counts up to 16 that do, and width ÷ 64 first when
    /// that divides it too (GPT-2's and Llama's 64-wide heads).
    static func headsFix(width: Int) -> String {
        let divisors = (1...max(1, min(width, 16))).filter { width % $0 == 0 }.map(String.init)
        let list = divisors.count > 1 ? divisors.dropLast().joined(separator: ", ") + " or " + divisors.last! : divisors.joined()
        let wide = width >= 64 && width % 64 == 0 ? "\(width / 64) (64-wide heads, as GPT-2's), or " : ""
        return "choose heads that divide the width \(width): \(wide)\(list)"
    }
}
