@testable import Engine
import XCTest

/// Structured MLP pruning: the pruned model computes exactly what the original does with the removed channels'
/// outgoing weights zeroed, its FLOPs fall by the formula, and its checkpoint reads back as the narrower model.
final class PruningTests: EngineTestCase {
    func testPrunedModelsComputeTheOriginalWithoutTheRemovedChannels() throws {
        let gpt2 = try GPT2(config: GPT2Config(layers: 2, channels: 16, heads: 2, vocabularySize: 40, maxSequence: 8), seed: 3)
        let llama = try Llama(
            config: LlamaConfig(layers: 2, channels: 16, heads: 2, kvHeads: 1, hidden: 64, vocabularySize: 40, maxSequence: 8), seed: 4)
        let tokens = randomTokens(12, vocabulary: 40, seed: 5)
        for model in [gpt2 as any TrainableModel, llama] {
            let (pruned, summary) = try StructuredPruning.pruneMLP(model, fraction: 0.5)
            XCTAssertEqual(summary.widthAfter, summary.widthBefore / 2)
            XCTAssertLessThan(summary.parametersAfter, summary.parametersBefore)
            XCTAssertLessThan(
                pruned.configuration.flopsPerToken(.train, context: 6), model.configuration.flopsPerToken(.train, context: 6))
            // Zero the outgoing weights of the channels the pruned model dropped: the original then computes the same.
            let H = summary.widthBefore
            for l in 0..<model.configuration.layers {
                if let g = model as? GPT2, let p = pruned as? GPT2 {
                    // Channels are identified by their c_fc column (input-major [C, H]).
                    let fc = g.parameters["h.\(l).mlp.c_fc.weight"], pfc = p.parameters["h.\(l).mlp.c_fc.weight"], K = p.config.mlpWidth
                    let kept = Set((0..<K).map { k in (0..<16).map { pfc[$0 * K + k] } })
                    let proj = g.parameters["h.\(l).mlp.c_proj.weight"]
                    for j in 0..<H where !kept.contains((0..<16).map { fc[$0 * H + j] }) { for i in 0..<16 { proj[j * 16 + i] = 0 } }
                } else if let m = model as? Llama, let p = pruned as? Llama {
                    let gate = m.parameters["model.layers.\(l).mlp.gate_proj.weight"],
                        down = m.parameters["model.layers.\(l).mlp.down_proj.weight"]
                    let keptRows = Set(
                        (0..<p.config.hidden).map {
                            Array(p.parameters["model.layers.\(l).mlp.gate_proj.weight"][($0 * 16)..<($0 * 16 + 16)])
                        })
                    for j in 0..<H where !keptRows.contains(Array(gate[(j * 16)..<(j * 16 + 16)])) {
                        for i in 0..<16 { down[i * H + j] = 0 }
                    }
                }
            }
            let batch = Batch.nextToken(inputs: tokens, targets: tokens, B: 2, T: 6)
            XCTAssertEqual(try pruned.loss(batch), try model.loss(batch), accuracy: 1e-5, "\(model.configuration.architecture)")
        }
        let directory = temporaryDirectory()
        let (pruned, _) = try StructuredPruning.pruneMLP(gpt2, fraction: 0.25)
        try pruned.save(path: directory + "/pruned.safetensors", tokenizer: "byte")
        guard case let .gpt2(config) = try Checkpoint.load(path: directory + "/pruned.safetensors").info.config else {
            return XCTFail("not GPT-2")
        }
        XCTAssertEqual(config.mlpWidth, 48, "64 − 25 % from the c_fc shape")
        assertEngineError(.invalidArgument, mentions: ["--mlp 1.5"]) { _ = try StructuredPruning.pruneMLP(gpt2, fraction: 1.5) }
    }

    func testPrunedHeadsComputeTheOriginalWithoutThoseHeads() throws {
        // 4 query heads in 2 key/value groups of head size 8: half the groups go.
        let llama = try Llama(
            config: LlamaConfig(layers: 2, channels: 32, heads: 4, kvHeads: 2, hidden: 48, vocabularySize: 40, maxSequence: 8), seed: 6)
        let (model, summary) = try StructuredPruning.pruneHeads(llama, fraction: 0.5)
        let pruned = try XCTUnwrap(model as? Llama)
        XCTAssertEqual(pruned.config.heads, 2)
        XCTAssertEqual(pruned.config.kvHeads, 1)
        XCTAssertEqual(pruned.config.headSize, 8)
        XCTAssertEqual(summary.widthAfter, 16)
        // Zero the dropped heads' o_proj columns (identified by their q rows): the original then computes the same.
        for l in 0..<2 {
            let q = llama.parameters["model.layers.\(l).self_attn.q_proj.weight"],
                o = llama.parameters["model.layers.\(l).self_attn.o_proj.weight"]
            let keptQ = pruned.parameters["model.layers.\(l).self_attn.q_proj.weight"]
            let kept = Set((0..<16).map { Array(keptQ[($0 * 32)..<($0 * 32 + 32)]) })
            for r in 0..<32 where !kept.contains(Array(q[(r * 32)..<(r * 32 + 32)])) { for i in 0..<32 { o[i * 32 + r] = 0 } }
        }
        let tokens = randomTokens(12, vocabulary: 40, seed: 7)
        let batch = Batch.nextToken(inputs: tokens, targets: tokens, B: 2, T: 6)
        XCTAssertEqual(try pruned.loss(batch), try llama.loss(batch), accuracy: 1e-5)
        // Training, decoding and checkpoints work at the narrower attention.
        _ = try pruned.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1)
        let session = InferenceSession(model: pruned, maxBatch: 1, maxChunk: 6)
        let logits = Array(try session.prefill(sequence: 0, tokens: Array(tokens[0..<6])))
        let full = try pruned.logits(inputs: Array(tokens[0..<6]), B: 1, T: 6)
        XCTAssertLessThan(zip(logits, full[(5 * 40)..<(6 * 40)]).map { abs($0 - $1) }.max()!, 1e-5)
        let directory = temporaryDirectory()
        try pruned.save(path: directory + "/heads.safetensors", tokenizer: "byte")
        XCTAssertEqual(try Checkpoint.load(path: directory + "/heads.safetensors").info.config, .llama(pruned.config))
    }

    /// GPT-2's heads: single heads go, the head size stays, the attention narrows (c_attn [C, 3A'], c_proj [A', C]).
    func testPrunedGPT2HeadsComputeTheOriginalWithoutThoseHeads() throws {
        let C = 32, hs = 8
        let gpt2 = try GPT2(config: GPT2Config(layers: 2, channels: C, heads: 4, vocabularySize: 40, maxSequence: 8), seed: 8)
        let (model, summary) = try StructuredPruning.pruneHeads(gpt2, fraction: 0.5)
        let pruned = try XCTUnwrap(model as? GPT2)
        XCTAssertEqual(pruned.config.heads, 2)
        XCTAssertEqual(pruned.config.headSize, hs)
        XCTAssertEqual(pruned.config.attentionWidth, 16)
        XCTAssertEqual(summary.widthBefore, 32)
        XCTAssertEqual(summary.widthAfter, 16)
        XCTAssertEqual(pruned.parameters["h.0.attn.c_attn.weight"].count, C * 3 * 16)
        XCTAssertLessThan(pruned.configuration.flopsPerToken(.decode, context: 8), gpt2.configuration.flopsPerToken(.decode, context: 8))
        // Zero the dropped heads' rows of c_proj (a head is known by its block of c_proj rows): the original then computes
        // the same, forward and backward.
        for l in 0..<2 {
            let proj = gpt2.parameters["h.\(l).attn.c_proj.weight"], keptProj = pruned.parameters["h.\(l).attn.c_proj.weight"]
            let kept = Set((0..<2).map { Array(keptProj[($0 * hs * C)..<(($0 + 1) * hs * C)]) })
            for h in 0..<4 where !kept.contains(Array(proj[(h * hs * C)..<((h + 1) * hs * C)])) {
                for i in (h * hs * C)..<((h + 1) * hs * C) { proj[i] = 0 }
            }
        }
        let tokens = randomTokens(12, vocabulary: 40, seed: 9)
        let batch = Batch.nextToken(inputs: tokens, targets: tokens, B: 2, T: 6)
        XCTAssertEqual(try pruned.loss(batch), try gpt2.loss(batch), accuracy: 1e-5)
        let reference = GPT2Reference.forward(
            config: pruned.config, parameters: GPT2Reference.parameters(pruned.parameters, as: Double.self), inputs: tokens,
            targets: tokens, B: 2, T: 6)
        XCTAssertEqual(Double(try pruned.loss(batch)), reference.loss!, accuracy: 1e-5, "the Double reference at A ≠ C")
        _ = try pruned.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1)
        _ = try gpt2.lossAndGradients(batch, gradientWrite: .overwrite, lossScale: 1)
        for name in ["wte.weight", "h.0.ln_1.weight", "h.0.mlp.c_fc.weight", "h.1.attn.c_proj.bias"] {
            let a = pruned.gradients()[name], b = gpt2.gradients()[name]
            XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-5, "gradient of \(name) through the narrower attention")
        }
        // Decoding with the cache, in fp32 and in bf16, and the checkpoint at the narrower attention.
        try pruned.forwardLogits(inputs: Array(tokens[0..<6]), B: 1, T: 6)
        let full = Array(pruned.logits(row: 5))
        let session = InferenceSession(model: pruned, maxBatch: 1, maxChunk: 6)
        let logits = Array(try session.prefill(sequence: 0, tokens: Array(tokens[0..<6])))
        XCTAssertLessThan(zip(logits, full).map { abs($0 - $1) }.max()!, 1e-5)
        try session.decode([(sequence: 0, token: tokens[6])])
        let directory = temporaryDirectory()
        try pruned.save(path: directory + "/heads.safetensors", tokenizer: "byte")
        XCTAssertEqual(try Checkpoint.load(path: directory + "/heads.safetensors").info.config, .gpt2(pruned.config))
        try pruned.quantize(.bf16)
        let quantized = InferenceSession(model: pruned, maxBatch: 1, maxChunk: 6)
        _ = try quantized.prefill(sequence: 0, tokens: Array(tokens[0..<6]))
        try quantized.decode([(sequence: 0, token: tokens[6])])
    }

    /// A fraction that rounds to nothing is refused by name, with the smallest that removes something.
    func testPruningThatRemovesNothingIsRefused() throws {
        let gpt2 = try GPT2(config: GPT2Config(layers: 1, channels: 32, heads: 4, vocabularySize: 40, maxSequence: 8), seed: 10)
        assertEngineError(.invalidArgument, mentions: ["removes none of the 4 heads", "--attention 0.126"]) {
            _ = try StructuredPruning.pruneHeads(gpt2, fraction: 0.1)
        }
        assertEngineError(.invalidArgument, mentions: ["removes none of the 128 channels"]) {
            _ = try StructuredPruning.pruneMLP(gpt2, fraction: 0.05)
        }
        let llama = try Llama(
            config: LlamaConfig(layers: 1, channels: 32, heads: 4, kvHeads: 1, hidden: 48, vocabularySize: 40, maxSequence: 8), seed: 11)
        assertEngineError(.invalidArgument, mentions: ["removes none of the 1 key/value groups", "a single group cannot be pruned"]) {
            _ = try StructuredPruning.pruneHeads(llama, fraction: 0.5)
        }
    }

    /// The shape of a pruned model can be asked for directly (`--head-size`), so its speed is measured without a
    /// checkpoint; a head size equal to width ÷ heads is the plain shape, and other architectures refuse it.
    func testHeadSizeGivesThePrunedShape() throws {
        let shape = ModelShape(architecture: .gpt2, layers: 2, width: 768, heads: 6, headSize: 64)
        guard case let .gpt2(c) = try shape.configuration(vocabularySize: 50, maxSequence: 16) else { return XCTFail("not GPT-2") }
        XCTAssertEqual(c.attentionWidth, 384)
        XCTAssertEqual(c.parameterSpecs.first { $0.name == "h.0.attn.c_attn.weight" }?.shape, [768, 1152])
        guard
            case let .gpt2(plain) = try ModelShape(architecture: .gpt2, width: 768, heads: 12, headSize: 64)
                .configuration(vocabularySize: 50, maxSequence: 16)
        else { return XCTFail("not GPT-2") }
        XCTAssertNil(plain.headDimension)
        guard
            case let .llama(l) = try ModelShape(architecture: .llama, width: 768, heads: 4, kvHeads: 2, headSize: 64)
                .configuration(vocabularySize: 50, maxSequence: 16)
        else { return XCTFail("not Llama") }
        XCTAssertEqual(l.attentionWidth, 256)
        assertEngineError(.invalidConfiguration, mentions: ["--head-size", "bert"]) {
            _ = try ModelShape(architecture: .bert, headSize: 32).configuration(vocabularySize: 50, maxSequence: 16)
        }
    }
}
