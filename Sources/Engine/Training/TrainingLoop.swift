/// A training run step by step: one network and its objective (`Trainer`), or two trained against each other
/// (`AdversarialTrainer`). Callers own the clock and the records.
public protocol TrainingLoop: AnyObject {
    var options: TrainingOptions { get }
    /// Optimizer steps taken.
    var step: Int { get }
    func trainStep() throws -> TrainingStepReport
    func evaluate() throws -> EvaluationReport
    /// Writes the trained model, `metadata`'s keys beside the engine's. - Throws: `fileUnwritable`.
    func save(path: String, tokenizer: String, metadata: [String: String]) throws
}

extension TrainingLoop {
    /// Writes the trained model with the engine's metadata only. - Throws: `fileUnwritable`.
    public func save(path: String, tokenizer: String) throws { try save(path: path, tokenizer: tokenizer, metadata: [:]) }

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
}
