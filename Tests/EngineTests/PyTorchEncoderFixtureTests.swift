@testable import Engine
import Foundation
import XCTest

/// BERT and T5 against PyTorch (`BertForPreTraining`, `T5ForConditionalGeneration` from Transformers 5.24): states,
/// pooled vector, logits, loss and gradients of the fixtures `scripts/fixtures/make-pytorch-fixtures.py` wrote, with
/// padding in the batch; T5's relative position buckets; T5's cached decoding against PyTorch's full forward.
extension PyTorchFixtureTests {
    struct EncoderFixture {
        let model: any TrainableModel
        let info: CheckpointInfo
        let expected: SafeTensorsFile

        func tensor(_ name: String) throws -> [Float] {
            let entry = try XCTUnwrap(expected.entries[name], "fixture lacks \(name)")
            var values = [Float](repeating: .nan, count: entry.shape.reduce(1, *))
            try values.withUnsafeMutableBufferPointer { try expected.read(name, into: $0) }
            return values
        }

        func ids(_ name: String) throws -> [Int32] { try tensor(name).map { $0 == -100 ? -1 : Int32($0) } }
        func shape(_ name: String) throws -> [Int] { try XCTUnwrap(expected.entries[name]).shape }
    }

    func loadEncoderFixture(_ architecture: String, file: String = #filePath) throws -> EncoderFixture {
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Fixtures/pytorch/\(architecture)")
        let (model, info) = try Checkpoint.load(path: directory.appendingPathComponent("model.safetensors").path)
        let expected = try SafeTensorsFile(path: directory.appendingPathComponent("expected.safetensors").path)
        XCTAssertEqual(expected.metadata["format"], Self.fixtureFormat, "regenerate with scripts/fixtures/make-pytorch-fixtures.py")
        return EncoderFixture(model: try XCTUnwrap(model as? any TrainableModel), info: info, expected: expected)
    }

    func assertClose(_ ours: [Float], _ theirs: [Float], _ tolerance: Double, _ what: String) {
        guard ours.count == theirs.count else { return XCTFail("\(what): \(ours.count) values, expected \(theirs.count)") }
        let error = relative(ours, theirs)
        XCTAssertLessThan(error.norm, tolerance, what)
        XCTAssertLessThan(error.element, tolerance, "\(what) (worst element)")
    }

    func assertGradients(_ f: EncoderFixture, _ architecture: String, minimum: Int) throws {
        let gradients = f.model.gradients()
        let names = f.expected.entries.keys.filter { $0.hasPrefix("grad.") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, minimum)
        for name in names {
            let parameter = String(name.dropFirst("grad.".count))
            let expected = try f.tensor(name)
            let view = try XCTUnwrap(gradients.layout.position(of: parameter).map { gradients.view($0) }, "no parameter \(parameter)")
            let ours = Array(view.prefix(expected.count))
            if expected.map(abs).max()! < 1e-6 {
                // Zero in exact arithmetic (a key bias shifts every score of a query alike): both sides are rounding noise.
                XCTAssertLessThan(ours.map(abs).max()!, 1e-5, "\(architecture) gradient of \(parameter) should vanish")
            } else {
                assertClose(ours, expected, 1e-4, "\(architecture) gradient of \(parameter)")
            }
        }
    }

    func testBERTMatchesPyTorch() throws {
        let f = try loadEncoderFixture("bert")
        let bert = try XCTUnwrap(f.model as? BERT)
        XCTAssertEqual(f.info.config.architecture, .bert)
        XCTAssertEqual(f.info.headsSource, "config.json")
        XCTAssertTrue(bert.config.pooler)
        XCTAssertNil(bert.config.maskTokenID, "neither config.json nor a vocab.txt names [MASK]")
        XCTAssertTrue(f.info.assumed.contains { $0.hasPrefix("cls.seq_relationship.") }, "\(f.info.assumed)")
        let shape = try f.shape("fixture.inputs"), B = shape[0], T = shape[1]
        let inputs = try f.ids("fixture.inputs"), segments = try f.ids("fixture.tokenTypes"), targets = try f.ids("fixture.targets")
        let padding = try f.tensor("fixture.attentionMask").map { UInt8($0 == 0 ? 1 : 0) }
        XCTAssertTrue(padding.contains(1), "the fixture pads a sequence")

        let encoded = try bert.encode(EncoderInput(tokens: inputs, padding: padding, segments: segments, B: B, T: T), logits: true)
        assertClose(encoded.states, try f.tensor("fixture.hidden"), 1e-5, "bert states")
        assertClose(try XCTUnwrap(encoded.pooled), try f.tensor("fixture.pooled"), 1e-5, "bert pooled vector")
        assertClose(try XCTUnwrap(encoded.logits), try f.tensor("fixture.logits"), 1e-5, "bert MLM logits")

        let batch = Batch.maskedTokens(inputs: inputs, targets: targets, padding: padding, segments: segments, B: B, T: T)
        let loss = try f.tensor("fixture.loss")[0]
        let score = try bert.score(batch)
        XCTAssertEqual(score.loss, loss, accuracy: 1e-5 * loss)
        XCTAssertEqual(score.scored, targets.filter { $0 >= 0 }.count)
        XCTAssertEqual(try bert.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1), loss, accuracy: 1e-5 * loss)
        try assertGradients(f, "bert", minimum: 12)
    }

    func testT5MatchesPyTorch() throws {
        let f = try loadEncoderFixture("t5")
        let t5 = try XCTUnwrap(f.model as? T5)
        XCTAssertEqual(f.info.config.architecture, .t5)
        // T5 has no position table, so the engine's context is a setting config.json cannot give; nor are the sentinels
        // (tokenizer facts), which are listed.
        XCTAssertEqual(f.info.assumed.count, 2, "\(f.info.assumed)")
        XCTAssertTrue(f.info.assumed.contains { $0.hasPrefix("n_positions = 512") }, "\(f.info.assumed)")
        XCTAssertTrue(f.info.assumed.contains { $0.hasPrefix("sentinels <extra_id_0> = 59") }, "\(f.info.assumed)")
        XCTAssertTrue(t5.config.tiedHead, "Transformers 5 saves no lm_head.weight")
        XCTAssertFalse(t5.config.scaleDecoderOutput)
        XCTAssertNotEqual(t5.config.attentionWidth, t5.config.channels, "heads × d_kv differs from d_model, as in T5 v1.1 small")
        let sourceShape = try f.shape("fixture.source"), B = sourceShape[0], S = sourceShape[1], T = try f.shape("fixture.targets")[1]
        let source = try f.ids("fixture.source"), inputs = try f.ids("fixture.decoderInputs"), targets = try f.ids("fixture.targets")
        let padding = try f.tensor("fixture.sourceMask").map { UInt8($0 == 0 ? 1 : 0) }
        let batch = Batch.sequenceToSequence(source: source, sourcePadding: padding, inputs: inputs, targets: targets, B: B, S: S, T: T)

        let encoded = try t5.encode(EncoderInput(tokens: source, padding: padding, B: B, T: S), logits: false)
        assertClose(encoded.states, try f.tensor("fixture.encoderHidden"), 1e-5, "t5 encoder states")
        let expectedLogits = try f.tensor("fixture.logits")
        assertClose(try t5.logits(batch), expectedLogits, 1e-5, "t5 logits")
        let loss = try f.tensor("fixture.loss")[0]
        XCTAssertEqual(try t5.loss(batch), loss, accuracy: 1e-5 * loss)
        XCTAssertEqual(try t5.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1), loss, accuracy: 1e-5 * loss)
        try assertGradients(f, "t5", minimum: 15)

        // Cached decoding of each sequence (its source without the padding, one row at a time after a 2-row prefill)
        // gives PyTorch's full-forward logits at every position.
        let V = t5.config.vocabularySize
        let session = InferenceSession(model: t5, maxBatch: B, maxChunk: T)
        for b in 0..<B {
            let real = (0..<S).filter { padding[b * S + $0] == 0 }.map { source[b * S + $0] }
            try session.setSource(sequence: b, tokens: real)
            let row = Array(inputs[(b * T)..<(b * T + T)])
            var ours = Array(try session.prefill(sequence: b, tokens: Array(row[0..<2])))
            assertClose(ours, Array(expectedLogits[((b * T + 1) * V)..<((b * T + 2) * V)]), 1e-5, "t5 prefill logits, sequence \(b)")
            for t in 2..<T {
                try session.decode([(sequence: b, token: row[t])])
                ours = Array(session.logits(at: 0))
                assertClose(ours, Array(expectedLogits[((b * T + t) * V)..<((b * T + t + 1) * V)]), 1e-5, "t5 decode logits (\(b), \(t))")
            }
        }
    }

    func testRelativePositionBucketsMatchPyTorch() throws {
        let f = try loadEncoderFixture("t5")
        let bidirectional = try f.tensor("fixture.bucketsBidirectional").map(Int.init)
        let causal = try f.tensor("fixture.bucketsCausal").map(Int.init)
        XCTAssertEqual(bidirectional.count, 601)
        for (i, relative) in (-300...300).enumerated() {
            XCTAssertEqual(
                RelativePositionBias.bucket(relative, bidirectional: true, buckets: 32, maxDistance: 128), bidirectional[i], "\(relative)")
            XCTAssertEqual(
                RelativePositionBias.bucket(relative, bidirectional: false, buckets: 32, maxDistance: 128), causal[i], "\(relative)")
        }
    }
}
