@testable import Engine
import XCTest

/// KV-cached prefill/decode against recomputing the whole sequence, batching, sampling and stop rules.
final class InferenceTests: EngineTestCase {
    func fullLogits(_ model: GPT2, _ tokens: [Int32]) throws -> [[Float]] {
        try model.forwardLogits(inputs: tokens, B: 1, T: tokens.count)
        return (0..<tokens.count).map { Array(model.logits(row: $0)) }
    }

    func maxDifference(_ a: UnsafeBufferPointer<Float>, _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max()!
    }

    func testCachedDecodingMatchesFullRecompute() throws {
        let model = try tinyModel(maxSequence: 16)
        let tokens = randomTokens(12, vocabulary: 60, seed: 1)
        let full = try fullLogits(model, tokens)
        let session = InferenceSession(model: model, maxBatch: 1, maxChunk: 3)
        let prefill = try session.prefill(sequence: 0, tokens: Array(tokens[0..<5]))
        var worst = maxDifference(prefill, full[4])
        for t in 5..<12 {
            try session.decode([(sequence: 0, token: tokens[t])])
            worst = max(worst, maxDifference(session.logits(at: 0), full[t]))
        }
        XCTAssertLessThan(worst, 1e-4, "largest logit difference \(worst)")
        XCTAssertEqual(session.lengths[0], 12)
    }

    func testBatchedDecodeMatchesSeparateSequences() throws {
        let model = try tinyModel(maxSequence: 16)
        let a = randomTokens(9, vocabulary: 60, seed: 2), b = randomTokens(6, vocabulary: 60, seed: 3)
        let fullA = try fullLogits(model, a), fullB = try fullLogits(model, b)
        let session = InferenceSession(model: model, maxBatch: 2, maxChunk: 8)
        _ = try session.prefill(sequence: 0, tokens: Array(a[0..<4]))
        _ = try session.prefill(sequence: 1, tokens: Array(b[0..<2]))
        var worst: Float = 0
        for step in 0..<4 {
            try session.decode([(sequence: 0, token: a[4 + step]), (sequence: 1, token: b[2 + step])])
            worst = max(worst, maxDifference(session.logits(at: 0), fullA[4 + step]), maxDifference(session.logits(at: 1), fullB[2 + step]))
        }
        XCTAssertLessThan(worst, 1e-4)
    }

    func testGenerationIsReproducibleAndBatchMatchesSingles() throws {
        let model = try tinyModel(maxSequence: 32)
        let prompts = [randomTokens(4, vocabulary: 60, seed: 4), randomTokens(7, vocabulary: 60, seed: 5)]
        let options = GenerationOptions(maxNewTokens: 10, sampling: SamplingOptions(temperature: 0.9, topK: 20, topP: 0.95), seed: 42)
        let batched = try Generator(model: model, maxBatch: 2).generate(prompts: prompts, options: options).outputs
        let again = try Generator(model: model, maxBatch: 2).generate(prompts: prompts, options: options).outputs
        XCTAssertEqual(batched.map(\.tokens), again.map(\.tokens))
        var second = options
        second.seed = 43
        let single = try Generator(model: model).generate(prompts: [prompts[1]], options: second).outputs[0]
        XCTAssertEqual(single.tokens, batched[1].tokens, "sequence i samples with seed + i whether batched or not")
        XCTAssertEqual(batched[0].tokens.count, 10)
        XCTAssertEqual(batched[0].stopReason, .maxTokens)
    }

    func testGreedyStopTokenAndContextLimit() throws {
        let model = try tinyModel(maxSequence: 12)
        let prompt = randomTokens(5, vocabulary: 60, seed: 6)
        let greedy = try Generator(model: model).generate(
            prompts: [prompt], options: GenerationOptions(maxNewTokens: 20, sampling: .greedy)
        ).outputs[0]
        XCTAssertEqual(greedy.stopReason, .contextFull)
        XCTAssertEqual(greedy.tokens.count, 12 - 5 + 1, "the last sampled token needs no cache slot")
        let stop = greedy.tokens[2]
        let stopped = try Generator(model: model).generate(
            prompts: [prompt], options: GenerationOptions(maxNewTokens: 20, sampling: .greedy, stopTokens: [stop])
        ).outputs[0]
        XCTAssertEqual(stopped.stopReason, .stopToken)
        XCTAssertEqual(stopped.tokens, Array(greedy.tokens.prefix { $0 != stop }))
        let sequence = Array(greedy.tokens[1...2])
        let bySequence = try Generator(model: model).generate(
            prompts: [prompt], options: GenerationOptions(maxNewTokens: 20, sampling: .greedy, stopSequences: [sequence])
        ).outputs[0]
        XCTAssertEqual(bySequence.stopReason, .stopSequence)
        let end = (1..<greedy.tokens.count).first { greedy.tokens[$0 - 1] == sequence[0] && greedy.tokens[$0] == sequence[1] }!
        XCTAssertEqual(bySequence.tokens, Array(greedy.tokens[0..<(end - 1)]))
    }

    func testPromptLongerThanContextIsATypedError() throws {
        let model = try tinyModel(maxSequence: 8)
        assertEngineError(.promptTooLong, mentions: ["9 tokens", "context is 8"]) {
            _ = try Generator(model: model).generate(
                prompts: [randomTokens(9, vocabulary: 60, seed: 7)], options: GenerationOptions(maxNewTokens: 1))
        }
        let session = InferenceSession(model: model)
        assertEngineError(.promptTooLong) { _ = try session.prefill(sequence: 0, tokens: randomTokens(9, vocabulary: 60, seed: 8)) }
        assertEngineError(.invalidArgument, mentions: ["empty"]) { _ = try session.prefill(sequence: 0, tokens: []) }
    }

    func testSamplerRules() {
        let logits: [Float] = [0.1, 2.0, 1.9, -1, 0.5]
        logits.withUnsafeBufferPointer { l in
            var sampler = TokenSampler(seed: 1)
            XCTAssertEqual(sampler.sample(logits: l, options: .greedy), 1)
            XCTAssertEqual(sampler.sample(logits: l, options: SamplingOptions(temperature: 1, topK: 1)), 1)
            for _ in 0..<50 {
                let token = sampler.sample(logits: l, options: SamplingOptions(temperature: 1, topK: 2))
                XCTAssertTrue(token == 1 || token == 2)
                XCTAssertEqual(sampler.sample(logits: l, options: SamplingOptions(temperature: 1, topP: 0.3)), 1)
            }
            var a = TokenSampler(seed: 9), b = TokenSampler(seed: 9)
            let drawsA = (0..<20).map { _ in a.sample(logits: l, options: SamplingOptions(temperature: 1.5)) }
            let drawsB = (0..<20).map { _ in b.sample(logits: l, options: SamplingOptions(temperature: 1.5)) }
            XCTAssertEqual(drawsA, drawsB)
            XCTAssertGreaterThan(Set(drawsA).count, 1)
        }
    }
}
