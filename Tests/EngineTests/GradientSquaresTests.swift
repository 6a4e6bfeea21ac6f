@testable import Engine
import XCTest

/// Clipping's norm with the squares the weight-gradient kernel takes as it stores: the same norm as reading every
/// gradient back, only the unrecorded tensors read, and nothing recorded where a later write would make it stale.
final class GradientSquaresTests: EngineTestCase {
    /// Recorded tensors are taken from the record (a wrong record changes the norm), the others read.
    func testRecordedTensorsAreNotRead() {
        let layout = TensorLayout([
            TensorSpec(name: "a", shape: [1000], decays: true), TensorSpec(name: "b", shape: [77], decays: false),
            TensorSpec(name: "c", shape: [AdamW.pieceFloats + 3], decays: true),
        ])
        let gradients = TensorBuffer(layout: layout)
        // Tensors only: the padding between them stays zero, as in a model's buffer.
        for position in layout.specs.indices {
            let view = gradients.view(position)
            _ = view.update(fromContentsOf: randomFloats(view.count, seed: UInt64(position + 4)))
        }
        func squares(_ position: Int) -> Double { gradients.view(position).reduce(0.0) { $0 + Double($1) * Double($1) } }
        let exact = (0..<3).map(squares).reduce(0, +).squareRoot()
        let recorded = GradientSquares(gradients: gradients)
        recorded.record(gradients.view(2), squares(2))
        XCTAssertEqual(Double(GradientClipping.globalNorm(gradients, recorded: recorded)), exact, accuracy: 1e-6 * exact)
        recorded.record(gradients.view(2), squares(2) + 100)
        let inflated = (exact * exact + 100).squareRoot()
        XCTAssertEqual(Double(GradientClipping.globalNorm(gradients, recorded: recorded)), inflated, accuracy: 1e-6 * inflated)
        recorded.reset()
        XCTAssertEqual(recorded.recordedCount, 0)
        XCTAssertEqual(Double(GradientClipping.globalNorm(gradients, recorded: recorded)), exact, accuracy: 1e-6 * exact)
    }

    /// GPT-2 (tied embedding: the LM head's squares corrected for the scatter) and Llama (its own embedding, zeroed
    /// and scattered): the recorded norm against the read one, what is recorded when overwriting, and nothing recorded
    /// for an accumulated micro-batch.
    func testModelsRecordWhatTheyOverwrite() throws {
        try XCTSkipUnless(PanelKernel.available, "the squares come from the engine's kernel (AVX-512F)")
        let B = 2, T = 8
        var rng = SplitMix64(seed: 9)
        // Repeated tokens, so the scatter adds to some embedding rows more than once.
        let inputs = (0..<(B * T)).map { _ in Int32(rng.nextInt(below: 7)) }, targets = inputs.map { ($0 + 1) % 50 }
        let batch = Batch.nextToken(inputs: inputs, targets: targets, B: B, T: T)
        let gpt2 = try tinyModel(layers: 2, channels: 32, heads: 2, vocabulary: 60, maxSequence: 8)
        let llama = try Llama(
            config: LlamaConfig(layers: 2, channels: 32, heads: 4, kvHeads: 2, hidden: 48, vocabularySize: 60, maxSequence: 8), seed: 5)
        for (name, model, recorded) in [("gpt2", gpt2 as any TrainableModel, 4 * 2 + 1), ("llama", llama, 7 * 2 + 2)] {
            _ = try model.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1)
            let gradients = model.gradients(), squares = try XCTUnwrap(model.recordedGradientSquares, name)
            XCTAssertEqual(squares.recordedCount, recorded, name)
            let read = Double(GradientClipping.globalNorm(gradients))
            XCTAssertEqual(Double(GradientClipping.globalNorm(gradients, recorded: squares)), read, accuracy: 1e-5 * read, name)
            // Llama's q, k, v (and gate, up) are recorded as one span each: compare the recorded tensors' totals.
            let positions = gradients.layout.specs.indices.filter { squares.sum(at: $0) != nil }
            let stored = positions.reduce(0.0) { total, position in
                gradients.view(position).reduce(total) { $0 + Double($1) * Double($1) }
            }
            XCTAssertEqual(positions.reduce(0.0) { $0 + squares.sum(at: $1)! }, stored, accuracy: 1e-5 * stored, name)
            _ = try model.lossAndGradients(batch, gradientWrite: .accumulate, lossScale: 1)
            XCTAssertEqual(squares.recordedCount, 0, "\(name): an accumulated micro-batch records nothing")
        }
    }
}
