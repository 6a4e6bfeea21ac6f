/// Mean validation loss of a run or a checkpoint.
public struct EvaluationReport: Codable, Sendable {
    /// Optimizer steps taken when measured (0 for a standalone evaluation).
    public var step: Int
    /// Mean cross-entropy in nats per scored token.
    public var loss: Float
    public var perplexity: Float { _expf(loss) }
    /// Tokens whose loss was averaged (every position for next-token, the masked ones for BERT, the targets for T5).
    public var tokens: Int
    /// Share of scored tokens whose arg-max prediction was right, for objectives that report it (masked tokens, span
    /// corruption); nil otherwise.
    public var accuracy: Float?
    /// A VAE's reconstruction loss alone (nats per token); its `loss` is then the negative ELBO per token.
    public var reconstruction: Float?
    /// A GAN's discriminator loss (its `loss` is the generator's) and the squared maximum mean discrepancy between the
    /// real and generated vectors (`MaximumMeanDiscrepancy`), which falls as the generator learns.
    public var discriminatorLoss: Float?
    public var discrepancy: Double?
    /// The ELBO per token (−loss), for a VAE.
    public var evidenceLowerBound: Float? { reconstruction == nil ? nil : -loss }
    /// Forward FLOPs of the evaluation, by the architecture's formula (`TrainableModel.trainingFLOPs` ÷ 3 per batch).
    public var forwardFLOPs: Double

    public init(step: Int, loss: Float, tokens: Int, accuracy: Float? = nil, forwardFLOPs: Double = 0) {
        self.step = step; self.loss = loss; self.tokens = tokens; self.accuracy = accuracy; self.forwardFLOPs = forwardFLOPs
    }
}

/// Evaluation over non-overlapping windows of a token stream, shaped by the model's objective.
public enum Evaluation {
    /// Seed of evaluation's masks and spans: fixed, so every evaluation of a run scores the same positions.
    static let seed: UInt64 = 0xE7A1_0A7E

    /// Mean loss over consecutive windows (stride T) made into the objective's batches of B (next-token: T+1 tokens
    /// each; masked tokens and span corruption: T, masked or corrupted with a fixed seed); `maxBatches` caps the work
    /// (nil: the whole stream). A final short batch runs with fewer rows.
    /// - Throws: `corpusTooSmall` when the stream is shorter than one window; the objective's `check`; errors of the
    ///   model's forward.
    public static func run(model: any TrainableModel, tokens: [Int32], B: Int, T: Int, maxBatches: Int? = nil, step: Int = 0) throws
        -> EvaluationReport
    {
        let objective = model.configuration.objective
        try objective.check(sequence: T, context: model.maxSequence)
        let length = objective.windowLength(sequence: T)
        let windows = tokens.count >= length ? (tokens.count - length) / T + 1 : 0
        guard windows >= 1 else {
            throw EngineError(
                .corpusTooSmall, "evaluation data has \(tokens.count) tokens; one window of --seq \(T) needs \(length)",
                fix: "use more data or a smaller --seq")
        }
        if let maxBatches, maxBatches < 1 {
            throw EngineError(
                .invalidArgument, "--max-batches \(maxBatches) evaluates nothing", fix: "pass --max-batches 1 or more, or leave it out")
        }
        // Without overflow: a huge --max-batches means the whole stream.
        let cap = maxBatches.map { $0.multipliedReportingOverflow(by: B) }
        let used = cap.map { $0.overflow ? windows : min(windows, $0.partialValue) } ?? windows
        var random = SplitMix64(seed: seed)
        var total: Double = 0, scored = 0, correct = 0, reportsAccuracy = false, flops = 0.0, reconstruction: Double?
        var start = 0
        while start < used {
            let rows = min(B, used - start)
            let slices = (start..<(start + rows)).map { tokens[($0 * T)..<($0 * T + length)] }
            let batch = objective.batch(windows: slices, sequence: T, random: &random)
            let score = try model.score(batch)
            flops += model.trainingFLOPs(batch) / 3
            total += Double(score.loss) * Double(score.scored)
            scored += score.scored
            if let part = score.reconstruction { reconstruction = (reconstruction ?? 0) + Double(part) * Double(score.scored) }
            if let hits = score.correct {
                correct += hits
                reportsAccuracy = true
            }
            start += rows
        }
        var report = EvaluationReport(
            step: step, loss: Float(total / Double(max(1, scored))), tokens: scored,
            accuracy: reportsAccuracy ? Float(correct) / Float(max(1, scored)) : nil, forwardFLOPs: flops)
        report.reconstruction = reconstruction.map { Float($0 / Double(max(1, scored))) }
        return report
    }
}
