/// What one optimizer step did, reported through `Trainer.run`'s callback (and returned by `step()`).
public struct TrainingStepReport: Codable, Sendable {
    /// 1-based optimizer step.
    public var step: Int
    /// Mean training loss over the step's micro-batches (nats/token; a GAN's generator loss).
    public var loss: Float
    /// A GAN's discriminator loss of the step; nil for one network.
    public var discriminatorLoss: Float?
    public var learningRate: Float
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
    /// Tokens processed in this step (`Batch.tokens` × accumulation: B·T, or B·(S + T) for sequence to sequence).
    public var tokens: Int
    /// FLOPs of this step by the configuration's formula (`ModelConfiguration.forwardFLOPs`).
    public var flops: Double
}

/// Trains any `TrainableModel` on its architecture's objective (`ModelConfiguration.objective`: next-token, masked
/// tokens, span corruption) with AdamW, warmup + cosine learning rate, global-norm clipping and gradient accumulation,
/// on random windows of a token stream; deterministic for a given seed and thread count.
///
/// The loop reports each step through a callback instead of timing itself, so the caller (wattprint's
/// recorder) owns the clock and can open energy windows around steps.
public final class Trainer: TrainingLoop {
    public let model: any TrainableModel
    public let options: TrainingOptions
    public let optimizer: AdamW
    public let schedule: LearningRateSchedule
    public let data: TokenSplit
    public private(set) var step = 0
    public let objective: any TrainingObjective
    private var rng: SplitMix64

    /// - Throws: `invalidArgument` for bad options, `corpusTooSmall` when the training split is shorter than a window.
    public init(model: any TrainableModel, data: TokenSplit, options: TrainingOptions) throws {
        try options.validate(maxSequence: model.maxSequence)
        let objective = model.configuration.objective
        try objective.check(sequence: options.sequence, context: model.maxSequence)
        let window = objective.windowLength(sequence: options.sequence)
        guard data.train.count > window, data.validation.count >= window else {
            throw EngineError(
                .corpusTooSmall,
                "the split has \(data.train.count) train / \(data.validation.count) validation tokens for windows of \(window)",
                fix: "use a larger corpus or a smaller --seq")
        }
        self.objective = objective
        if let bad = (data.train + data.validation).first(where: { $0 < 0 || Int($0) >= model.vocabularySize }) {
            throw EngineError(
                .tokenOutOfRange, "token id \(bad) is outside the model's vocabulary 0..<\(model.vocabularySize)",
                fix: "use a tokenizer whose vocabulary matches the model")
        }
        self.model = model
        self.options = options
        self.data = data
        optimizer = AdamW(layout: model.parameters.layout, options: options.adamW)
        schedule = LearningRateSchedule(
            peak: options.learningRate, warmupSteps: options.warmupSteps,
            totalSteps: options.steps, minimumFraction: options.minimumLearningRateFraction)
        rng = SplitMix64(seed: options.seed &+ 1)
        _ = model.gradients()
    }

    /// One optimizer step: `accumulationSteps` forward/backward passes, clipping, AdamW.
    public func trainStep() throws -> TrainingStepReport {
        let B = options.batch, T = options.sequence, A = options.accumulationSteps
        var lossSum: Float = 0, tokens = 0, flops = 0.0
        model.dropout = options.dropout
        for micro in 0..<A {
            let batch = nextBatch(B: B, T: T)
            model.dropoutSeed = options.seed &+ 2 &+ UInt64(step * A + micro) &* 0x9E37_79B9_7F4A_7C15
            lossSum += try model.lossAndGradients(batch, gradientWrite: micro == 0 ? .overwrite : .accumulate, lossScale: 1 / Float(A))
            tokens += batch.tokens
            flops += model.trainingFLOPs(batch)
        }
        let gradients = model.gradients()
        let norm = GradientClipping.globalNorm(gradients, recorded: model.recordedGradientSquares)
        let rate = schedule.rate(at: step)
        optimizer.update(
            parameters: model.parameters, gradients: gradients, learningRate: rate,
            gradientScale: GradientClipping.scale(norm: norm, maxNorm: options.gradientClip))
        step += 1
        return TrainingStepReport(
            step: step, loss: lossSum / Float(A), learningRate: rate, gradientNorm: norm,
            tokens: tokens, flops: flops)
    }

    /// Validation loss on the first `evaluationBatches` batches of the validation split.
    public func evaluate() throws -> EvaluationReport {
        try Evaluation.run(
            model: model, tokens: data.validation, B: options.batch, T: options.sequence,
            maxBatches: options.evaluationBatches, step: step)
    }

    public func save(path: String, tokenizer: String, metadata: [String: String]) throws {
        try model.save(path: path, tokenizer: tokenizer, metadata: metadata)
    }

    /// The objective's batch from B random windows of the training split (its masks or spans drawn from the same stream).
    private func nextBatch(B: Int, T: Int) -> Batch {
        let length = objective.windowLength(sequence: T), limit = data.train.count - length + 1
        let windows = (0..<B).map { _ -> ArraySlice<Int32> in
            let start = rng.nextInt(below: limit)
            return data.train[start..<(start + length)]
        }
        return objective.batch(windows: windows, sequence: T, random: &rng)
    }
}
