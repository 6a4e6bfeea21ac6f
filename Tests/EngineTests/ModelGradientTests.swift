@testable import Engine
import XCTest

/// The fast fp32 GPT-2 against the Double reference model: logits, loss, and every parameter tensor's
/// gradient by central finite differences (sampled entries per tensor, relative error < 1e-2).
final class ModelGradientTests: EngineTestCase {
    let B = 2, T = 5

    func testLogitsAndLossMatchDoubleReference() throws {
        let model = try tinyModel()
        let inputs = randomTokens(B * T, vocabulary: 60, seed: 1), targets = randomTokens(B * T, vocabulary: 60, seed: 2)
        let loss = try model.forward(inputs: inputs, targets: targets, B: B, T: T)
        let reference = GPT2Reference.forward(
            config: model.config, parameters: GPT2Reference.parameters(model.parameters, as: Double.self),
            inputs: inputs, targets: targets, B: B, T: T)
        XCTAssertEqual(Double(loss), reference.loss!, accuracy: 1e-5)
        try model.forwardLogits(inputs: inputs, B: B, T: T)
        let Vp = model.config.paddedVocabularySize
        var worst = 0.0
        for row in 0..<(B * T) {
            let fast = model.logits(row: row)
            for v in 0..<60 { worst = max(worst, abs(Double(fast[v]) - reference.logits[row * Vp + v])) }
        }
        XCTAssertLessThan(worst, 1e-5, "largest logit difference \(worst)")
    }

    func testEveryParameterGradientMatchesFiniteDifferences() throws {
        let model = try tinyModel()
        let config = model.config
        let inputs = randomTokens(B * T, vocabulary: 60, seed: 3), targets = randomTokens(B * T, vocabulary: 60, seed: 4)
        _ = try model.forwardBackward(inputs: inputs, targets: targets, B: B, T: T, gradientWrite: .overwrite)
        let gradients = model.gradients()
        var parameters = GPT2Reference.parameters(model.parameters, as: Double.self)
        var rng = SplitMix64(seed: 5)
        for (i, spec) in config.parameterSpecs.enumerated() {
            let usable = spec.name == "wte.weight" ? config.vocabularySize * config.channels : spec.count
            let sample = (0..<min(usable, 10)).map { _ in rng.nextInt(below: usable) }
            let original = parameters[spec.name]!
            let numeric = numericalGradient(original, indices: sample, eps: 1e-5) { values in
                parameters[spec.name] = values
                return GPT2Reference.forward(config: config, parameters: parameters, inputs: inputs, targets: targets, B: B, T: T).loss!
            }
            parameters[spec.name] = original
            let analytic = sample.map { Double(gradients.view(i)[$0]) }
            XCTAssertLessThan(relativeError(analytic, numeric), 1e-2, "gradient of \(spec.name): \(analytic) vs \(numeric)")
            if spec.name == "wte.weight" {
                let padding = gradients.view(i)[usable...]
                XCTAssertTrue(padding.allSatisfy { $0 == 0 }, "padded vocabulary rows get zero gradient")
            }
        }
    }

    func testAccumulationAddsMicroBatches() throws {
        let model = try tinyModel()
        let a = randomTokens(B * T, vocabulary: 60, seed: 6), b = randomTokens(B * T, vocabulary: 60, seed: 7)
        _ = try model.forwardBackward(inputs: a, targets: b, B: B, T: T, gradientWrite: .overwrite)
        let single = Array(model.gradients().flat)
        _ = try model.forwardBackward(inputs: a, targets: b, B: B, T: T, gradientWrite: .overwrite, lossScale: 0.5)
        _ = try model.forwardBackward(inputs: a, targets: b, B: B, T: T, gradientWrite: .accumulate, lossScale: 0.5)
        XCTAssertLessThan(maxAbsDifference(Array(model.gradients().flat), doubles(single)), 1e-6)
    }

    func testRejectsOutOfRangeTokensAndLongSequences() throws {
        let model = try tinyModel()
        assertEngineError(.tokenOutOfRange, mentions: ["60"]) {
            _ = try model.forward(inputs: [Int32](repeating: 60, count: 4), targets: [Int32](repeating: 0, count: 4), B: 1, T: 4)
        }
        assertEngineError(.invalidArgument, mentions: ["context 8"]) {
            _ = try model.forward(inputs: [Int32](repeating: 0, count: 9), targets: [Int32](repeating: 0, count: 9), B: 1, T: 9)
        }
    }

    func testGPT2SmallParameterCountAndFLOPFormula() {
        let c = GPT2Config.gpt2Small
        XCTAssertEqual(c.parameterCount, 124_439_808)
        XCTAssertEqual(c.paddedVocabularySize, 50304)
        // 24·L·C² + 4·L·C·T + 2·V·C with L=12, C=768, T=1024, V=50257.
        let blocks: Double = 24 * 12 * 768 * 768
        let head: Double = 2 * 50257 * 768
        let attentionPerKey: Double = 4 * 12 * 768
        XCTAssertEqual(c.flopsPerToken(.decode, context: 1024), blocks + attentionPerKey * 1024 + head)
        let perToken64: Double = blocks + attentionPerKey * 64 + head
        XCTAssertEqual(c.trainingStepFLOPs(B: 4, T: 64), 3 * 256 * perToken64)
    }
}

/// Dropout: masks drawn from a seed, applied in training only, and a backward consistent with its forward.
final class DropoutTests: EngineTestCase {
    let B = 2, T = 5

    func testMaskKeepsAboutOneMinusPAndScalesByItsInverse() {
        let mask = Buffer(count: 100_000)
        Dropout.fillMask(mask.p, p: 0.25, seed: 9)
        let kept = mask.array.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 100_000, 0.75, accuracy: 0.01, "binomial sd is 0.0014")
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        let again = Buffer(count: 100_000)
        Dropout.fillMask(again.p, p: 0.25, seed: 9)
        XCTAssertEqual(mask.array, again.array, "same seed, same mask")
    }

    func testDropoutChangesTrainingLossOnlyAndIsReproducible() throws {
        let model = try tinyModel()
        let inputs = randomTokens(B * T, vocabulary: 60, seed: 31), targets = randomTokens(B * T, vocabulary: 60, seed: 32)
        let plain = try model.forwardBackward(inputs: inputs, targets: targets, B: B, T: T, gradientWrite: .overwrite)
        let evaluation = try model.forward(inputs: inputs, targets: targets, B: B, T: T)
        model.dropout = 0.3
        model.dropoutSeed = 77
        let dropped = try model.forwardBackward(inputs: inputs, targets: targets, B: B, T: T, gradientWrite: .overwrite)
        let grads = Array(model.gradients().flat)
        XCTAssertNotEqual(dropped, plain)
        XCTAssertEqual(try model.forward(inputs: inputs, targets: targets, B: B, T: T), evaluation, "evaluation never drops")
        let again = try model.forwardBackward(inputs: inputs, targets: targets, B: B, T: T, gradientWrite: .overwrite)
        XCTAssertEqual(again, dropped)
        XCTAssertEqual(Array(model.gradients().flat), grads)
    }

    /// With the masks fixed by the seed, the loss is a smooth function of the parameters, so each tensor's analytic
    /// gradient must predict the loss's change along itself: (L(θ + εu) − L(θ − εu)) / 2ε ≈ |∇_W L| for
    /// u = ∇_W L / |∇_W L| on tensor W alone. A backward that ignored a mask gets the projections' tensors wrong.
    func testBackwardWithDropoutMatchesDirectionalFiniteDifferencesPerTensor() throws {
        let model = try tinyModel()
        let inputs = randomTokens(B * T, vocabulary: 60, seed: 41), targets = randomTokens(B * T, vocabulary: 60, seed: 42)
        model.dropout = 0.3
        model.dropoutSeed = 5
        _ = try model.forwardBackward(inputs: inputs, targets: targets, B: B, T: T, gradientWrite: .overwrite)
        let gradients = model.gradients()
        var checked = 0
        for (i, spec) in model.config.parameterSpecs.enumerated() {
            let g = gradients.view(i).map(Double.init)
            let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 1e-3 else { continue }
            let view = model.parameters.view(i)
            let theta = Array(view)
            func loss(_ step: Double) throws -> Double {
                for j in 0..<theta.count { view[j] = theta[j] + Float(step * g[j] / norm) }
                return Double(try model.forwardBackward(inputs: inputs, targets: targets, B: B, T: T, gradientWrite: .overwrite))
            }
            let eps = 1e-2
            let numeric = (try loss(eps) - loss(-eps)) / (2 * eps)
            for j in 0..<theta.count { view[j] = theta[j] }
            XCTAssertEqual(numeric, norm, accuracy: 3e-2 * norm, "\(spec.name): directional derivative \(numeric) vs |∇| \(norm)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, model.config.parameterSpecs.count / 2)
    }
}
