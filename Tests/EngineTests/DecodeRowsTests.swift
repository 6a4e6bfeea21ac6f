import CKernels
@testable import Engine
import XCTest

/// One-row products on the session's copies laid out in rows (`DecodeRows`, `wp_pack_rows_blocked`,
/// `wp_gemv_rows_blocked_into`): block widths, the product against the exact one in both stored layouts with rows cut
/// into even and uneven blocks, alone and on the pool, with fused bias and residual; which matrices are copied and how
/// many bytes the copies take; and whole decodes that read them.
final class DecodeRowsTests: EngineTestCase {
    override func tearDown() {
        wp_quant_set_kernel(wp_quant_best_kernel())
        super.tearDown()
    }

    func testBlockWidths() {
        // Up to 1,024 inputs one block; beyond, K split evenly into ⌈K/768⌉ blocks rounded up to 16 (the last narrower).
        for (K, block) in [(1, 1), (768, 768), (1024, 1024), (1025, 528), (2048, 688), (3072, 768), (3073, 624), (5120, 736)] {
            XCTAssertEqual(wp_rows_block(K), block, "K \(K)")
        }
        for K in 1...10_000 {
            let width = wp_rows_block(K)
            if K <= 1024 {
                XCTAssertEqual(width, K)
                continue
            }
            XCTAssertTrue(width % 16 == 0 && width <= 768 && width * ((K + 767) / 768) >= K, "K \(K): width \(width)")
        }
    }

    func testCopiedProductMatchesTheExactProduct() {
        // (N, K): one block, even blocks (3072 = 4 × 768), uneven ones (1100 = 560 + 540), and sizes that run on the pool
        // (N·K of 65,536 or more) beside ones that run on the caller.
        for (N, K) in [(5, 30), (33, 1100), (16, 3072), (96, 1100), (40, 2048), (300, 768)] {
            for layout in [WeightLayout.inputMajor, .outputMajor] {
                var weights = randomFloats(N * K, seed: UInt64(N * 31 + K), scale: 1)
                let x = randomFloats(K, seed: 7, scale: 2), bias = randomFloats(N, seed: 8), residual = randomFloats(N, seed: 9)
                func w(_ n: Int, _ k: Int) -> Double { Double(layout == .inputMajor ? weights[k * N + n] : weights[n * K + k]) }
                let rows = DecodeRows()
                for fused in [false, true] {
                    // 64 sentinels past the output: a write beyond N changes them.
                    var out = (fused ? residual : [Float](repeating: .nan, count: N)) + [Float](repeating: 12345, count: 64)
                    var biasCopy = bias
                    let done = weights.withUnsafeMutableBufferPointer { ws in
                        x.withUnsafeBufferPointer { xs in
                            biasCopy.withUnsafeMutableBufferPointer { bs in
                                out.withUnsafeMutableBufferPointer { o in
                                    rows.forward(
                                        out: o.baseAddress!, inp: xs.baseAddress!, weight: ws.baseAddress!,
                                        bias: fused ? bs.baseAddress! : nil, residual: fused ? o.baseAddress! : nil, K: K, N: N,
                                        layout: layout)
                                }
                            }
                        }
                    }
                    let copied = DecodeRows.needsCopy(K: K, layout: layout)
                    XCTAssertEqual(copied, layout == .inputMajor || K > 1024, "\(N)×\(K) \(layout)")
                    XCTAssertEqual(done, copied && DecodeRows.enabled, "\(N)×\(K) \(layout)")
                    guard done else {
                        XCTAssertEqual(rows.bytes, 0, "nothing copied when the stored layout is read")
                        continue
                    }
                    // Copied on the first call only, 4 bytes a weight.
                    XCTAssertEqual(rows.bytes, N * K * 4, "\(N)×\(K) \(layout)")
                    assertExactProduct(
                        out, M: 1, N: N, K: K, input: { Double(x[$1]) }, weight: w, bias: fused ? bias : nil,
                        residual: fused ? residual : nil, "\(N)×\(K) \(layout) fused \(fused)")
                }
            }
        }
    }

    /// The packing alone, element by element: (r, c) of W at b·N + r·width + (c − b), over row ranges packed apart, with
    /// the AVX-512F transpose (where it runs) and the portable one.
    func testPackedLayout() {
        let N = 7, K = 1100, block = wp_rows_block(K)
        let weights = (0..<(N * K)).map { Float($0) }
        for (kernel, inputMajor) in [(wp_quant_best_kernel(), true), (1, true), (wp_quant_best_kernel(), false)] {
            wp_quant_set_kernel(kernel)
            var packed = [Float](repeating: -1, count: N * K)
            weights.withUnsafeBufferPointer { w in
                packed.withUnsafeMutableBufferPointer { out in
                    wp_pack_rows_blocked(w.baseAddress!, inputMajor ? 1 : 0, N, K, block, 0, 3, out.baseAddress!)
                    wp_pack_rows_blocked(w.baseAddress!, inputMajor ? 1 : 0, N, K, block, 3, N - 3, out.baseAddress!)
                }
            }
            for r in 0..<N {
                for c in 0..<K {
                    let b = c / block * block, width = min(block, K - b)
                    let expected = inputMajor ? weights[c * N + r] : weights[r * K + c]
                    XCTAssertEqual(
                        packed[b * N + r * width + (c - b)], expected, "(\(r), \(c)) input-major \(inputMajor), kernel \(kernel)")
                }
            }
        }
    }

    /// Decoding with the copies gives the logits a full forward pass gives, for a GPT-2 (input-major matrices, one with
    /// 1,088 inputs cut into blocks) and a Llama (output-major, its down projection's 1,100 inputs cut into blocks of 560
    /// and 540), and the session's bytes count each copied matrix once. Once made, the copies are what decoding reads:
    /// zeroing a stored matrix afterwards changes nothing.
    func testDecodingReadsTheCopies() throws {
        func models() throws -> [any DecodingModel] {
            [
                try GPT2(config: GPT2Config(layers: 2, channels: 272, heads: 4, vocabularySize: 100, maxSequence: 16), seed: 3),
                try Llama(
                    config: LlamaConfig(
                        layers: 2, channels: 64, heads: 4, kvHeads: 2, hidden: 1100, vocabularySize: 100, maxSequence: 16), seed: 4),
            ]
        }
        let tokens = randomTokens(6, vocabulary: 100, seed: 5)
        // GPT-2: every block matrix (4 a layer); Llama: only the down projection, whose rows exceed 1,024 inputs.
        let copiedFloats = [2 * (272 * 816 + 272 * 272 + 272 * 1088 + 1088 * 272), 2 * 64 * 1100]
        let tampered = try models()
        for (i, model) in try models().enumerated() {
            func decode(_ model: any DecodingModel, zeroingAfterFirst matrix: UnsafeMutableBufferPointer<Float>?) throws -> (
                logits: [Float], copyBytes: Int, stateGrowth: Int
            ) {
                let session = InferenceSession(model: model, maxBatch: 1, maxChunk: 16)
                let empty = session.stateBytes
                _ = try session.prefill(sequence: 0, tokens: [tokens[0]])
                for t in tokens.dropFirst() {
                    try session.decode([(sequence: 0, token: t)])
                    matrix?.update(repeating: 0)
                }
                return (Array(session.logits(at: 0)), session.decodeCopyBytes, session.stateBytes - empty)
            }
            let plain = try decode(model, zeroingAfterFirst: nil)
            XCTAssertEqual(plain.copyBytes, DecodeRows.enabled ? copiedFloats[i] * 4 : 0, "\(type(of: model))")
            XCTAssertEqual(plain.stateGrowth, plain.copyBytes, "\(type(of: model)): the copies are the state's growth")
            let expected = Array(try InferenceSession(model: model, maxBatch: 1, maxChunk: 16).prefill(sequence: 0, tokens: tokens))
            let scale = expected.map(abs).max()!
            XCTAssertLessThan(zip(plain.logits, expected).map { abs($0 - $1) }.max()!, 1e-4 * scale + 1e-5, "\(type(of: model))")
            guard DecodeRows.enabled else { continue }
            let stored =
                (tampered[i] as? GPT2).map { $0.params.blocks[0].fcprojw } ?? (tampered[i] as! Llama).params.blocks[0].down!
            XCTAssertEqual(try decode(tampered[i], zeroingAfterFirst: stored).logits, plain.logits, "\(type(of: model))")
        }
    }

    /// What reads no copy: a batch of two (sgemm; a prompt of one token would copy, being a one-row product), a quantised model's matrices (their own kernels), and copies past the
    /// budget (the rest read as stored, with the same logits).
    func testBatchesQuantisedMatricesAndTheBudgetMakeNoCopies() throws {
        let config = GPT2Config(layers: 2, channels: 64, heads: 2, vocabularySize: 100, maxSequence: 16)
        let gpt2 = try GPT2(config: config, seed: 3)
        let batch = InferenceSession(model: gpt2, maxBatch: 2, maxChunk: 16)
        _ = try batch.prefill(sequence: 0, tokens: [1, 2])
        _ = try batch.prefill(sequence: 1, tokens: [3, 6])
        try batch.decode([(sequence: 0, token: 4), (sequence: 1, token: 5)])
        XCTAssertEqual(batch.decodeCopyBytes, 0, "two rows a product: no copy")

        let quantised = try GPT2(config: config, seed: 3)
        try quantised.quantize(.int8)
        let session = InferenceSession(model: quantised, maxBatch: 1, maxChunk: 16)
        _ = try session.prefill(sequence: 0, tokens: [1, 2])
        try session.decode([(sequence: 0, token: 4)])
        XCTAssertEqual(session.decodeCopyBytes, 0, "int8 matrices run their own kernel")

        // A budget of one c_attn matrix and a half: the first is copied, the rest are read as stored.
        let rows = DecodeRows(budgetBytes: 64 * 192 * 4 * 3 / 2)
        let x = randomFloats(64, seed: 7, scale: 1)
        var out = [Float](repeating: 0, count: 192)
        let done = [gpt2.params.blocks[0].qkvw, gpt2.params.blocks[1].qkvw].map { w in
            x.withUnsafeBufferPointer { xs in
                out.withUnsafeMutableBufferPointer { o in
                    rows.forward(
                        out: o.baseAddress!, inp: xs.baseAddress!, weight: w.baseAddress!, bias: nil, residual: nil, K: 64, N: 192,
                        layout: .inputMajor)
                }
            }
        }
        XCTAssertEqual(done, DecodeRows.enabled ? [true, false] : [false, false])
        XCTAssertEqual(rows.bytes, DecodeRows.enabled ? 64 * 192 * 4 : 0)
    }
}
