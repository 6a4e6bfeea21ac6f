@testable import Engine
import XCTest

/// Optimizer pieces and a real (small) training run.
final class TrainingTests: EngineTestCase {
    func testLearningRateScheduleShape() {
        let schedule = LearningRateSchedule(peak: 1e-3, warmupSteps: 10, totalSteps: 110, minimumFraction: 0.1)
        XCTAssertEqual(schedule.rate(at: 0), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(at: 9), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(at: 10), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(at: 60), 5.5e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(at: 110), 1e-4, accuracy: 1e-9)
    }

    /// One step against the scalar formula, in a small layout and in one whose tensors span several of the pass's
    /// pieces (`AdamW.pieceFloats`), with a non-decaying tensor between decaying ones.
    func testAdamWMatchesScalarFormulaAndSkipsDecayWhereStated() {
        let piece = AdamW.pieceFloats
        for specs in [
            [TensorSpec(name: "w", shape: [3, 7], decays: true), TensorSpec(name: "b", shape: [5], decays: false)],
            [
                TensorSpec(name: "w", shape: [piece + 40], decays: true), TensorSpec(name: "b", shape: [77], decays: false),
                TensorSpec(name: "e", shape: [piece / 2 + 3], decays: true),
            ],
        ] {
            let layout = TensorLayout(specs)
            let parameters = TensorBuffer(layout: layout), gradients = TensorBuffer(layout: layout)
            let p0 = randomFloats(layout.count, seed: 1), g = randomFloats(layout.count, seed: 2)
            _ = parameters.flat.update(fromContentsOf: p0)
            _ = gradients.flat.update(fromContentsOf: g)
            let options = AdamWOptions(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)
            let optimizer = AdamW(layout: layout, options: options)
            optimizer.update(parameters: parameters, gradients: gradients, learningRate: 0.01, gradientScale: 0.5)
            for (i, spec) in layout.specs.enumerated() {
                var worst = 0.0
                for j in 0..<spec.count {
                    let index = layout.offsets[i] + j
                    let grad = Double(g[index]) * 0.5
                    let m = 0.1 * grad / 0.1, v = 0.05 * grad * grad / 0.05
                    let decay = spec.decays ? 0.1 : 0
                    let expected = Double(p0[index]) - 0.01 * (m / (v.squareRoot() + 1e-8) + decay * Double(p0[index]))
                    worst = max(worst, abs(Double(parameters.flat[index]) - expected))
                }
                XCTAssertLessThan(worst, 1e-5, "\(spec.name) of \(layout.count) floats")
            }
        }
    }

    /// Three steps with different gradients and a gradient scale against a Double AdamW written out here: after the
    /// first step m̂/√v̂ is no longer ±1, so a wrong scale, bias-correction exponent or moment update shows.
    func testAdamWOverSeveralStepsMatchesADoubleReference() {
        let layout = TensorLayout([TensorSpec(name: "w", shape: [4, 9], decays: true), TensorSpec(name: "b", shape: [6], decays: false)])
        let parameters = TensorBuffer(layout: layout), gradients = TensorBuffer(layout: layout)
        let p0 = randomFloats(layout.count, seed: 11)
        _ = parameters.flat.update(fromContentsOf: p0)
        let optimizer = AdamW(layout: layout, options: AdamWOptions(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1))
        var p = p0.map(Double.init), m = [Double](repeating: 0, count: layout.count), v = m
        // Elements that belong to a tensor (the layout may pad between tensors), with whether each decays.
        let elements = layout.specs.enumerated().flatMap { i, spec in (0..<spec.count).map { (layout.offsets[i] + $0, spec.decays) } }
        for (step, scale) in [(1, 0.5), (2, 2.0), (3, 0.25)] {
            let g = randomFloats(layout.count, seed: UInt64(20 + step))
            _ = gradients.flat.update(fromContentsOf: g)
            optimizer.update(parameters: parameters, gradients: gradients, learningRate: 0.01, gradientScale: Float(scale))
            for (i, decays) in elements {
                let grad = Double(g[i]) * scale
                m[i] = 0.9 * m[i] + 0.1 * grad
                v[i] = 0.95 * v[i] + 0.05 * grad * grad
                let mHat = m[i] / (1 - pow(0.9, Double(step))), vHat = v[i] / (1 - pow(0.95, Double(step)))
                p[i] -= 0.01 * (mHat / (vHat.squareRoot() + 1e-8) + (decays ? 0.1 : 0) * p[i])
            }
            for (i, _) in elements {
                XCTAssertEqual(Double(parameters.flat[i]), p[i], accuracy: 2e-6, "step \(step), element \(i)")
            }
        }
    }

    func testGlobalNormAndClipScale() {
        let layout = TensorLayout([TensorSpec(name: "a", shape: [1000], decays: true), TensorSpec(name: "b", shape: [77], decays: false)])
        let gradients = TensorBuffer(layout: layout)
        let values = randomFloats(layout.count, seed: 3)
        _ = gradients.flat.update(fromContentsOf: values)
        let exact = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(Double(GradientClipping.globalNorm(gradients)), exact, accuracy: 1e-4 * exact)
        XCTAssertEqual(GradientClipping.scale(norm: 0.5, maxNorm: 1), 1)
        XCTAssertEqual(GradientClipping.scale(norm: 4, maxNorm: 1), 0.25, accuracy: 1e-6)
    }

    /// Random sentences over 16 words: text with strong within-word structure but ~4 bits of choice per word.
    func trainingText() -> [UInt8] {
        let words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "park", "and", "we", "saw", "big", "red", "ball"]
        var rng = SplitMix64(seed: 11)
        var text = ""
        while text.utf8.count < 12_000 {
            text += (0..<(4 + rng.nextInt(below: 5))).map { _ in words[rng.nextInt(below: words.count)] }.joined(separator: " ") + ". "
        }
        return Array(text.utf8)
    }

    /// Entropy of the byte distribution in nats: the loss of the best model that ignores context.
    func unigramEntropy(_ bytes: [UInt8]) -> Double {
        var counts = [Int](repeating: 0, count: 256)
        for b in bytes { counts[Int(b)] += 1 }
        return counts.filter { $0 > 0 }.reduce(0.0) { h, c in
            let p = Double(c) / Double(bytes.count)
            return h - p * Foundation.log(p)
        }
    }

    func train(steps: Int) throws -> (losses: [Float], validation: Float) {
        let text = trainingText()
        var options = TrainingOptions()
        options.batch = 8
        options.sequence = 32
        options.steps = steps
        options.learningRate = 3e-3
        options.warmupSteps = 10
        options.evaluationBatches = 4
        options.seed = 5
        let model = try GPT2(
            config: GPT2Config(layers: 2, channels: 48, heads: 4, vocabularySize: 256, maxSequence: 32), seed: options.seed)
        let trainer = try Trainer(
            model: model, data: try TokenSplit(tokens: ByteTokenizer().encode(bytes: text), window: 32), options: options)
        var losses: [Float] = []
        let final = try trainer.run(onStep: { losses.append($0.loss) })
        print("trained \(steps) steps: train loss \(losses.first!) → \(losses.last!), validation \(final.loss)")
        return (losses, final.loss)
    }

    /// Threshold: validation loss below 0.6 × the unigram entropy (≈ 2.6 nats here). Context-free prediction
    /// cannot beat the unigram entropy at all, so a 40 % margin shows the model learned spelling and word
    /// boundaries; the text's true entropy (~4 bits per ~4.6-byte word ≈ 0.6 nats/byte) leaves headroom.
    ///
    /// Determinism: during warmup the learning rate does not depend on the total step count, so two short
    /// runs must reproduce the long run's first losses exactly (same seed, same thread count).
    func testSmallModelLearnsWellBelowUnigramEntropyAndIsDeterministic() throws {
        let entropy = unigramEntropy(trainingText())
        let long = try train(steps: 100)
        XCTAssertLessThan(Double(long.validation), 0.6 * entropy, "validation \(long.validation) vs unigram entropy \(entropy)")
        XCTAssertLessThan(long.losses.last!, long.losses.first!)
        let shortA = try train(steps: 6), shortB = try train(steps: 6)
        XCTAssertEqual(shortA.losses, Array(long.losses.prefix(6)), "identical losses across runs")
        XCTAssertEqual(shortA.losses, shortB.losses)
        XCTAssertEqual(shortA.validation, shortB.validation)
    }

    func testTrainerRejectsBadOptions() throws {
        let model = try tinyModel(vocabulary: 256, maxSequence: 8)
        let split = try TokenSplit(tokens: (0..<400).map { Int32($0 % 256) }, window: 8)
        var options = TrainingOptions()
        options.sequence = 16
        assertEngineError(.invalidArgument, mentions: ["--seq"]) { _ = try Trainer(model: model, data: split, options: options) }
        options.sequence = 8
        options.batch = 0
        assertEngineError(.invalidArgument) { _ = try Trainer(model: model, data: split, options: options) }
    }
}
