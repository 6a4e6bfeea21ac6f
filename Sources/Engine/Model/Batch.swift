/// One training or evaluation batch, in the shapes the architectures learn from. A model takes the kinds its
/// objective uses and refuses the others by name.
public enum Batch: Sendable {
    /// Next-token prediction: `inputs` and `targets` are B·T ids, row-major [B, T]; targets are the inputs shifted by one.
    case nextToken(inputs: [Int32], targets: [Int32], B: Int, T: Int)
    /// Masked-token prediction: `targets` holds the original id where a token was masked and −1 elsewhere; `padding`
    /// is 1 at pad positions; `segments` the segment (token type) of each position, nil for all 0 (B·T each).
    case maskedTokens(inputs: [Int32], targets: [Int32], padding: [UInt8], segments: [Int32]? = nil, B: Int, T: Int)
    /// Sequence to sequence: encoder `source` [B, S] with `sourcePadding` (1 at pad positions, nil for none), decoder
    /// `inputs` and `targets` [B, T] (a target of −1 is not scored).
    case sequenceToSequence(source: [Int32], sourcePadding: [UInt8]? = nil, inputs: [Int32], targets: [Int32], B: Int, S: Int, T: Int)
    /// Windows of T tokens to reconstruct (an autoencoder's input and target at once), [B, T].
    case reconstruction(tokens: [Int32], B: Int, T: Int)
    /// Continuous vectors: B rows of D values, and their targets where the objective has them.
    case vectors(inputs: [Float], targets: [Float]?, B: Int, D: Int)

    /// Positions (or rows) whose loss the batch averages, for throughput.
    public var tokens: Int {
        switch self {
        case let .nextToken(_, _, B, T), let .maskedTokens(_, _, _, _, B, T): return B * T
        case let .sequenceToSequence(_, _, _, _, B, S, T): return B * (S + T)
        case let .vectors(_, _, B, _): return B
        case let .reconstruction(_, B, T): return B * T
        }
    }

    /// Positions whose loss is averaged: every one for next-token batches, those with a target ≥ 0 otherwise.
    public var scoredPositions: Int {
        switch self {
        case let .nextToken(_, _, B, T): return B * T
        case let .maskedTokens(_, targets, _, _, _, _), let .sequenceToSequence(_, _, _, targets, _, _, _):
            return targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        case let .vectors(_, _, B, _): return B
        case let .reconstruction(_, B, T): return B * T
        }
    }

    /// The kind, for messages.
    public var kind: String {
        switch self {
        case .nextToken: return "next-token"
        case .maskedTokens: return "masked-token"
        case .sequenceToSequence: return "sequence-to-sequence"
        case .vectors: return "vector"
        case .reconstruction: return "reconstruction"
        }
    }
}
