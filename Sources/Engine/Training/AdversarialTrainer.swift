/// Trains a GAN: each step a discriminator step then a generator step, each network with its own AdamW (the options'
/// hyper-parameters, warmup + cosine schedule and gradient clipping applied to each alone), on real vectors the
/// objective builds from random windows of the training split. Evaluation scores the validation split's vectors
/// with fixed noise: both losses and the squared MMD between real and generated vectors.
public final class AdversarialTrainer: TrainingLoop {
    /// Radford et al. 2016's (DCGAN) optimiser settings, the usual starting point: learning rate 2e-4, β₁ 0.5,
    /// β₂ 0.999, no weight decay. With the engine's language-model defaults (β₁ 0.9, β₂ 0.95) the test's GAN learned
    /// about 3× less in the same steps.
    public static var defaultOptions: TrainingOptions {
        var options = TrainingOptions()
        options.learningRate = 2e-4
        options.adamW = AdamWOptions(beta1: 0.5, beta2: 0.999, weightDecay: 0)
        return options
    }

    public let model: any AdversarialModel
    public let options: TrainingOptions
    public let data: TokenSplit
    public let objective: any TrainingObjective
    public private(set) var step = 0
    let generatorOptimizer, discriminatorOptimizer: AdamW
    let schedule: LearningRateSchedule
    private var rng: SplitMix64

    /// - Throws: `invalidArgument` for bad options (dropout, accumulation), the objective's `check`, `corpusTooSmall`.
    public init(model: any AdversarialModel, data: TokenSplit, options: TrainingOptions) throws {
        try options.validate(maxSequence: model.maxSequence)
        guard options.dropout == 0 else {
            throw EngineError.invalidArgument("a GAN trains without dropout", fix: "drop --dropout")
        }
        guard options.accumulationSteps == 1 else {
            throw EngineError.invalidArgument(
                "a GAN trains without gradient accumulation (one step per network each time)", fix: "drop --accumulation")
        }
        objective = model.configuration.objective
        try objective.check(sequence: options.sequence, context: model.maxSequence)
        guard data.train.count > options.sequence, data.validation.count >= options.sequence * 2 else {
            throw EngineError(
                .corpusTooSmall,
                "the split has \(data.train.count) train / \(data.validation.count) validation tokens; the GAN needs more than \(options.sequence) to train on and \(2 * options.sequence) to validate (two windows of \(options.sequence), for the MMD)",
                fix: "use a corpus of at least \(20 * options.sequence) tokens or a smaller --seq")
        }
        self.model = model
        self.options = options
        self.data = data
        generatorOptimizer = AdamW(layout: model.generator.layout, options: options.adamW)
        discriminatorOptimizer = AdamW(layout: model.discriminator.layout, options: options.adamW)
        schedule = LearningRateSchedule(
            peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.steps,
            minimumFraction: options.minimumLearningRateFraction)
        rng = SplitMix64(seed: options.seed &+ 1)
    }

    public func trainStep() throws -> TrainingStepReport {
        let B = options.batch, T = options.sequence, limit = data.train.count - T + 1
        let windows = (0..<B).map { _ -> ArraySlice<Int32> in
            let start = rng.nextInt(below: limit)
            return data.train[start..<(start + T)]
        }
        let real = objective.batch(windows: windows, sequence: T, random: &rng)
        let rate = schedule.rate(at: step)
        let seed = options.seed &+ 2 &+ UInt64(step) &* 0x9E37_79B9_7F4A_7C15
        let discriminatorLoss = try model.discriminatorStep(real: real, seed: seed)
        update(model.discriminator, model.discriminatorGradients(), discriminatorOptimizer, rate)
        let generatorLoss = try model.generatorStep(samples: B, seed: seed &+ 1)
        let norm = update(model.generator, model.generatorGradients(), generatorOptimizer, rate)
        step += 1
        guard let config = model.configuration as? GANConfig else { preconditionFailure("an adversarial model is a GAN") }
        return TrainingStepReport(
            step: step, loss: generatorLoss, discriminatorLoss: discriminatorLoss, learningRate: rate, gradientNorm: norm, tokens: B * T,
            flops: config.adversarialStepFLOPs(B: B))
    }

    @discardableResult
    private func update(_ parameters: TensorBuffer, _ gradients: TensorBuffer, _ optimizer: AdamW, _ rate: Float) -> Float {
        let norm = GradientClipping.globalNorm(gradients)
        optimizer.update(
            parameters: parameters, gradients: gradients, learningRate: rate,
            gradientScale: GradientClipping.scale(norm: norm, maxNorm: options.gradientClip))
        return norm
    }

    /// The first `evaluationBatches × batch` consecutive validation windows (at least 16) against as many generated vectors.
    public func evaluate() throws -> EvaluationReport {
        let T = options.sequence, count = min(max(16, options.evaluationBatches * options.batch), data.validation.count / T)
        let windows = (0..<count).map { data.validation[($0 * T)..<($0 * T + T)] }
        var random = SplitMix64(seed: Evaluation.seed)
        let scored = try model.evaluate(real: objective.batch(windows: windows, sequence: T, random: &random), seed: Evaluation.seed)
        var report = EvaluationReport(step: step, loss: scored.generatorLoss, tokens: count * T)
        report.discriminatorLoss = scored.discriminatorLoss
        report.discrepancy = scored.discrepancy
        return report
    }

    /// A GAN's file carries the engine's metadata only: nothing (pruning) describes a GAN beyond its configuration.
    public func save(path: String, tokenizer: String, metadata: [String: String]) throws {
        try model.save(path: path, tokenizer: tokenizer)
    }
}
