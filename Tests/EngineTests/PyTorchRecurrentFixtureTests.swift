@testable import Engine
import Foundation
import XCTest

/// The Elman RNN, LSTM and GRU language models against PyTorch's `nn.RNN`, `nn.LSTM` and `nn.GRU` (fixtures from
/// `scripts/fixtures/make-pytorch-fixtures.py`): logits, final states, loss and the gradient of every parameter; and
/// the engine's state-carrying decode against its own full pass.
extension PyTorchFixtureTests {
    func checkRecurrent(_ architecture: String) throws {
        let f = try loadEncoderFixture(architecture)
        let model = try XCTUnwrap(f.model as? RecurrentLanguageModel)
        XCTAssertEqual(f.info.config.architecture.rawValue, architecture)
        XCTAssertEqual(f.info.assumed.count, 1, "only the context is assumed: \(f.info.assumed)")
        let shape = try f.shape("fixture.inputs"), B = shape[0], T = shape[1]
        let inputs = try f.ids("fixture.inputs"), targets = try f.ids("fixture.targets")
        let out = try model.forward(inputs: inputs, B: B, T: T)
        assertClose(out.logits, try f.tensor("fixture.logits"), 1e-5, "\(architecture) logits")
        assertClose(out.finalHidden, try f.tensor("fixture.finalHidden"), 1e-5, "\(architecture) final hidden state")
        if architecture == "lstm" { assertClose(try XCTUnwrap(out.finalCell), try f.tensor("fixture.finalCell"), 1e-5, "lstm final cell") }
        let batch = Batch.nextToken(inputs: inputs, targets: targets, B: B, T: T)
        let loss = try f.tensor("fixture.loss")[0]
        XCTAssertEqual(try model.loss(batch), loss, accuracy: 1e-5 * loss)
        XCTAssertEqual(try model.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1), loss, accuracy: 1e-5 * loss)
        try assertGradients(f, architecture, minimum: 11)

        // Decoding carries the state: a prefill of 3 tokens then one at a time, both sequences in one decode call.
        let session = InferenceSession(model: model, maxBatch: B, maxChunk: T)
        let V = model.config.vocabularySize
        for b in 0..<B {
            let logits = Array(try session.prefill(sequence: b, tokens: Array(inputs[(b * T)..<(b * T + 3)])))
            assertClose(logits, Array(out.logits[((b * T + 2) * V)..<((b * T + 3) * V)]), 1e-5, "\(architecture) prefill \(b)")
        }
        for t in 3..<T {
            try session.decode((0..<B).map { (sequence: $0, token: inputs[$0 * T + t]) })
            for b in 0..<B {
                assertClose(
                    Array(session.logits(at: b)), Array(out.logits[((b * T + t) * V)..<((b * T + t + 1) * V)]), 1e-5,
                    "\(architecture) decode (\(b), \(t))")
            }
        }
    }

    func testElmanRNNMatchesPyTorch() throws { try checkRecurrent("rnn") }
    func testLSTMMatchesPyTorch() throws { try checkRecurrent("lstm") }
    func testGRUMatchesPyTorch() throws { try checkRecurrent("gru") }
}
