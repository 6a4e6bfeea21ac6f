/// A deterministic train/validation split of a token stream: the last `validationFraction` is validation.
///
/// A contiguous tail (rather than sampled windows) keeps validation text unseen in training and
/// makes the split a pure function of the corpus bytes and tokenizer.
public struct TokenSplit: Sendable {
    public let train: [Int32]
    public let validation: [Int32]

    /// - Throws: `corpusTooSmall` when either part is shorter than `window` + 1 tokens.
    public init(tokens: [Int32], validationFraction: Double = 0.1, window: Int) throws {
        guard validationFraction > 0, validationFraction < 1 else {
            throw EngineError(
                .invalidArgument, "validation fraction \(validationFraction) leaves no training or no validation data",
                fix: "use a fraction between 0 and 1, e.g. 0.1")
        }
        let validationCount = Int((Double(tokens.count) * validationFraction).rounded(.down))
        let trainCount = tokens.count - validationCount
        let needed = window + 1
        guard trainCount >= needed, validationCount >= needed else {
            let minimum = Int((Double(needed) / min(validationFraction, 1 - validationFraction)).rounded(.up))
            throw EngineError(
                .corpusTooSmall,
                "corpus has \(tokens.count) tokens; a \(Int(validationFraction * 100))% validation split needs at least \(minimum) for sequence length \(window)",
                fix: "use a larger corpus or a smaller --seq")
        }
        train = Array(tokens[0..<trainCount])
        validation = Array(tokens[trainCount...])
    }
}
