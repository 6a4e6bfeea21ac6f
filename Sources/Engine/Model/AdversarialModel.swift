/// A model of two networks trained against each other, each by its own optimizer (a GAN): the trainer alternates a
/// discriminator step and a generator step (`AdversarialTrainer`).
public protocol AdversarialModel: ConfiguredModel {
    var generator: TensorBuffer { get }
    var discriminator: TensorBuffer { get }
    func generatorGradients() -> TensorBuffer
    func discriminatorGradients() -> TensorBuffer
    /// The discriminator's loss on `real` [B, D] and B generated samples (noise from `seed`); fills only its gradients
    /// (overwritten). - Throws: `invalidArgument` for a batch that is not B vectors of the data width.
    func discriminatorStep(real: Batch, seed: UInt64) throws -> Float
    /// The generator's loss on B samples (noise from `seed`); fills only its gradients (overwritten).
    func generatorStep(samples B: Int, seed: UInt64) throws -> Float
    /// Both losses on `real` with fixed noise, and the squared maximum mean discrepancy between `real` and as many
    /// generated samples (the quality that must fall over training).
    func evaluate(real: Batch, seed: UInt64) throws -> (discriminatorLoss: Float, generatorLoss: Float, discrepancy: Double)
    /// Writes both networks to one safetensors checkpoint. - Throws: `fileUnwritable`.
    func save(path: String, tokenizer: String) throws
}
