@testable import Engine
import Foundation
import XCTest

/// The engine against PyTorch (Hugging Face Transformers) on the same weights: a tiny GPT-2, Llama and Mixtral saved
/// by `save_pretrained` and the logits, loss and gradients PyTorch computed from them
/// (`scripts/fixtures/make-pytorch-fixtures.py`; files in `Fixtures/pytorch/<arch>/`). Logits and loss agree to 1e-5
/// relative, gradients to 1e-4.
final class PyTorchFixtureTests: EngineTestCase {
    static let fixtureFormat = "1"

    struct Fixture {
        let model: any TrainableModel
        let info: CheckpointInfo
        let expected: SafeTensorsFile
        let inputs, targets: [Int32]
        let B: Int, T: Int

        func tensor(_ name: String) throws -> [Float] {
            let entry = try XCTUnwrap(expected.entries[name], "fixture lacks \(name)")
            var values = [Float](repeating: .nan, count: entry.shape.reduce(1, *))
            try values.withUnsafeMutableBufferPointer { try expected.read(name, into: $0) }
            return values
        }
    }

    func load(_ architecture: String, file: String = #filePath) throws -> Fixture {
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Fixtures/pytorch/\(architecture)")
        let (model, info) = try Checkpoint.load(path: directory.appendingPathComponent("model.safetensors").path)
        let expected = try SafeTensorsFile(path: directory.appendingPathComponent("expected.safetensors").path)
        XCTAssertEqual(expected.metadata["format"], Self.fixtureFormat, "regenerate with scripts/fixtures/make-pytorch-fixtures.py")
        let shape = try XCTUnwrap(expected.entries["fixture.inputs"]).shape
        func ids(_ name: String) throws -> [Int32] {
            let entry = try XCTUnwrap(expected.entries[name])
            var values = [Float](repeating: 0, count: entry.shape.reduce(1, *))
            try values.withUnsafeMutableBufferPointer { try expected.read(name, into: $0) }
            return values.map { Int32($0) }
        }
        return Fixture(
            model: try XCTUnwrap(model as? any TrainableModel), info: info, expected: expected, inputs: try ids("fixture.inputs"),
            targets: try ids("fixture.targets"),
            B: shape[0], T: shape[1])
    }

    /// ‖a − b‖ / ‖b‖, and the worst element relative to the largest of `b`.
    func relative(_ a: [Float], _ b: [Float]) -> (norm: Double, element: Double) {
        precondition(a.count == b.count)
        var diff = 0.0, size = 0.0, worst = 0.0, largest = 0.0
        for (x, y) in zip(a, b) {
            diff += Double(x - y) * Double(x - y); size += Double(y) * Double(y)
            worst = max(worst, Double(abs(x - y))); largest = max(largest, Double(abs(y)))
        }
        return ((diff / size).squareRoot(), worst / largest)
    }

    func logits(_ f: Fixture) throws -> [Float] {
        switch f.model {
        case let gpt2 as GPT2:
            try gpt2.forwardLogits(inputs: f.inputs, B: f.B, T: f.T)
            return (0..<(f.B * f.T)).flatMap { Array(gpt2.logits(row: $0)) }
        case let llama as Llama:
            return try llama.logits(inputs: f.inputs, B: f.B, T: f.T)
        default:
            XCTFail("no logits for \(type(of: f.model))")
            return []
        }
    }

    func check(_ architecture: String, expecting expectedArchitecture: Architecture) throws {
        let f = try load(architecture)
        XCTAssertEqual(f.info.config.architecture, expectedArchitecture)
        XCTAssertEqual(f.info.headsSource, "config.json")
        XCTAssertEqual(f.info.assumed, [], "every setting comes from the config.json Transformers wrote")
        let logits = try logits(f)
        let logitError = relative(logits, try f.tensor("fixture.logits"))
        XCTAssertLessThan(logitError.norm, 1e-5, "\(architecture) logits")
        XCTAssertLessThan(logitError.element, 1e-5, "\(architecture) logits (worst element)")

        let batch = Batch.nextToken(inputs: f.inputs, targets: f.targets, B: f.B, T: f.T)
        let crossEntropy = try f.tensor("fixture.loss")[0]
        XCTAssertEqual(try f.model.loss(batch), crossEntropy, accuracy: 1e-5 * crossEntropy, "\(architecture) loss")
        let total = try f.model.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1)
        if let llama = f.model as? Llama, llama.config.isMixture {
            let auxiliary = try f.tensor("fixture.auxiliaryLoss")[0]
            XCTAssertEqual(Float(llama.lastAuxiliaryLoss!), auxiliary, accuracy: 1e-5 * auxiliary, "load-balancing loss")
            XCTAssertEqual(total, crossEntropy + llama.config.routerAuxiliaryLossCoefficient * auxiliary, accuracy: 1e-5 * total)
        }
        let gradients = f.model.gradients()
        let names = f.expected.entries.keys.filter { $0.hasPrefix("grad.") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 6)
        for name in names {
            let parameter = String(name.dropFirst("grad.".count)).replacingOccurrences(of: "transformer.", with: "")
            let expected = try f.tensor(name)
            let view = try XCTUnwrap(gradients.layout.position(of: parameter).map { gradients.view($0) }, "no parameter \(parameter)")
            let ours = Array(view.prefix(expected.count))
            let error = relative(ours, expected)
            XCTAssertLessThan(error.norm, 1e-4, "\(architecture) gradient of \(parameter)")
            XCTAssertLessThan(error.element, 1e-4, "\(architecture) gradient of \(parameter) (worst element)")
        }
    }

    func testGPT2MatchesPyTorch() throws { try check("gpt2", expecting: .gpt2) }
    func testLlamaMatchesPyTorch() throws { try check("llama", expecting: .llama) }
    func testMixtureOfExpertsMatchesPyTorch() throws { try check("moe", expecting: .moe) }
}
