/// Everything that defines a training run besides the model shape and the data.
public struct TrainingOptions: Codable, Sendable, Hashable {
    public var batch: Int = 4
    public var sequence: Int = 64
    public var steps: Int = 100
    /// Peak learning rate of the warmup + cosine schedule.
    public var learningRate: Float = 1e-3
    public var warmupSteps: Int = 10
    /// Learning-rate floor at the last step, as a fraction of the peak.
    public var minimumLearningRateFraction: Float = 0.1
    public var adamW = AdamWOptions()
    /// Clip the global gradient norm to this value (0 disables clipping).
    public var gradientClip: Float = 1
    /// Micro-batches summed into one optimizer step (effective batch = batch × accumulationSteps).
    public var accumulationSteps: Int = 1
    /// Evaluate every this many steps (0: only after the last step).
    public var evaluationInterval: Int = 0
    /// Validation batches per evaluation.
    public var evaluationBatches: Int = 8
    /// Seeds parameter initialisation (seed) and batch sampling (seed + 1).
    public var seed: UInt64 = 1337
    /// Dropout on the embeddings and residual branches during training (0: off, the default).
    public var dropout: Float = 0

    enum CodingKeys: String, CodingKey {
        case batch, sequence, steps, learningRate, warmupSteps, minimumLearningRateFraction, adamW, gradientClip
        case accumulationSteps, evaluationInterval, evaluationBatches, seed, dropout
    }

    /// Specs written before dropout existed decode with it off.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        batch = try c.decode(Int.self, forKey: .batch)
        sequence = try c.decode(Int.self, forKey: .sequence)
        steps = try c.decode(Int.self, forKey: .steps)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        warmupSteps = try c.decode(Int.self, forKey: .warmupSteps)
        minimumLearningRateFraction = try c.decode(Float.self, forKey: .minimumLearningRateFraction)
        adamW = try c.decode(AdamWOptions.self, forKey: .adamW)
        gradientClip = try c.decode(Float.self, forKey: .gradientClip)
        accumulationSteps = try c.decode(Int.self, forKey: .accumulationSteps)
        evaluationInterval = try c.decode(Int.self, forKey: .evaluationInterval)
        evaluationBatches = try c.decode(Int.self, forKey: .evaluationBatches)
        seed = try c.decode(UInt64.self, forKey: .seed)
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
    }

    public init() {}

    /// - Throws: `invalidArgument` naming the bad field and a valid value.
    public func validate(maxSequence: Int) throws {
        if !(dropout >= 0 && dropout < 1) {
            throw EngineError.invalidArgument("dropout \(dropout) is not a probability below 1", fix: "e.g. --dropout 0.1, or 0 for none")
        }
        if batch < 1 || steps < 1 || accumulationSteps < 1 || evaluationBatches < 1 {
            throw EngineError.invalidArgument(
                "batch, steps, accumulation and evaluation batches must be ≥ 1", fix: "e.g. --batch 4 --steps 100")
        }
        if sequence < 1 || sequence > maxSequence {
            throw EngineError.invalidArgument(
                "sequence length \(sequence) is outside 1…\(maxSequence)", fix: "use --seq ≤ the model's context \(maxSequence)")
        }
        if !(learningRate > 0) || warmupSteps < 0 {
            throw EngineError.invalidArgument(
                "learning rate \(learningRate) / warmup \(warmupSteps) invalid", fix: "use --lr > 0 and warmup ≥ 0")
        }
    }
}
