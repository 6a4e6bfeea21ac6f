/// A configuration of any architecture, written with its architecture tag so a record (a benchmark's options, a
/// checkpoint's metadata) says which model it describes: `{"architecture": "llama", "layers": 12, …}`. Records from
/// before architectures were tagged are GPT-2's.
public enum AnyModelConfiguration: Codable, Sendable, Equatable {
    case gpt2(GPT2Config)
    case llama(LlamaConfig)
    case bert(BERTConfig)
    case t5(T5Config)
    case recurrent(RecurrentConfig)
    case autoencoder(AutoencoderConfig)
    case gan(GANConfig)

    public var configuration: any ModelConfiguration {
        switch self {
        case let .gpt2(c): return c
        case let .llama(c): return c
        case let .bert(c): return c
        case let .t5(c): return c
        case let .recurrent(c): return c
        case let .autoencoder(c): return c
        case let .gan(c): return c
        }
    }

    public var architecture: Architecture { configuration.architecture }

    /// Whether the model is two networks trained against each other (`makeAdversarialModel`), not one (`makeModel`).
    public var isAdversarial: Bool { if case .gan = self { return true } else { return false } }

    /// A freshly initialised GAN. - Throws: `invalidConfiguration` for an invalid shape or another architecture.
    public func makeAdversarialModel(seed: UInt64) throws -> any AdversarialModel {
        guard case let .gan(c) = self else {
            throw EngineError.invalidConfiguration("\(architecture.rawValue) is one network, not a GAN", fix: "build it with makeModel")
        }
        return try GAN(config: c, seed: seed)
    }

    /// A freshly initialised model of this configuration.
    /// - Throws: `invalidConfiguration` for an invalid shape, or a GAN (two networks: `makeAdversarialModel`).
    public func makeModel(seed: UInt64) throws -> any TrainableModel {
        switch self {
        case let .gpt2(c): return try GPT2(config: c, seed: seed)
        case let .llama(c): return try Llama(config: c, seed: seed)
        case let .bert(c): return try BERT(config: c, seed: seed)
        case let .t5(c): return try T5(config: c, seed: seed)
        case let .recurrent(c): return try RecurrentLanguageModel(config: c, seed: seed)
        case let .autoencoder(c): return try Autoencoder(config: c, seed: seed)
        case .gan:
            throw EngineError.invalidConfiguration(
                "a GAN is two networks with an optimizer each, not one trainable model", fix: "build it with makeAdversarialModel")
        }
    }

    enum TagKey: String, CodingKey { case architecture }

    public init(from decoder: Decoder) throws {
        let tag = try decoder.container(keyedBy: TagKey.self).decodeIfPresent(Architecture.self, forKey: .architecture) ?? .gpt2
        switch tag {
        case .gpt2: self = .gpt2(try GPT2Config(from: decoder))
        case .llama, .moe: self = .llama(try LlamaConfig(from: decoder))
        case .bert: self = .bert(try BERTConfig(from: decoder))
        case .t5: self = .t5(try T5Config(from: decoder))
        case .rnn, .lstm, .gru: self = .recurrent(try RecurrentConfig(from: decoder))
        case .ae, .vae: self = .autoencoder(try AutoencoderConfig(from: decoder))
        case .gan: self = .gan(try GANConfig(from: decoder))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var tag = encoder.container(keyedBy: TagKey.self)
        try tag.encode(architecture, forKey: .architecture)
        switch self {
        case let .gpt2(c): try c.encode(to: encoder)
        case let .llama(c): try c.encode(to: encoder)
        case let .bert(c): try c.encode(to: encoder)
        case let .t5(c): try c.encode(to: encoder)
        case let .recurrent(c): try c.encode(to: encoder)
        case let .autoencoder(c): try c.encode(to: encoder)
        case let .gan(c): try c.encode(to: encoder)
        }
    }
}
