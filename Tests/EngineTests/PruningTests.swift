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
}
