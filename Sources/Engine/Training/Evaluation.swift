/// Mean validation loss of a run or a checkpoint.
public struct EvaluationReport: Codable, Sendable {
    /// Optimizer steps taken when measured (0 for a standalone evaluation).
    public var step: Int
    /// Mean cross-entropy in nats per token.
    public var loss: Float
    public var perplexity: Float { _expf(loss) }
    /// Tokens whose loss was averaged.
    public var tokens: Int
}

/// Evaluation over non-overlapping windows of a token stream.
public enum Evaluation {
    /// Mean cross-entropy over consecutive windows of T+1 tokens (stride T), in batches of B;
    /// `maxBatches` caps the work (nil: the whole stream). A final short batch runs with fewer rows.
    /// - Throws: `corpusTooSmall` when the stream is shorter than T+1; errors of the model's forward.
    public static func run(model: any TrainableModel, tokens: [Int32], B: Int, T: Int, maxBatches: Int? = nil, step: Int = 0) throws
        -> EvaluationReport
    {
        let windows = (tokens.count - 1) / T
        guard windows >= 1 else {
            throw EngineError(
                .corpusTooSmall, "evaluation data has \(tokens.count) tokens; one window of --seq \(T) needs \(T + 1)",
                fix: "use more data or a smaller --seq")
        }
        if let maxBatches, maxBatches < 1 {
            throw EngineError(
                .invalidArgument, "--max-batches \(maxBatches) evaluates nothing", fix: "pass --max-batches 1 or more, or leave it out")
        }
        // Without overflow: a huge --max-batches means the whole stream.
        let cap = maxBatches.map { $0.multipliedReportingOverflow(by: B) }
        let used = cap.map { $0.overflow ? windows : min(windows, $0.partialValue) } ?? windows
        var total: Double = 0
        var inputs: [Int32] = [], targets: [Int32] = []
        var start = 0
        while start < used {
            let rows = min(B, used - start)
            inputs.removeAll(keepingCapacity: true)
            targets.removeAll(keepingCapacity: true)
            for w in start..<(start + rows) {
                inputs.append(contentsOf: tokens[(w * T)..<(w * T + T)])
                targets.append(contentsOf: tokens[(w * T + 1)...(w * T + T)])
            }
            total += Double(try model.loss(.nextToken(inputs: inputs, targets: targets, B: rows, T: T))) * Double(rows * T)
            start += rows
        }
        return EvaluationReport(step: step, loss: Float(total / Double(used * T)), tokens: used * T)
    }
}
