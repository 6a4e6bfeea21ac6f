@testable import Engine
import XCTest

/// The fp32 Llama and mixture of experts against the Double reference model (logits, loss with the load-balancing
/// term, every parameter tensor's gradient by central finite differences), and cached decoding against the full pass.
final class LlamaModelTests: EngineTestCase {
    let B = 2, T = 5, V = 60

    static let dense = LlamaConfig(layers: 2, channels: 32, heads: 4, kvHeads: 2, hidden: 48, vocabularySize: 60, maxSequence: 16)
    static let mixture = LlamaConfig(
        layers: 2, channels: 32, heads: 4, kvHeads: 2, hidden: 40, vocabularySize: 60, maxSequence: 16, experts: 4, expertsPerToken: 2,
        routerAuxiliaryLossCoefficient: 0.5)

    /// A model whose every part matters: norm gains away from 1 (a fresh model's are all 1, which would hide a
    /// transposed or missing gain) and matrices 8× the initial scale, so attention is far from uniform and positions
    /// (RoPE) and routing change the logits by much more than rounding does.
    func model(_ config: LlamaConfig, seed: UInt64 = 3) throws -> Llama {
        let model = try Llama(config: config, seed: seed)
        var rng = SplitMix64(seed: seed + 100)
        for (i, spec) in model.parameters.layout.specs.enumerated() {
            let view = model.parameters.view(i)
            if spec.decays {
                for j in view.indices { view[j] *= 8 }
            } else {
                for j in view.indices { view[j] = 1 + 0.3 * (Float(rng.nextInt(below: 2001)) / 1000 - 1) }
            }
        }
        return model
    }

    func reference(_ model: Llama, _ inputs: [Int32], _ targets: [Int32]?) -> (logits: [Double], loss: Double?, auxiliaryLoss: Double?) {
        let r = LlamaReference.forward(
            config: model.config, parameters: GPT2Reference.parameters(model.parameters, as: Double.self), inputs: inputs, targets: targets,
            B: B, T: T)
        return (r.logits, r.loss, r.auxiliaryLoss)
    }

    func checkLogitsAndLoss(_ config: LlamaConfig) throws {
        let model = try model(config)
        let inputs = randomTokens(B * T, vocabulary: V, seed: 1), targets = randomTokens(B * T, vocabulary: V, seed: 2)
        let expected = reference(model, inputs, targets)
        let logits = try model.logits(inputs: inputs, B: B, T: T)
        var worst = 0.0
        for row in 0..<(B * T) {
            for v in 0..<V { worst = max(worst, abs(Double(logits[row * V + v]) - expected.logits[row * config.paddedVocabularySize + v])) }
        }
        XCTAssertLessThan(worst, 1e-5, "\(config.architecture): largest logit difference \(worst)")
        let evaluation = try model.loss(.nextToken(inputs: inputs, targets: targets, B: B, T: T))
        XCTAssertEqual(Double(evaluation), expected.loss!, accuracy: 1e-5, "evaluation loss is the cross-entropy alone")
        let training = try model.lossAndGradients(
            .nextToken(inputs: inputs, targets: targets, B: B, T: T), gradientWrite: .overwrite, lossScale: 1)
        let auxiliary = expected.auxiliaryLoss.map { Double(config.routerAuxiliaryLossCoefficient) * $0 } ?? 0
        XCTAssertEqual(Double(training), expected.loss! + auxiliary, accuracy: 1e-5, "training loss adds the weighted load-balancing loss")
        if config.isMixture {
            XCTAssertEqual(model.lastAuxiliaryLoss!, expected.auxiliaryLoss!, accuracy: 1e-6)
            XCTAssertGreaterThan(expected.auxiliaryLoss!, 0.9, "E·Σ fₑ·Pₑ is about 1 for a balanced router (k = 2 doubles it)")
            XCTAssertEqual(model.expertLoad?.reduce(0, +), config.layers * B * T * config.expertsPerToken)
        }
    }

    func testDenseLogitsAndLossMatchDoubleReference() throws { try checkLogitsAndLoss(Self.dense) }
    func testMixtureLogitsAndLossMatchDoubleReference() throws { try checkLogitsAndLoss(Self.mixture) }

    /// Every tensor's analytic gradient against central differences of the reference's training loss (cross-entropy
    /// plus the weighted load-balancing loss); routing is piecewise constant, so steps are small enough not to flip it.
    func checkGradients(_ config: LlamaConfig) throws {
        let model = try model(config)
        let inputs = randomTokens(B * T, vocabulary: V, seed: 3), targets = randomTokens(B * T, vocabulary: V, seed: 4)
        _ = try model.lossAndGradients(.nextToken(inputs: inputs, targets: targets, B: B, T: T), gradientWrite: .overwrite, lossScale: 1)
        let gradients = model.gradients()
        var parameters = GPT2Reference.parameters(model.parameters, as: Double.self)
        var rng = SplitMix64(seed: 5)
        let coefficient = Double(config.routerAuxiliaryLossCoefficient)
        for (i, spec) in config.parameterSpecs.enumerated() {
            let vocabularyRows = spec.name == "model.embed_tokens.weight" || spec.name == "lm_head.weight"
            let usable = vocabularyRows ? V * config.channels : spec.count
            let sample = (0..<min(usable, 6)).map { _ in rng.nextInt(below: usable) }
            let original = parameters[spec.name]!
            let numeric = numericalGradient(original, indices: sample, eps: 1e-5) { values in
                parameters[spec.name] = values
                let r = LlamaReference.forward(config: config, parameters: parameters, inputs: inputs, targets: targets, B: B, T: T)
                return r.loss! + coefficient * (r.auxiliaryLoss ?? 0)
            }
            parameters[spec.name] = original
            let analytic = sample.map { Double(gradients.view(i)[$0]) }
            XCTAssertLessThan(
                relativeError(analytic, numeric), 1e-2, "\(config.architecture) gradient of \(spec.name): \(analytic) vs \(numeric)")
            if vocabularyRows {
                XCTAssertTrue(
                    gradients.view(i)[usable...].allSatisfy { $0 == 0 }, "padded vocabulary rows of \(spec.name) get zero gradient")
            }
        }
    }

    func testDenseGradientsMatchFiniteDifferences() throws { try checkGradients(Self.dense) }
    func testMixtureGradientsMatchFiniteDifferences() throws { try checkGradients(Self.mixture) }

    func testAccumulationAddsMicroBatchesIncludingTheRouterLoss() throws {
        let model = try model(Self.mixture)
        let a = randomTokens(B * T, vocabulary: V, seed: 6), b = randomTokens(B * T, vocabulary: V, seed: 7)
        let batch = Batch.nextToken(inputs: a, targets: b, B: B, T: T)
        _ = try model.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1)
        let single = Array(model.gradients().flat)
        _ = try model.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 0.5)
        _ = try model.lossAndGradients(batch, gradientWrite: .accumulate, lossScale: 0.5)
        XCTAssertLessThan(maxAbsDifference(Array(model.gradients().flat), doubles(single)), 1e-6)
    }

    /// Prefill in chunks then one token at a time, two sequences batched: the logits of the whole-sequence pass.
    func checkCachedDecoding(_ config: LlamaConfig) throws {
        let model = try model(config)
        let a = randomTokens(11, vocabulary: V, seed: 8), b = randomTokens(7, vocabulary: V, seed: 9)
        let fullA = try model.logits(inputs: a, B: 1, T: a.count), fullB = try model.logits(inputs: b, B: 1, T: b.count)
        func row(_ all: [Float], _ t: Int) -> ArraySlice<Float> { all[(t * V)..<((t + 1) * V)] }
        func difference(_ cached: UnsafeBufferPointer<Float>, _ full: ArraySlice<Float>) -> Float {
            zip(cached.prefix(V), full).map { abs($0 - $1) }.max()!
        }
        let session = InferenceSession(model: model, maxBatch: 2, maxChunk: 3)
        var worst = difference(try session.prefill(sequence: 0, tokens: Array(a[0..<5])), row(fullA, 4))
        worst = max(worst, difference(try session.prefill(sequence: 1, tokens: Array(b[0..<2])), row(fullB, 1)))
        for step in 0..<5 {
            try session.decode([(sequence: 0, token: a[5 + step]), (sequence: 1, token: b[2 + step])])
            worst = max(
                worst, difference(session.logits(at: 0), row(fullA, 5 + step)), difference(session.logits(at: 1), row(fullB, 2 + step)))
        }
        XCTAssertLessThan(worst, 1e-4, "\(config.architecture): largest logit difference \(worst)")
    }

    func testDenseCachedDecodingMatchesFullPass() throws { try checkCachedDecoding(Self.dense) }
    func testMixtureCachedDecodingMatchesFullPass() throws { try checkCachedDecoding(Self.mixture) }

    func testDecodeStateCachesOnlyTheKeyValueHeads() throws {
        let c = Self.dense
        XCTAssertEqual(c.cacheFloatsPerPosition, 2 * c.layers * c.kvHeads * c.headSize)
        let state = try model(c).makeDecodeState(maxBatch: 1, maxChunk: 1) as! LlamaDecodeState
        XCTAssertEqual(state.kCache.count, c.layers * c.maxSequence * c.kvHeads * c.headSize)
    }

    func testFLOPsCountOnlyTheActiveExperts() {
        let dense = LlamaConfig.small, mixture = LlamaConfig.smallMixture
        XCTAssertEqual(dense.parameterCount, mixture.activeParameterCount - mixture.layers * mixture.experts * mixture.channels)
        let routerFLOPs = Double(2 * mixture.channels * mixture.experts * mixture.layers)
        XCTAssertEqual(mixture.flopsPerToken(.decode, context: 64), dense.flopsPerToken(.decode, context: 64) + routerFLOPs)
        XCTAssertGreaterThan(mixture.parameterCount, 2 * mixture.activeParameterCount - dense.parameterCount / 2)
    }

    func testBadConfigurationsNameTheFieldAndAValidChoice() {
        func rejects(_ config: LlamaConfig, _ words: [String]) {
            assertEngineError(.invalidConfiguration, mentions: words) { try config.validate() }
        }
        var c = Self.dense
        c.heads = 5
        rejects(c, ["width 32", "heads 5", "e.g. 4"])
        c = Self.dense
        c.channels = 36
        c.heads = 6
        rejects(c, ["width 36", "multiple of 16", "use 48"])
        c = Self.dense
        c.kvHeads = 3
        rejects(c, ["kv heads 3", "divide", "one of 1, 2, 4"])
        c = LlamaConfig(layers: 1, channels: 48, heads: 16, kvHeads: 4, hidden: 48, vocabularySize: 60, maxSequence: 8)
        rejects(c, ["head size 3", "odd"])
        c = Self.mixture
        c.expertsPerToken = 5
        rejects(c, ["experts per token 5", "--experts-per-token", "num_experts_per_tok", "from 1 to 4"])
        XCTAssertThrowsError(try Llama(config: c, seed: 1))
    }

    func testDropoutIsRefusedRatherThanIgnored() throws {
        let model = try model(Self.dense)
        model.dropout = 0.1
        assertEngineError(.invalidArgument, mentions: ["dropout"]) {
            _ = try model.lossAndGradients(
                .nextToken(inputs: [1, 2], targets: [2, 3], B: 1, T: 2), gradientWrite: .overwrite, lossScale: 1)
        }
    }
}
