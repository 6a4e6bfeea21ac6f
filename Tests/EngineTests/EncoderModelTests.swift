@testable import Engine
import Foundation
import XCTest

/// BERT and T5 beyond the PyTorch fixtures: FLOP formulas against the products actually issued, the objectives'
/// masking and span rules, checkpoints written and read back, configurations refused at load, training that learns.
final class EncoderModelTests: EngineTestCase {
    static let bertConfig = BERTConfig(layers: 2, channels: 32, heads: 4, hidden: 48, vocabularySize: 60, maxSequence: 16, maskTokenID: 59)
    static let t5Config = T5Config(
        layers: 2, decoderLayers: 1, channels: 32, heads: 4, headSize: 6, hidden: 40, vocabularySize: 70, maxSequence: 24, buckets: 8,
        maxDistance: 12, sentinels: 10)

    // MARK: FLOPs

    func testFLOPFormulasMatchTheMultiplyAddsIssued() throws {
        let bert = try BERT(config: Self.bertConfig, seed: 1), c = Self.bertConfig
        let B = 2, T = 7
        let tokens = randomTokens(B * T, vocabulary: 58, seed: 2)
        var targets = [Int32](repeating: -1, count: B * T)
        targets[3] = 5
        let batch = Batch.maskedTokens(inputs: tokens, targets: targets, padding: [UInt8](repeating: 0, count: B * T), B: B, T: T)
        // The decoder sgemm runs over the padded vocabulary; the formula counts the real one.
        let padding = Double(2 * (c.paddedVocabularySize - c.vocabularySize) * c.channels * B * T)
        let forward = c.forwardFLOPs(tokens: B * T, attentionContext: T, logitRows: B * T)
        XCTAssertEqual(Double(try BLAS.countingFLOPs { _ = try bert.loss(batch) }), forward + padding)
        XCTAssertEqual(
            Double(try BLAS.countingFLOPs { _ = try bert.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1) }),
            3 * (forward + padding), "training issues exactly 3× the forward")
        XCTAssertEqual(bert.trainingFLOPs(batch), 3 * forward)
        let pooler = Double(2 * B * c.channels * c.channels)
        XCTAssertEqual(
            Double(try BLAS.countingFLOPs { _ = try bert.encode(EncoderInput(tokens: tokens, B: B, T: T), logits: false) }),
            c.encoderFLOPs(tokens: B * T, context: T) + pooler, "encode: the stack, plus the pooler (per sequence, not counted)")

        let t5 = try T5(config: Self.t5Config, seed: 3), d = Self.t5Config
        XCTAssertNotEqual(d.attentionWidth, d.channels)
        let S = 9, U = 5
        let source = randomTokens(B * S, vocabulary: 60, seed: 4), inputs = randomTokens(B * U, vocabulary: 60, seed: 5)
        let pair = Batch.sequenceToSequence(source: source, inputs: inputs, targets: inputs, B: B, S: S, T: U)
        let logitPadding = Double(2 * (d.paddedVocabularySize - d.vocabularySize) * d.channels * B * U)
        let t5Forward =
            d.encoderFLOPs(tokens: B * S, context: S) + d.crossKeyValueFLOPs(tokens: B * S)
            + d.decoderFLOPs(tokens: B * U, selfContext: U, sourceLength: S, logitRows: B * U)
        XCTAssertEqual(
            Double(try BLAS.countingFLOPs { _ = try t5.encode(EncoderInput(tokens: source, B: B, T: S), logits: false) }),
            d.encoderFLOPs(tokens: B * S, context: S), "encode: the encoder stack alone")
        XCTAssertEqual(Double(try BLAS.countingFLOPs { _ = try t5.loss(pair) }), t5Forward + logitPadding)
        XCTAssertEqual(
            Double(try BLAS.countingFLOPs { _ = try t5.lossAndGradients(pair, gradientWrite: .overwrite, lossScale: 1) }),
            3 * (t5Forward + logitPadding))
        XCTAssertEqual(t5.trainingFLOPs(pair), d.trainingStepFLOPs(B: B, S: S, T: U))
        XCTAssertEqual(d.trainingStepFLOPs(B: B, S: S, T: U), 3 * t5Forward)

        // Cached inference: the encoder (with every decoder layer's cross keys and values) once, then decoder rows only.
        let session = InferenceSession(model: t5, maxBatch: 1, maxChunk: 4)
        let encoded = try BLAS.countingFLOPs { try session.setSource(sequence: 0, tokens: Array(source[0..<S])) }
        XCTAssertEqual(Double(encoded), d.sourceFLOPs(tokens: S))
        let headPadding = Double(2 * (d.paddedVocabularySize - d.vocabularySize) * d.channels)
        let prefill = try BLAS.countingFLOPs { _ = try session.prefill(sequence: 0, tokens: [0, 5, 6]) }
        XCTAssertEqual(Double(prefill), d.decoderFLOPs(tokens: 3, selfContext: 3, sourceLength: S, logitRows: 1) + headPadding)
        let step = try BLAS.countingFLOPs { try session.decode([(sequence: 0, token: 7)]) }
        XCTAssertEqual(Double(step), d.decoderFLOPs(tokens: 1, selfContext: 4, sourceLength: S, logitRows: 1) + headPadding)
        XCTAssertEqual(session.executedFLOPs, d.sourceFLOPs(tokens: S) + Double(prefill + step) - 2 * headPadding)
    }

    // MARK: Objectives

    func testMaskedLanguageModelingMasksFifteenPercentEightyTenTen() {
        let objective = MaskedLanguageModeling(maskTokenID: 257, randomTokenLimit: 256)
        var random = SplitMix64(seed: 1)
        let T = 100, rows = 400
        let windows = (0..<rows).map { r in ArraySlice(randomTokens(T, vocabulary: 256, seed: UInt64(r + 10))) }
        guard
            case let .maskedTokens(inputs, targets, padding, _, B, length) = objective.batch(windows: windows, sequence: T, random: &random)
        else { return XCTFail("not a masked-token batch") }
        XCTAssertEqual(B, rows)
        XCTAssertEqual(length, T)
        XCTAssertEqual(padding, [UInt8](repeating: 0, count: rows * T))
        var masked = 0, kept = 0, replaced = 0
        for r in 0..<rows {
            let original = Array(windows[r])
            XCTAssertEqual((0..<T).filter { targets[r * T + $0] >= 0 }.count, 15, "round(0.15 · 100) positions per window")
            for t in 0..<T {
                let i = r * T + t
                if targets[i] < 0 {
                    XCTAssertEqual(inputs[i], original[t], "an unchosen position is left alone")
                    continue
                }
                XCTAssertEqual(targets[i], original[t], "the target is the original token")
                if inputs[i] == 257 { masked += 1 } else if inputs[i] == original[t] { kept += 1 } else { replaced += 1 }
                XCTAssertLessThan(inputs[i], 258)
            }
        }
        let chosen = Double(masked + kept + replaced)
        XCTAssertEqual(Double(masked) / chosen, 0.8, accuracy: 0.02)
        XCTAssertEqual(Double(replaced) / chosen, 0.1, accuracy: 0.02)
        XCTAssertEqual(Double(kept) / chosen, 0.1, accuracy: 0.02, "kept, or replaced by itself (1 in 256)")
        XCTAssertThrowsError(try MaskedLanguageModeling(maskTokenID: nil, randomTokenLimit: 10).check(sequence: 8, context: 8))
    }

    func testSpanCorruptionCutsSpansThatTheTargetsRestore() throws {
        let objective = SpanCorruption(firstSentinelID: 299, sentinels: 40, endOfSequenceID: 257, decoderStartID: 256)
        for T in [2, 3, 16, 64, 128] {
            let (noise, spans) = objective.counts(sequence: T)
            XCTAssertEqual(noise, min(max(1, Int((Double(T) * 0.15).rounded())), T - 1))
            XCTAssertEqual(spans, min(noise, max(1, Int((Double(noise) / 3).rounded()))))
            var random = SplitMix64(seed: UInt64(T))
            let windows = (0..<20).map { ArraySlice(randomTokens(T, vocabulary: 256, seed: UInt64(T * 100 + $0))) }
            guard
                case let .sequenceToSequence(source, _, inputs, targets, B, S, U) = objective.batch(
                    windows: windows, sequence: T, random: &random)
            else { return XCTFail("not a sequence-to-sequence batch") }
            XCTAssertEqual(B, 20)
            XCTAssertEqual(S, objective.lengths(sequence: T).source)
            XCTAssertEqual(U, objective.lengths(sequence: T).target)
            for b in 0..<B {
                let encoder = Array(source[(b * S)..<(b * S + S)]), decoder = Array(targets[(b * U)..<(b * U + U)])
                XCTAssertEqual(encoder.last, 257)
                XCTAssertEqual(decoder.last, 257)
                XCTAssertEqual(
                    Array(inputs[(b * U)..<(b * U + U)]), [256] + decoder.dropLast(), "decoder inputs are the targets shifted right")
                // Replacing each sentinel of the source by the span that follows it in the targets gives the window back.
                var spansBySentinel: [Int32: [Int32]] = [:], current: Int32?
                for token in decoder.dropLast() {
                    if token > 257 { current = token; spansBySentinel[token] = [] } else { spansBySentinel[current!]!.append(token) }
                }
                XCTAssertEqual(spansBySentinel.count, spans)
                XCTAssertTrue(spansBySentinel.values.allSatisfy { !$0.isEmpty }, "no empty span")
                let rebuilt = encoder.dropLast().flatMap { $0 > 257 ? spansBySentinel[$0]! : [$0] }
                XCTAssertEqual(rebuilt, Array(windows[b]), "T \(T), example \(b)")
                XCTAssertEqual(encoder.filter { $0 > 257 }, (0..<Int32(spans)).map { 299 - $0 }, "sentinels count down in order")
            }
        }
        assertEngineError(.invalidConfiguration, mentions: ["sentinel", "--seq"]) {
            try SpanCorruption(firstSentinelID: 99, sentinels: 2, endOfSequenceID: 1, decoderStartID: 0).check(sequence: 128, context: 128)
        }
        assertEngineError(.invalidConfiguration, mentions: ["sources of 3", "context 2", "--seq"]) {
            try SpanCorruption(firstSentinelID: 99, sentinels: 20, endOfSequenceID: 1, decoderStartID: 0).check(sequence: 2, context: 2)
        }
    }

    // MARK: Checkpoints and configurations

    func testOwnCheckpointsRoundTripWithIdenticalOutputs() throws {
        let directory = temporaryDirectory()
        let bert = try BERT(config: Self.bertConfig, seed: 5)
        let input = EncoderInput(tokens: randomTokens(14, vocabulary: 58, seed: 6), B: 2, T: 7)
        try bert.save(path: directory + "/bert.safetensors", tokenizer: "byte")
        let (loadedBERT, bertInfo) = try Checkpoint.load(path: directory + "/bert.safetensors")
        XCTAssertEqual(bertInfo.config, .bert(Self.bertConfig))
        XCTAssertEqual(bertInfo.assumed, [])
        XCTAssertEqual(
            try XCTUnwrap(loadedBERT as? BERT).encode(input, logits: true).logits, try bert.encode(input, logits: true).logits)

        let t5 = try T5(config: Self.t5Config, seed: 7)
        let pair = Batch.sequenceToSequence(
            source: randomTokens(12, vocabulary: 60, seed: 8), inputs: randomTokens(8, vocabulary: 60, seed: 9),
            targets: randomTokens(8, vocabulary: 60, seed: 10), B: 2, S: 6, T: 4)
        try t5.save(path: directory + "/t5.safetensors", tokenizer: "byte")
        let (loadedT5, t5Info) = try Checkpoint.load(path: directory + "/t5.safetensors")
        XCTAssertEqual(t5Info.config, .t5(Self.t5Config))
        XCTAssertEqual(try XCTUnwrap(loadedT5 as? T5).logits(pair), try t5.logits(pair))
    }

    func testBadConfigurationsAreRefusedWithTheFieldAndAFix() throws {
        var noMask = Self.bertConfig
        noMask.maskTokenID = 60
        assertEngineError(.invalidConfiguration, mentions: ["mask token id 60", "0..<60", "[MASK]"]) { try noMask.validate() }
        var narrow = Self.bertConfig
        narrow.channels = 40
        assertEngineError(.invalidConfiguration, mentions: ["width 40", "multiple of 16", "48"]) { try narrow.validate() }
        var buckets = Self.t5Config
        buckets.buckets = 7
        assertEngineError(.invalidConfiguration, mentions: ["relative_attention_num_buckets 7", "even"]) { try buckets.validate() }
        var distance = Self.t5Config
        distance.maxDistance = 2
        assertEngineError(.invalidConfiguration, mentions: ["relative_attention_max_distance 2"]) { try distance.validate() }
        var shortReach = Self.t5Config
        shortReach.maxDistance = 4
        assertEngineError(.invalidConfiguration, mentions: ["relative_attention_max_distance 4", "decoder"]) { try shortReach.validate() }
        var eos = Self.t5Config
        eos.endOfSequenceTokenID = 70
        assertEngineError(.invalidConfiguration, mentions: ["eos_token_id 70"]) { try eos.validate() }

        // Hugging Face files whose config.json disagrees with the tensors, or asks for what the engine does not compute.
        let directory = temporaryDirectory()
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pytorch")
        func variant(_ architecture: String, _ change: (inout [String: Any]) -> Void) throws -> String {
            let folder = directory + "/\(architecture)-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                atPath: fixtures.appendingPathComponent("\(architecture)/model.safetensors").path, toPath: folder + "/model.safetensors")
            var json =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: fixtures.appendingPathComponent("\(architecture)/config.json"))) as! [String: Any]
            change(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/config.json"))
            return folder + "/model.safetensors"
        }
        let wrongHidden = try variant("bert") { $0["intermediate_size"] = 64 }
        assertEngineError(.checkpointMismatch, mentions: ["intermediate_size 64", "48"]) { _ = try Checkpoint.load(path: wrongHidden) }
        let approximateGELU = try variant("bert") { $0["hidden_act"] = "gelu_new" }
        assertEngineError(.invalidConfiguration, mentions: ["hidden_act gelu_new"]) { _ = try Checkpoint.load(path: approximateGELU) }
        let badMask = try variant("bert") { $0["mask_token_id"] = 103 }
        assertEngineError(.invalidConfiguration, mentions: ["mask token id 103", "0..<60"]) { _ = try Checkpoint.load(path: badMask) }
        let relu = try variant("t5") { $0["feed_forward_proj"] = "relu" }
        assertEngineError(.invalidConfiguration, mentions: ["feed_forward_proj relu", "gated-gelu"]) { _ = try Checkpoint.load(path: relu) }
        let wrongBuckets = try variant("t5") { $0["relative_attention_num_buckets"] = 32 }
        assertEngineError(.checkpointMismatch, mentions: ["relative_attention_num_buckets 32", "8"]) {
            _ = try Checkpoint.load(path: wrongBuckets)
        }
        let heads = try variant("t5") { $0["num_heads"] = 3 }
        assertEngineError(.checkpointMismatch, mentions: ["table has 4 heads", "the model has 3"]) { _ = try Checkpoint.load(path: heads) }
    }

    // MARK: Training

    func testBothLearnAPatternedStreamAndReportAccuracy() throws {
        // A stream with structure: repeated phrases, so both objectives can drop well below chance.
        let phrase = Array("the quick brown fox jumps over the lazy dog; ".utf8).map(Int32.init)
        let stream = Array((0..<60).flatMap { _ in phrase })
        let split = try TokenSplit(tokens: stream, window: 32)
        var options = TrainingOptions()
        options.batch = 8
        options.sequence = 32
        options.steps = 60
        options.learningRate = 3e-3
        options.warmupSteps = 5
        options.evaluationBatches = 2
        for config in [
            AnyModelConfiguration.bert(
                BERTConfig(
                    layers: 2, channels: 32, heads: 2, hidden: 64, vocabularySize: 258, maxSequence: 32, padTokenID: 256, maskTokenID: 257)),
            .t5(
                T5Config(
                    layers: 1, channels: 32, heads: 2, headSize: 16, hidden: 64, vocabularySize: 358, maxSequence: 32, padTokenID: 256,
                    endOfSequenceTokenID: 257, decoderStartTokenID: 256)),
        ] {
            let model = try config.makeModel(seed: 11)
            let trainer = try Trainer(model: model, data: split, options: options)
            let before = try trainer.evaluate()
            let after = try trainer.run()
            let name = config.architecture.rawValue
            XCTAssertLessThan(after.loss, before.loss * 0.6, "\(name): \(before.loss) → \(after.loss)")
            XCTAssertGreaterThan(try XCTUnwrap(after.accuracy), try XCTUnwrap(before.accuracy) + 0.2, name)
            XCTAssertEqual(after.tokens, before.tokens, "\(name): the same positions are scored every evaluation")
        }
    }
}
