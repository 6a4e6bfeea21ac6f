@testable import Engine
import Foundation
import XCTest

/// The autoencoder, the VAE and the GAN: their losses' gradients against finite differences (the KL term and the
/// reparameterisation, both GAN losses through both networks), FLOP formulas against the products issued, and
/// training that improves each one's quality.
final class GenerativeModelTests: EngineTestCase {
    /// Central differences in Float on a few entries of each tensor, compared with the backward's gradient.
    func assertGradients(
        _ buffer: TensorBuffer, _ gradients: TensorBuffer, name: String, file: StaticString = #filePath, line: UInt = #line,
        loss: () throws -> Float
    ) rethrows {
        for (i, spec) in buffer.layout.specs.enumerated() {
            let view = buffer.view(i), grad = gradients.view(i)
            var worst = 0.0, scale = 0.0
            for j in stride(from: 0, to: spec.count, by: max(1, spec.count / 7)) {
                let saved = view[j], eps: Float = 1e-3
                view[j] = saved + eps
                let up = try loss()
                view[j] = saved - eps
                let down = try loss()
                view[j] = saved
                let numeric = Double(up - down) / Double(2 * eps)
                worst = max(worst, abs(numeric - Double(grad[j])))
                scale = max(scale, abs(numeric))
            }
            XCTAssertLessThan(worst, 2e-2 * max(scale, 1e-2), "\(name): \(spec.name)", file: file, line: line)
        }
    }

    func testAutoencoderAndVAEGradientsMatchFiniteDifferences() throws {
        for variational in [false, true] {
            let config = AutoencoderConfig(variational: variational, window: 4, embedding: 3, hidden: 8, latent: 2, vocabularySize: 7)
            let model = try Autoencoder(config: config, seed: 3)
            model.dropoutSeed = 9
            let batch = Batch.reconstruction(tokens: randomTokens(12, vocabulary: 7, seed: 4), B: 3, T: 4)
            _ = try model.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1)
            let gradients = TensorBuffer(layout: model.parameters.layout)
            gradients.copy(from: model.gradients())
            // The training loss with the same noise (dropoutSeed) as the backward's.
            try assertGradients(model.parameters, gradients, name: variational ? "vae" : "ae") {
                try model.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1)
            }
        }
    }

    func testRecurrentCellsGradientsMatchFiniteDifferences() throws {
        // Every cell through backpropagation through time, with dropout between the layers.
        for cell in RecurrentCellKind.allCases {
            let model = try RecurrentLanguageModel(
                config: RecurrentConfig(cell: cell, layers: 2, embedding: 5, hidden: 6, vocabularySize: 11, maxSequence: 8), seed: 2)
            model.dropout = 0.25
            model.dropoutSeed = 4
            let batch = Batch.nextToken(
                inputs: randomTokens(15, vocabulary: 11, seed: 5), targets: randomTokens(15, vocabulary: 11, seed: 6), B: 3, T: 5)
            _ = try model.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1)
            let gradients = TensorBuffer(layout: model.parameters.layout)
            gradients.copy(from: model.gradients())
            try assertGradients(model.parameters, gradients, name: cell.rawValue) {
                try model.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1)
            }
        }
    }

    func testBadShapesAndCheckpointsAreRefused() throws {
        assertEngineError(.invalidConfiguration, mentions: ["windows of 8", "--seq 8"]) {
            try WindowReconstruction(window: 8).check(sequence: 16, context: 8)
        }
        assertEngineError(.invalidConfiguration, mentions: ["--latent", "gpt2"]) {
            _ = try ModelShape(architecture: .gpt2, latent: 4).configuration(vocabularySize: 256, maxSequence: 16)
        }
        assertEngineError(.invalidConfiguration, mentions: ["--heads", "lstm"]) {
            _ = try ModelShape(architecture: .lstm, heads: 4).configuration(vocabularySize: 256, maxSequence: 16)
        }
        assertEngineError(.invalidConfiguration, mentions: ["non-positive"]) {
            try RecurrentConfig(cell: .gru, layers: 0, embedding: 4, hidden: 4, vocabularySize: 8, maxSequence: 8).validate()
        }
        let directory = temporaryDirectory()
        let gan = try GAN(config: GANConfig(dimension: 3, noise: 2, hidden: 6, window: 4, vocabularySize: 10), seed: 1)
        try gan.save(path: directory + "/gan.safetensors", tokenizer: "byte")
        let (loaded, info) = try Checkpoint.load(path: directory + "/gan.safetensors")
        XCTAssertEqual(info.config.architecture, .gan)
        XCTAssertEqual(Array((loaded as! GAN).generator.flat), Array(gan.generator.flat))
        let lstm = try RecurrentLanguageModel(
            config: RecurrentConfig(cell: .lstm, layers: 1, embedding: 4, hidden: 4, vocabularySize: 8, maxSequence: 8), seed: 1)
        try lstm.save(path: directory + "/lstm.safetensors", tokenizer: "byte")
        XCTAssertEqual(try Checkpoint.load(path: directory + "/lstm.safetensors").info.config, .recurrent(lstm.config))
        // A config.json beside a PyTorch file that disagrees with its tensors.
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pytorch/gru")
        try FileManager.default.createDirectory(atPath: directory + "/gru", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: fixtures.appendingPathComponent("model.safetensors").path, toPath: directory + "/gru/model.safetensors")
        try #"{"model_type": "gru", "hidden_size": 64}"#.write(toFile: directory + "/gru/config.json", atomically: false, encoding: .utf8)
        assertEngineError(.checkpointMismatch, mentions: ["hidden_size 64", "32"]) {
            _ = try Checkpoint.load(path: directory + "/gru/model.safetensors")
        }
        try #"{"model_type": "rnn", "nonlinearity": "relu"}"#.write(
            toFile: directory + "/gru/config.json", atomically: false, encoding: .utf8)
        assertEngineError(.invalidConfiguration, mentions: ["nonlinearity relu", "tanh"]) {
            _ = try Checkpoint.load(path: directory + "/gru/model.safetensors")
        }
    }

    func testDecodingMoreSequencesThanAChunkHasRows() throws {
        // A decode call has one row per sequence: more sequences than the prefill chunk's rows must fit.
        let lstm = try RecurrentLanguageModel(
            config: RecurrentConfig(cell: .lstm, layers: 1, embedding: 8, hidden: 8, vocabularySize: 20, maxSequence: 16), seed: 1)
        let t5 = try T5(config: EncoderModelTests.t5Config, seed: 2)
        for model in [lstm as any DecodingModel, t5] {
            let session = InferenceSession(model: model, maxBatch: 6, maxChunk: 2)
            for s in 0..<6 {
                if model is T5 { try session.setSource(sequence: s, tokens: [3, 4, 5]) }
                _ = try session.prefill(sequence: s, tokens: [1, 2])
            }
            try session.decode((0..<6).map { (sequence: $0, token: Int32($0 + 1)) })
            XCTAssertTrue((0..<6).allSatisfy { session.logits(at: $0).allSatisfy(\.isFinite) }, "\(type(of: model))")
        }
    }

    func testQuantisingADivergedModelIsRefused() throws {
        let gpt2 = try GPT2(config: GPT2Config(layers: 1, channels: 32, heads: 2, vocabularySize: 40, maxSequence: 8), seed: 1)
        gpt2.parameters["h.0.mlp.c_fc.weight"][5] = .nan
        assertEngineError(.invalidArgument, mentions: ["h.0.mlp.c_fc.weight", "NaN"]) { try gpt2.quantize(.int8) }
    }

    func testGaussianLatentKLAndReparameterisationGradients() {
        let B = 2, Z = 3
        var moments = randomFloats(B * 2 * Z, seed: 5), noise = randomFloats(B * Z, seed: 6)
        let dz = randomFloats(B * Z, seed: 7), klScale: Float = 0.3
        func loss() -> Double {
            var z = [Float](repeating: 0, count: B * Z)
            let kl = GaussianLatent.forward(z: &z, moments: moments, noise: noise, B: B, Z: Z)
            return zip(z, dz).reduce(0) { $0 + Double($1.0 * $1.1) } + Double(klScale) * kl
        }
        var analytic = [Float](repeating: 0, count: B * 2 * Z)
        GaussianLatent.backward(dmoments: &analytic, dz: dz, moments: moments, noise: noise, klScale: klScale, B: B, Z: Z)
        for i in 0..<moments.count {
            let saved = moments[i]
            moments[i] = saved + 1e-3
            let up = loss()
            moments[i] = saved - 1e-3
            let down = loss()
            moments[i] = saved
            XCTAssertEqual(Double(analytic[i]), (up - down) / 2e-3, accuracy: 1e-3, "moment \(i)")
        }
        // KL(N(0, 1) ‖ N(0, 1)) = 0 and grows with |μ| and with log σ² away from 0.
        var z = [Float](repeating: 0, count: 1)
        XCTAssertEqual(GaussianLatent.forward(z: &z, moments: [0, 0], noise: [0], B: 1, Z: 1), 0, accuracy: 1e-9)
        XCTAssertEqual(GaussianLatent.forward(z: &z, moments: [2, 0], noise: [0], B: 1, Z: 1), 2, accuracy: 1e-6, "½μ²")
        noise.removeAll()
    }

    func testGANLossGradientsMatchFiniteDifferences() throws {
        let config = GANConfig(dimension: 3, noise: 2, hidden: 6, window: 4, vocabularySize: 10)
        let gan = try GAN(config: config, seed: 5)
        let real = Batch.vectors(inputs: randomFloats(4 * 3, seed: 6), targets: nil, B: 4, D: 3)
        _ = try gan.discriminatorStep(real: real, seed: 7)
        let dGradients = TensorBuffer(layout: gan.discriminator.layout)
        dGradients.copy(from: gan.discriminatorGradients())
        try assertGradients(gan.discriminator, dGradients, name: "discriminator loss") { try gan.discriminatorStep(real: real, seed: 7) }
        _ = try gan.generatorStep(samples: 4, seed: 8)
        let gGradients = TensorBuffer(layout: gan.generator.layout)
        gGradients.copy(from: gan.generatorGradients())
        try assertGradients(gan.generator, gGradients, name: "generator loss (through the discriminator)") {
            try gan.generatorStep(samples: 4, seed: 8)
        }
    }

    func testFLOPFormulasMatchTheProductsIssued() throws {
        let ae = try Autoencoder(
            config: AutoencoderConfig(variational: true, window: 4, embedding: 3, hidden: 8, latent: 2, vocabularySize: 7), seed: 1)
        let batch = Batch.reconstruction(tokens: randomTokens(12, vocabulary: 7, seed: 2), B: 3, T: 4)
        XCTAssertEqual(
            Double(try BLAS.countingFLOPs { _ = try ae.loss(batch) }),
            ae.config.forwardFLOPs(tokens: 12, attentionContext: 4, logitRows: 12))
        XCTAssertEqual(
            Double(try BLAS.countingFLOPs { _ = try ae.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1) }),
            ae.trainingFLOPs(batch))

        let config = GANConfig(dimension: 3, noise: 2, hidden: 6, window: 4, vocabularySize: 10)
        let gan = try GAN(config: config, seed: 5)
        let real = Batch.vectors(inputs: randomFloats(5 * 3, seed: 6), targets: nil, B: 5, D: 3)
        let issued = try BLAS.countingFLOPs {
            _ = try gan.discriminatorStep(real: real, seed: 7)
            _ = try gan.generatorStep(samples: 5, seed: 8)
        }
        XCTAssertEqual(Double(issued), config.adversarialStepFLOPs(B: 5))

        let lstm = try RecurrentLanguageModel(
            config: RecurrentConfig(cell: .lstm, layers: 2, embedding: 5, hidden: 6, vocabularySize: 11, maxSequence: 8), seed: 1)
        let text = Batch.nextToken(
            inputs: randomTokens(14, vocabulary: 11, seed: 3), targets: randomTokens(14, vocabulary: 11, seed: 4), B: 2, T: 7)
        let padding = Double(2 * (lstm.config.paddedVocabularySize - 11) * 6 * 14)
        let forward = lstm.config.forwardFLOPs(tokens: 14, attentionContext: 7, logitRows: 14)
        // The recurrence has no product at the first step (the state is zero), so a pass issues B·H·G·H·2 less per layer.
        let firstStep = Double(2 * 2 * 2 * 4 * 6 * 6)
        XCTAssertEqual(Double(try BLAS.countingFLOPs { _ = try lstm.loss(text) }), forward + padding - firstStep)
        let training = try BLAS.countingFLOPs { _ = try lstm.lossAndGradients(text, gradientWrite: .overwrite, lossScale: 1) }
        XCTAssertEqual(Double(training), 3 * (forward + padding - firstStep), "BPTT issues exactly twice the forward's products")
    }

    func testTrainingImprovesEachModelsQuality() throws {
        let phrase = Array("the quick brown fox jumps over the lazy dog; ".utf8).map(Int32.init)
        let split = try TokenSplit(tokens: Array((0..<80).flatMap { _ in phrase }), window: 16)
        var options = TrainingOptions()
        options.batch = 16
        options.sequence = 16
        options.steps = 150
        options.learningRate = 3e-3
        options.warmupSteps = 5
        options.evaluationBatches = 2
        for variational in [false, true] {
            let config = AnyModelConfiguration.autoencoder(
                AutoencoderConfig(variational: variational, window: 16, embedding: 8, hidden: 64, latent: 16, vocabularySize: 256))
            let trainer = try Trainer(model: config.makeModel(seed: 3), data: split, options: options)
            let before = try trainer.evaluate(), after = try trainer.run()
            XCTAssertLessThan(after.loss, before.loss * 0.6, "\(config.architecture): \(before.loss) → \(after.loss)")
            if variational { XCTAssertNotNil(after.reconstruction) }
        }
        // The GAN needs varied windows (one repeated phrase gives a few dozen distinct vectors): random words.
        let words = "time light water story night house paper music market garden river window money doctor letter"
            .split(separator: " ").map { Array($0.utf8) }
        var random = SplitMix64(seed: 5)
        let text = (0..<6000).flatMap { _ in words[random.nextInt(below: words.count)] + [32] }.map(Int32.init)
        var ganOptions = AdversarialTrainer.defaultOptions
        ganOptions.steps = 450
        ganOptions.batch = 64
        ganOptions.sequence = 16
        ganOptions.evaluationBatches = 4
        let gan = AnyModelConfiguration.gan(GANConfig(dimension: 4, noise: 4, hidden: 64, window: 16, vocabularySize: 256))
        let trainer = try AdversarialTrainer(
            model: gan.makeAdversarialModel(seed: 3), data: try TokenSplit(tokens: text, window: 16), options: ganOptions)
        let before = try XCTUnwrap(try trainer.evaluate().discrepancy), after = try XCTUnwrap(try trainer.run().discrepancy)
        XCTAssertLessThan(after, before * 0.5, "MMD² \(before) → \(after)")
    }
}
