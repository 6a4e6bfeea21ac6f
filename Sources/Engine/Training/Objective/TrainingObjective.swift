/// How an architecture learns from a token stream: which batches training samples and which (deterministic) batches
/// evaluation scores. Each configuration names its objective (`ModelConfiguration.objective`), so the trainer and the
/// evaluator run every architecture the same way.
public protocol TrainingObjective: Sendable {
    /// "next-token", "masked-language-model", "span-corruption".
    var name: String { get }
    /// Stream tokens one example consumes for sequence length T (T + 1 for next-token: the inputs and the shifted targets).
    func windowLength(sequence T: Int) -> Int
    /// A batch from B windows of `windowLength(T)` stream tokens each; `random` draws masks or spans.
    func batch(windows: [ArraySlice<Int32>], sequence T: Int, random: inout SplitMix64) -> Batch
    /// - Throws: `invalidConfiguration` when a model of context `context` cannot take this objective at sequence
    ///   length T (too few sentinel tokens for the spans, examples longer than the context, no [MASK] id).
    func check(sequence T: Int, context: Int) throws
}

extension TrainingObjective {
    public func check(sequence T: Int, context: Int) throws {}
}

/// Causal language modelling: predict every next token.
public struct NextTokenObjective: TrainingObjective {
    public init() {}
    public var name: String { "next-token" }
    public func windowLength(sequence T: Int) -> Int { T + 1 }

    public func batch(windows: [ArraySlice<Int32>], sequence T: Int, random: inout SplitMix64) -> Batch {
        var inputs: [Int32] = [], targets: [Int32] = []
        inputs.reserveCapacity(windows.count * T)
        targets.reserveCapacity(windows.count * T)
        for w in windows {
            inputs.append(contentsOf: w.prefix(T))
            targets.append(contentsOf: w.dropFirst().prefix(T))
        }
        return .nextToken(inputs: inputs, targets: targets, B: windows.count, T: T)
    }
}

extension ModelConfiguration {
    /// Next-token prediction, the decoders' objective.
    public var objective: any TrainingObjective { NextTokenObjective() }
}
