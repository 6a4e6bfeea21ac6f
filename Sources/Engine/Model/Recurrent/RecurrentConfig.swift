/// Shape of a recurrent language model: an embedding, stacked cells of one kind (PyTorch's `nn.RNN` with tanh,
/// `nn.LSTM`, `nn.GRU`) and an output projection to the vocabulary.
///
/// The parameter table uses PyTorch's names and layouts (`embedding.weight` [V, E], `rnn.weight_ih_l{k}` [G·H, in],
/// `rnn.weight_hh_l{k}` [G·H, H], `rnn.bias_ih_l{k}`, `rnn.bias_hh_l{k}` [G·H], `decoder.weight` [V, H],
/// `decoder.bias` [V]), gates in PyTorch's order (LSTM i, f, g, o; GRU r, z, n).
///
/// FLOPs (see `ModelConfiguration`), per token: per layer 2·G·H·in (input projection) + 2·G·H·H (recurrence); the
/// output projection 2·V·H per row with logits. A recurrent model has no attention, so the context does not enter.
public struct RecurrentConfig: ModelConfiguration, Hashable {
    public var cell: RecurrentCellKind
    public var layers: Int
    /// Embedding width E (the first layer's input).
    public var embedding: Int
    /// Hidden width H.
    public var hidden: Int
    public var vocabularySize: Int
    /// Longest training window or prompt + output the engine allocates for (the state itself has no limit).
    public var maxSequence: Int

    public init(cell: RecurrentCellKind, layers: Int, embedding: Int, hidden: Int, vocabularySize: Int, maxSequence: Int) {
        self.cell = cell; self.layers = layers; self.embedding = embedding; self.hidden = hidden
        self.vocabularySize = vocabularySize; self.maxSequence = maxSequence
    }

    /// The benchmark's LSTM: 2 layers of 1024 over 1024-wide byte embeddings (≈ 17 M parameters).
    public static let lstm1024 = RecurrentConfig(
        cell: .lstm, layers: 2, embedding: 1024, hidden: 1024, vocabularySize: 256, maxSequence: 1024)

    public var architecture: Architecture {
        switch cell {
        case .rnn: return .rnn
        case .lstm: return .lstm
        case .gru: return .gru
        }
    }

    public var channels: Int { hidden }
    public var gateWidth: Int { cell.gates * hidden }
    public var paddedVocabularySize: Int { (vocabularySize + 63) / 64 * 64 }

    /// Input width of layer k.
    public func inputWidth(layer k: Int) -> Int { k == 0 ? embedding : hidden }

    /// Names the flag and the PyTorch key of each bad field.
    public func validate() throws {
        if layers < 1 || embedding < 1 || hidden < 1 || vocabularySize < 1 || maxSequence < 1 {
            throw EngineError.invalidConfiguration(
                "model shape has a non-positive field (layers \(layers), embedding \(embedding), hidden \(hidden), vocab \(vocabularySize), context \(maxSequence))",
                fix: "use positive values, e.g. --layers 2 --width 256 (the hidden width; --embedding defaults to it)")
        }
        if vocabularySize > Int(Int32.max) {
            throw EngineError.invalidConfiguration("vocabulary \(vocabularySize) exceeds Int32 token ids", fix: "use a smaller vocabulary")
        }
    }

    /// Weights decay under AdamW, biases do not.
    public var parameterSpecs: [TensorSpec] {
        var specs = [TensorSpec(name: "embedding.weight", shape: [vocabularySize, embedding], decays: true)]
        for k in 0..<layers {
            specs += [
                TensorSpec(name: "rnn.weight_ih_l\(k)", shape: [gateWidth, inputWidth(layer: k)], decays: true),
                TensorSpec(name: "rnn.weight_hh_l\(k)", shape: [gateWidth, hidden], decays: true),
                TensorSpec(name: "rnn.bias_ih_l\(k)", shape: [gateWidth], decays: false),
                TensorSpec(name: "rnn.bias_hh_l\(k)", shape: [gateWidth], decays: false),
            ]
        }
        specs += [
            TensorSpec(name: "decoder.weight", shape: [paddedVocabularySize, hidden], decays: true),
            TensorSpec(name: "decoder.bias", shape: [paddedVocabularySize], decays: false),
        ]
        return specs
    }

    public var parameterCount: Int { parameterSpecs.reduce(0) { $0 + $1.count } - (paddedVocabularySize - vocabularySize) * (hidden + 1) }
    public var activeParameterCount: Int { parameterCount }
    /// No cache grows with the context: the state is fixed-size.
    public var cacheFloatsPerPosition: Int { 0 }
    /// Every matrix and bias, one embedding row, the padded output projection.
    public var decodeWeightFloats: Int { parameterSpecs.reduce(0) { $0 + $1.count } - (vocabularySize - 1) * embedding }
    public var expertWeightFloats: Int { 0 }
    public var routedExpertsPerToken: Int { 0 }

    public func forwardFLOPs(tokens: Int, attentionContext: Int, logitRows: Int) -> Double {
        let G = Double(cell.gates), H = Double(hidden)
        let perToken = (0..<layers).reduce(0.0) { $0 + 2 * G * H * Double(inputWidth(layer: $1)) + 2 * G * H * H }
        return Double(tokens) * perToken + Double(logitRows) * 2 * Double(vocabularySize) * H
    }

    public var flopFormula: String {
        "forward/token = Σ_layers (2·G·H·in + 2·G·H·H) + 2·V·H (G = \(cell.gates) gates); training = 3×forward"
    }

    public var summary: String {
        "\(cell.rawValue.uppercased()), \(layers) layers × \(hidden), embedding \(embedding), vocab \(vocabularySize), context \(maxSequence)"
    }

    /// The recurrent state per sequence: h (and c for LSTM) per layer.
    public var stateFloats: Int { layers * hidden * (cell == .lstm ? 2 : 1) }
}
