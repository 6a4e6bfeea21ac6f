/// What one optimizer step did, reported through `Trainer.run`'s callback (and returned by `step()`).
public struct TrainingStepReport: Codable, Sendable {
    /// 1-based optimizer step.
    public var step: Int
    /// Mean training loss over the step's micro-batches (nats/token).
    public var loss: Float
    public var learningRate: Float
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
    /// Tokens processed in this step (batch × sequence × accumulation).
    public var tokens: Int
    /// FLOPs of this step by the configuration's formula (`ModelConfiguration.forwardFLOPs`).
    public var flops: Double
}

/// Trains a causal language model (any `TrainableModel` that takes next-token batches) with AdamW, warmup + cosine learning rate, global-norm clipping and
/// gradient accumulation, on random windows of a token stream; deterministic for a given seed and thread count.
///
/// The loop reports each step through a callback instead of timing itself, so the caller (wattprint's
/// recorder) owns the clock and can open energy windows around steps.
public final class Trainer {
    public let model: any TrainableModel
    public let options: TrainingOptions
    public let optimizer: AdamW
    public let schedule: LearningRateSchedule
    public let data: TokenSplit
    public private(set) var step = 0
    private var rng: SplitMix64
    private var inputs: [Int32]
    private var targets: [Int32]

    /// - Throws: `invalidArgument` for bad options, `corpusTooSmall` when the training split is shorter than a window.
    public init(model: any TrainableModel, data: TokenSplit, options: TrainingOptions) throws {
        try options.validate(maxSequence: model.maxSequence)
        guard data.train.count > options.sequence, data.validation.count > options.sequence else {
            throw EngineError(
                .corpusTooSmall,
                "the split has \(data.train.count) train / \(data.validation.count) validation tokens for windows of \(options.sequence + 1)",
                fix: "use a larger corpus or a smaller --seq")
        }
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
        inputs = [Int32](repeating: 0, count: options.batch * options.sequence)
        targets = inputs
        _ = model.gradients()
    }

    /// One optimizer step: `accumulationSteps` forward/backward passes, clipping, AdamW.
    public func trainStep() throws -> TrainingStepReport {
        let B = options.batch, T = options.sequence, A = options.accumulationSteps
        var lossSum: Float = 0
        model.dropout = options.dropout
        for micro in 0..<A {
            fillBatch()
            model.dropoutSeed = options.seed &+ 2 &+ UInt64(step * A + micro) &* 0x9E37_79B9_7F4A_7C15
            lossSum += try model.lossAndGradients(
                .nextToken(inputs: inputs, targets: targets, B: B, T: T), gradientWrite: micro == 0 ? .overwrite : .accumulate,
                lossScale: 1 / Float(A))
        }
        let gradients = model.gradients()
        let norm = GradientClipping.globalNorm(gradients)
        let rate = schedule.rate(at: step)
        optimizer.update(
            parameters: model.parameters, gradients: gradients, learningRate: rate,
            gradientScale: GradientClipping.scale(norm: norm, maxNorm: options.gradientClip))
        step += 1
        return TrainingStepReport(
            step: step, loss: lossSum / Float(A), learningRate: rate, gradientNorm: norm,
            tokens: B * T * A, flops: model.configuration.trainingStepFLOPs(B: B, T: T) * Double(A))
    }

    /// Validation loss on the first `evaluationBatches` batches of the validation split.
    public func evaluate() throws -> EvaluationReport {
        try Evaluation.run(
            model: model, tokens: data.validation, B: options.batch, T: options.sequence,
            maxBatches: options.evaluationBatches, step: step)
    }

    /// Runs the remaining steps, evaluating every `evaluationInterval` steps and after the last; returns the final evaluation.
    @discardableResult
    public func run(
        onStep: (TrainingStepReport) -> Void = { _ in },
        onEvaluation: (EvaluationReport) -> Void = { _ in }
    ) throws -> EvaluationReport {
        while step < options.steps {
            onStep(try trainStep())
            if options.evaluationInterval > 0, step % options.evaluationInterval == 0, step < options.steps {
                onEvaluation(try evaluate())
            }
        }
        let final = try evaluate()
        onEvaluation(final)
        return final
    }

    /// B random windows of T+1 tokens from the training split.
    private func fillBatch() {
        let T = options.sequence, limit = data.train.count - T
        for b in 0..<options.batch {
            let start = rng.nextInt(below: limit)
            for t in 0..<T {
                inputs[b * T + t] = data.train[start + t]
                targets[b * T + t] = data.train[start + t + 1]
            }
        }
    }
}
