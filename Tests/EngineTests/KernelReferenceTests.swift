import CKernels
@testable import Engine
import XCTest

/// Fast kernels against their naive reference siblings (run in Double), reporting the largest difference.
final class KernelReferenceTests: EngineTestCase {
    func testLayerNormMatchesReference() {
        let R = 7, C = 45
        let x = randomFloats(R * C, seed: 1, scale: 3), w = randomFloats(C, seed: 2), b = randomFloats(C, seed: 3)
        let out = Buffer(count: R * C), mean = Buffer(count: R), rstd = Buffer(count: R)
        LayerNorm.forward(out: out.p, mean: mean.p, rstd: rstd.p, inp: Buffer(x).p, weight: Buffer(w).p, bias: Buffer(b).p, R: R, C: C)
        let ref = Reference.LayerNorm.forward(inp: doubles(x), weight: doubles(w), bias: doubles(b), R: R, C: C)
        XCTAssertLessThan(maxAbsDifference(out.array, ref.out), 1e-5)
        XCTAssertLessThan(maxAbsDifference(rstd.array, ref.rstd), 1e-5)
    }

    func testMatMulForwardWithBiasResidualAndSingleRow() {
        for M in [1, 6] {
            let K = 20, N = 9
            let x = randomFloats(M * K, seed: 4), b = randomFloats(N, seed: 6), r = randomFloats(M * N, seed: 7)
            for layout in [WeightLayout.inputMajor, .outputMajor] {
                let w = randomFloats(K * N, seed: 5)
                let out = Buffer(count: M * N)
                MatMul.forward(
                    out: out.p, inp: Buffer(x).p, weight: Buffer(w).p, bias: Buffer(b).p, residual: Buffer(r).p, M: M, K: K, N: N,
                    layout: layout)
                let ref = zip(
                    Reference.MatMul.forward(inp: doubles(x), weight: doubles(w), bias: doubles(b), M: M, K: K, N: N, layout: layout), r
                )
                .map { $0 + Double($1) }
                XCTAssertLessThan(maxAbsDifference(out.array, ref), 1e-5, "M=\(M) \(layout)")
            }
        }
    }

    func testAttentionMatchesReferenceAndZeroesFuture() {
        let B = 2, T = 9, C = 24, NH = 3
        let qkv = randomFloats(B * T * 3 * C, seed: 8, scale: 2)
        let out = Buffer(count: B * T * C), att = Buffer(count: B * NH * T * T)
        Attention.forward(out: out.p, att: att.p, qkv: Buffer(qkv).p, B: B, T: T, C: C, NH: NH)
        let ref = Reference.Attention.forward(qkv: doubles(qkv), B: B, T: T, C: C, NH: NH)
        XCTAssertLessThan(maxAbsDifference(out.array, ref.out), 1e-5)
        XCTAssertLessThan(maxAbsDifference(att.array, ref.att), 1e-6)
    }

    func testGELUAndVectorExpMatchLibm() {
        let x = randomFloats(203, seed: 9, scale: 8)
        let out = Buffer(count: 203)
        GELU.forward(out: out.p, inp: Buffer(x).p, N: 203)
        XCTAssertLessThan(maxAbsDifference(out.array, Reference.GELU.forward(inp: doubles(x))), 1e-5)
        for v in stride(from: -80.0, through: 80.0, by: 0.37) {
            let input = Float(v)
            let fast = Double(VectorMath.exp(input)), exact = Foundation.exp(Double(input))
            XCTAssertLessThan(abs(fast - exact) / exact, 1e-6, "exp(\(v))")
        }
    }

    /// GELU's AVX-512 kernel (C) and its Swift loop (forced with a narrower kernel) both match the reference, over
    /// several chunks, tails shorter than a vector, the saturated ends (|x| up to 30) and in place.
    func testGELUEveryKernelMatchesTheReference() {
        defer { wp_quant_set_kernel(wp_quant_best_kernel()) }
        let N = 40_003
        let x = randomFloats(N, seed: 19, scale: 30)
        let reference = Reference.GELU.forward(inp: doubles(x))
        for kernel in Set([1, Int(wp_quant_best_kernel())]).sorted() {
            wp_quant_set_kernel(Int32(kernel))
            let out = Buffer(count: N)
            GELU.forward(out: out.p, inp: Buffer(x).p, N: N)
            let worst = zip(out.array, reference).map { abs(Double($0) - $1) / max(1, abs($1)) }.max()!
            XCTAssertLessThan(worst, 2e-6, "kernel \(kernel)")
            let inPlace = Buffer(Array(x[0..<13]))
            GELU.forward(out: inPlace.p, inp: inPlace.p, N: 13)
            XCTAssertLessThan(maxAbsDifference(inPlace.array, Array(reference[0..<13])), 1e-5, "kernel \(kernel), in place")
        }
    }

    func testCrossEntropyForwardMatchesFusedAndReference() {
        let R = 3, V = 50, Vp = 64
        let logits = randomFloats(R * Vp, seed: 10, scale: 5), targets: [Int32] = [3, 49, 0]
        let probs = Reference.SoftmaxCrossEntropy.softmax(logits: doubles(logits), R: R, V: V, Vp: Vp)
        let ref = Reference.SoftmaxCrossEntropy.forward(probs: probs, targets: targets, R: R, Vp: Vp)
        let lossesA = Buffer(count: R), lossesB = Buffer(count: R), lb = Buffer(logits)
        targets.withUnsafeBufferPointer { t in
            SoftmaxCrossEntropy.forward(losses: lossesA.p, logits: lb.p, targets: t, R: R, V: V, Vp: Vp)
            XCTAssertEqual(lb.array, logits, "forward leaves logits untouched")
            SoftmaxCrossEntropy.forwardBackward(losses: lossesB.p, logits: lb.p, targets: t, R: R, V: V, Vp: Vp, dlossScale: 1)
        }
        XCTAssertLessThan(maxAbsDifference(lossesA.array, ref), 1e-5)
        XCTAssertLessThan(maxAbsDifference(lossesB.array, ref), 1e-5)
    }

    /// The AVX-512 softmax row (`softmax.c`, the cross-entropy's) against the Double reference at lengths off its 16-
    /// and 32-lane steps and at GPT-2's vocabulary, with the scale the loss's gradient uses; its max and sum too.
    func testSoftmaxRowKernelMatchesReference() throws {
        try XCTSkipUnless(wp_quant_kernel() >= 2, "the row kernel needs AVX-512F (the Swift softmax runs instead)")
        for n in [1, 15, 16, 31, 33, 50257] {
            let logits = randomFloats(n, seed: UInt64(n), scale: 8)
            let probs = Reference.SoftmaxCrossEntropy.softmax(logits: doubles(logits), R: 1, V: n, Vp: n)
            var row = logits, maxValue: Float = 0, sum: Float = 0, onlyMax: Float = 0, onlySum: Float = 0
            XCTAssertEqual(wp_softmax_row(&row, n, 0.25, &maxValue, &sum), 1)
            XCTAssertEqual(wp_softmax_max_sum(logits, n, &onlyMax, &onlySum), 1)
            XCTAssertLessThan(maxAbsDifference(row, probs.map { $0 * 0.25 }), 1e-7, "\(n) logits")
            let largest = logits.max()!, exactSum = logits.reduce(0.0) { $0 + exp(Double($1) - Double(largest)) }
            XCTAssertEqual(maxValue, largest)
            XCTAssertEqual(Double(sum), exactSum, accuracy: 1e-5 * exactSum, "\(n) logits")
            XCTAssertEqual(onlyMax, maxValue)
            XCTAssertEqual(onlySum, sum, accuracy: 1e-6 * sum)
        }
    }

    func testEncoderAndResidualMatchReference() {
        let B = 2, T = 4, C = 11, V = 5
        let tokens: [Int32] = [0, 4, 2, 2, 1, 3, 4, 0]
        let wte = randomFloats(V * C, seed: 11), wpe = randomFloats(T * C, seed: 12)
        let out = Buffer(count: B * T * C)
        tokens.withUnsafeBufferPointer { t in
            PositionalEmbedding.forward(out: out.p, tokens: t, wte: Buffer(wte).p, wpe: Buffer(wpe).p, B: B, T: T, C: C)
        }
        XCTAssertLessThan(
            maxAbsDifference(
                out.array, Reference.PositionalEmbedding.forward(tokens: tokens, wte: doubles(wte), wpe: doubles(wpe), B: B, T: T, C: C)),
            1e-7)
        let a = randomFloats(30, seed: 13), b = randomFloats(30, seed: 14), sum = Buffer(count: 30)
        Residual.forward(out: sum.p, inp1: Buffer(a).p, inp2: Buffer(b).p, N: 30)
        XCTAssertLessThan(maxAbsDifference(sum.array, Reference.Residual.forward(inp1: doubles(a), inp2: doubles(b))), 1e-7)
    }
}
