import CKernels
@testable import Engine
import XCTest

/// Prefill's fp32 kernel on weights packed once per session (`WeightPanels`, gemm_f32.c): against the exact product in
/// both weight layouts, at shapes off its 8-row tiles and 48-wide groups, fused bias and residual, the packed copy made
/// once; and whole prefills against the sgemm path they replace.
final class WeightPanelsTests: EngineTestCase {
    override func tearDown() {
        wp_quant_set_kernel(wp_quant_best_kernel())
        super.tearDown()
    }

    func testPackedKernelMatchesTheExactProduct() {
        for (M, N, K) in [(1, 1, 1), (5, 15, 30), (8, 16, 96), (9, 47, 64), (13, 49, 33), (20, 100, 130), (17, 96, 7)] {
            for layout in [WeightLayout.inputMajor, .outputMajor] {
                var weights = randomFloats(N * K, seed: UInt64(N * 31 + K), scale: 1)
                let x = randomFloats(M * K, seed: 7, scale: 2), bias = randomFloats(N, seed: 8), residual = randomFloats(M * N, seed: 9)
                func w(_ n: Int, _ k: Int) -> Double { Double(layout == .inputMajor ? weights[k * N + n] : weights[n * K + k]) }
                let panels = WeightPanels(packingCall: 1)
                for fused in [false, true] {
                    // 64 sentinels past the output: a write beyond M×N changes them.
                    var out = (fused ? residual : [Float](repeating: .nan, count: M * N)) + [Float](repeating: 12345, count: 64)
                    var biasCopy = bias
                    let done = weights.withUnsafeMutableBufferPointer { ws in
                        x.withUnsafeBufferPointer { xs in
                            biasCopy.withUnsafeMutableBufferPointer { bs in
                                out.withUnsafeMutableBufferPointer { o in
                                    panels.forward(
                                        out: o.baseAddress!, inp: xs.baseAddress!, weight: ws.baseAddress!,
                                        bias: fused ? bs.baseAddress! : nil,
                                        residual: fused ? o.baseAddress! : nil, M: M, K: K, N: N, layout: layout)
                                }
                            }
                        }
                    }
                    guard WeightPanels.available else {
                        XCTAssertFalse(done, "no AVX-512F: the caller runs sgemm")
                        XCTAssertEqual(panels.bytes, 0)
                        continue
                    }
                    XCTAssertTrue(done)
                    // Packed on the first call only: groups of 48 outputs × K.
                    XCTAssertEqual(panels.bytes, (N + 47) / 48 * 48 * K * 4, "\(M)×\(N)×\(K)")
                    assertExactProduct(
                        out, M: M, N: N, K: K, input: { Double(x[$0 * K + $1]) }, weight: w, bias: fused ? bias : nil,
                        residual: fused ? residual : nil, "\(M)×\(N)×\(K) \(layout) fused \(fused)")
                }
            }
        }
    }

    /// A GPT-2's, a Llama's and a mixture's prefill logits with the packed kernel against the same prefill on sgemm (the
    /// kernel forced off), and the packed copies counted in the session's bytes.
    func testPrefillMatchesTheSgemmPath() throws {
        let gpt2 = try GPT2(config: GPT2Config(layers: 2, channels: 64, heads: 2, vocabularySize: 100, maxSequence: 64), seed: 3)
        let llama = try Llama(
            config: LlamaConfig(layers: 2, channels: 64, heads: 4, kvHeads: 2, hidden: 96, vocabularySize: 100, maxSequence: 64), seed: 4)
        // Chunks of 16, 16 and 8 rows: the first runs sgemm, the second packs the matrices, the third is below the
        // kernel's rows.
        let tokens = randomTokens(40, vocabulary: 100, seed: 5)
        let moe = try Llama(
            config: LlamaConfig(
                layers: 2, channels: 64, heads: 4, kvHeads: 2, hidden: 48, vocabularySize: 100, maxSequence: 64, experts: 4), seed: 6)
        for model in [gpt2 as any DecodingModel, llama, moe] {
            func prefill(kernel: Int32) throws -> (logits: [Float], bytes: Int, emptyBytes: Int) {
                wp_quant_set_kernel(kernel)
                let session = InferenceSession(model: model, maxBatch: 1, maxChunk: 16)
                let empty = session.stateBytes
                let logits = Array(try session.prefill(sequence: 0, tokens: tokens))
                return (logits, session.stateBytes, empty)
            }
            let sgemm = try prefill(kernel: 1)
            XCTAssertEqual(sgemm.bytes, sgemm.emptyBytes, "\(type(of: model)): nothing packed on the sgemm path")
            let packed = try prefill(kernel: wp_quant_best_kernel())
            let scale = sgemm.logits.map(abs).max()!
            XCTAssertLessThan(zip(packed.logits, sgemm.logits).map { abs($0 - $1) }.max()!, 1e-5 * scale + 1e-6, "\(type(of: model))")
            if WeightPanels.available {
                XCTAssertGreaterThan(packed.bytes, packed.emptyBytes, "\(type(of: model)): the block matrices packed once")
            }
        }
    }

    /// A session that prefills one chunk and then decodes packs nothing for prefill: its only copies are the matrices
    /// laid out in rows for decoding (`DecodeRows`: GPT-2's input-major block matrices).
    func testOnePromptThenDecodingPacksNothingForPrefill() throws {
        let gpt2 = try GPT2(config: GPT2Config(layers: 2, channels: 64, heads: 2, vocabularySize: 100, maxSequence: 64), seed: 3)
        let session = InferenceSession(model: gpt2, maxBatch: 1, maxChunk: 32)
        let empty = session.stateBytes
        _ = try session.prefill(sequence: 0, tokens: randomTokens(32, vocabulary: 100, seed: 5))
        XCTAssertEqual(session.stateBytes, empty)
        for t in 0..<4 { try session.decode([(sequence: 0, token: Int32(t))]) }
        let rows = DecodeRows.enabled ? 2 * (64 * 192 + 64 * 64 + 2 * 64 * 256) * 4 : 0
        XCTAssertEqual(session.stateBytes, empty + rows)
        if WeightPanels.available {
            // A second prompt of as many rows does pack.
            _ = try session.prefill(sequence: 0, tokens: randomTokens(16, vocabulary: 100, seed: 6))
            XCTAssertGreaterThan(session.stateBytes, empty + rows)
            // A session for repeated prefills (a benchmark) packs on the first.
            let eager = InferenceSession(model: gpt2, maxBatch: 1, maxChunk: 32, packingCall: 1)
            _ = try eager.prefill(sequence: 0, tokens: randomTokens(32, vocabulary: 100, seed: 5))
            XCTAssertGreaterThan(eager.stateBytes, empty)
        }
    }
}
