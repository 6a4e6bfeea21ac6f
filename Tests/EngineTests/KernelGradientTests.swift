import CKernels
@testable import Engine
import XCTest

/// Central finite differences (Double, on the naive reference forward) against the fast fp32 backward
/// kernels and the naive backward kernels, for every differentiable op. Tolerance: 1e-4 relative per tensor (the
/// issue asks for 1e-2 in fp32; the references are Double, so the fp32 kernels are held to ~100× fp32 rounding).
final class KernelGradientTests: EngineTestCase {
    let tolerance = 1e-4

    func testLayerNormGradients() {
        for C in [19, 32] {
            let R = 5
            let x = randomFloats(R * C, seed: 1, scale: 2), w = randomFloats(C, seed: 2).map { $0 + 1 }, b = randomFloats(C, seed: 3)
            let dy = randomFloats(R * C, seed: 4)
            let (xd, wd, bd, dyd) = (doubles(x), doubles(w), doubles(b), doubles(dy))
            let loss: ([Double], [Double], [Double]) -> Double = { x, w, b in
                weightedSum(Reference.LayerNorm.forward(inp: x, weight: w, bias: b, R: R, C: C).out, dyd)
            }
            let fdX = numericalGradient(xd) { loss($0, wd, bd) }
            let fdW = numericalGradient(wd) { loss(xd, $0, bd) }
            let fdB = numericalGradient(bd) { loss(xd, wd, $0) }

            let out = Buffer(count: R * C), mean = Buffer(count: R), rstd = Buffer(count: R)
            let xb = Buffer(x), wb = Buffer(w), bb = Buffer(b), dyb = Buffer(dy)
            LayerNorm.forward(out: out.p, mean: mean.p, rstd: rstd.p, inp: xb.p, weight: wb.p, bias: bb.p, R: R, C: C)
            let dx = Buffer(count: R * C), dw = Buffer(count: C), db = Buffer(count: C), scratch = Buffer(count: Parallel.maxChunks * 2 * C)
            LayerNorm.backward(
                dinp: dx.p, dweight: dw.p, dbias: db.p, dout: dyb.p, inp: xb.p, weight: wb.p, mean: mean.p, rstd: rstd.p,
                scratch: scratch.p, R: R, C: C, inputWrite: .overwrite, parameterWrite: .overwrite)
            XCTAssertLessThan(relativeError(doubles(dx.array), fdX), tolerance, "dinp C=\(C)")
            XCTAssertLessThan(relativeError(doubles(dw.array), fdW), tolerance, "dweight C=\(C)")
            XCTAssertLessThan(relativeError(doubles(db.array), fdB), tolerance, "dbias C=\(C)")

            let ref = Reference.LayerNorm.forward(inp: xd, weight: wd, bias: bd, R: R, C: C)
            let refBack = Reference.LayerNorm.backward(dout: dyd, inp: xd, weight: wd, mean: ref.mean, rstd: ref.rstd, R: R, C: C)
            XCTAssertLessThan(relativeError(refBack.dinp, fdX), 1e-6)
            XCTAssertLessThan(relativeError(refBack.dweight, fdW), 1e-6)
        }
    }

    func testMatMulGradientsBothLayouts() {
        let M = 5, K = 13, N = 11
        for layout in [WeightLayout.inputMajor, .outputMajor] {
            let x = randomFloats(M * K, seed: 5), w = randomFloats(K * N, seed: 6), b = randomFloats(N, seed: 7),
                dy = randomFloats(M * N, seed: 8)
            let (xd, wd, bd, dyd) = (doubles(x), doubles(w), doubles(b), doubles(dy))
            let loss: ([Double], [Double], [Double]) -> Double = { x, w, b in
                weightedSum(Reference.MatMul.forward(inp: x, weight: w, bias: b, M: M, K: K, N: N, layout: layout), dyd)
            }
            let fdX = numericalGradient(xd) { loss($0, wd, bd) }
            let fdW = numericalGradient(wd) { loss(xd, $0, bd) }
            let fdB = numericalGradient(bd) { loss(xd, wd, $0) }
            let dx = Buffer(count: M * K), dw = Buffer(count: K * N), db = Buffer(count: N)
            MatMul.backward(
                dinp: dx.p, dweight: dw.p, dbias: db.p, dout: Buffer(dy).p, inp: Buffer(x).p, weight: Buffer(w).p,
                M: M, K: K, N: N, layout: layout, parameterWrite: .overwrite)
            XCTAssertLessThan(relativeError(doubles(dx.array), fdX), tolerance, "dinp \(layout)")
            XCTAssertLessThan(relativeError(doubles(dw.array), fdW), tolerance, "dweight \(layout)")
            XCTAssertLessThan(relativeError(doubles(db.array), fdB), tolerance, "dbias \(layout)")
            let refBack = Reference.MatMul.backward(dout: dyd, inp: xd, weight: wd, M: M, K: K, N: N, layout: layout)
            XCTAssertLessThan(relativeError(refBack.dweight, fdW), 1e-6)
        }
    }

    func testAttentionGradient() {
        let B = 2, T = 5, C = 16, NH = 2
        let qkv = randomFloats(B * T * 3 * C, seed: 9), dy = randomFloats(B * T * C, seed: 10)
        let (qkvd, dyd) = (doubles(qkv), doubles(dy))
        let fd = numericalGradient(qkvd) { weightedSum(Reference.Attention.forward(qkv: $0, B: B, T: T, C: C, NH: NH).out, dyd) }
        let out = Buffer(count: B * T * C), att = Buffer(count: B * NH * T * T), qb = Buffer(qkv)
        Attention.forward(out: out.p, att: att.p, qkv: qb.p, B: B, T: T, C: C, NH: NH)
        let dqkv = Buffer(count: B * T * 3 * C), datt = Buffer(count: B * NH * T * T)
        Attention.backward(dqkv: dqkv.p, datt: datt.p, dout: Buffer(dy).p, qkv: qb.p, att: att.p, B: B, T: T, C: C, NH: NH)
        XCTAssertLessThan(relativeError(doubles(dqkv.array), fd), tolerance)
        let ref = Reference.Attention.forward(qkv: qkvd, B: B, T: T, C: C, NH: NH)
        XCTAssertLessThan(
            relativeError(Reference.Attention.backward(dout: dyd, qkv: qkvd, att: ref.att, B: B, T: T, C: C, NH: NH), fd), 1e-6)
    }

    /// Both GELU backward kernels (AVX-512 C, and the Swift loop forced by a narrower kernel), also in place.
    func testGELUGradient() {
        defer { wp_quant_set_kernel(wp_quant_best_kernel()) }
        let x = randomFloats(37, seed: 11, scale: 4), dy = randomFloats(37, seed: 12)
        let fd = numericalGradient(doubles(x)) { weightedSum(Reference.GELU.forward(inp: $0), doubles(dy)) }
        for kernel in Set([1, Int(wp_quant_best_kernel())]).sorted() {
            wp_quant_set_kernel(Int32(kernel))
            let dx = Buffer(count: 37)
            GELU.backward(dinp: dx.p, inp: Buffer(x).p, dout: Buffer(dy).p, N: 37)
            XCTAssertLessThan(relativeError(doubles(dx.array), fd), tolerance, "kernel \(kernel)")
            let inPlace = Buffer(dy)
            GELU.backward(dinp: inPlace.p, inp: Buffer(x).p, dout: inPlace.p, N: 37)
            XCTAssertEqual(inPlace.array, dx.array, "kernel \(kernel), in place")
        }
        XCTAssertLessThan(relativeError(Reference.GELU.backward(dout: doubles(dy), inp: doubles(x)), fd), 1e-6)
    }

    func testSoftmaxCrossEntropyGradientMasksPadding() {
        let R = 4, V = 13, Vp = 16, scale: Float = 0.25
        let logits = randomFloats(R * Vp, seed: 13, scale: 3), targets: [Int32] = [0, 12, 5, 7]
        let fd = numericalGradient(doubles(logits)) { l in
            let probs = Reference.SoftmaxCrossEntropy.softmax(logits: l, R: R, V: V, Vp: Vp)
            return Reference.SoftmaxCrossEntropy.forward(probs: probs, targets: targets, R: R, Vp: Vp).reduce(0, +) * Double(scale)
        }
        let lb = Buffer(logits), losses = Buffer(count: R)
        targets.withUnsafeBufferPointer { t in
            SoftmaxCrossEntropy.forwardBackward(losses: losses.p, logits: lb.p, targets: t, R: R, V: V, Vp: Vp, dlossScale: scale)
        }
        XCTAssertLessThan(relativeError(doubles(lb.array), fd), tolerance)
        for r in 0..<R { for v in V..<Vp { XCTAssertEqual(lb.array[r * Vp + v], 0, "padding column gets no gradient") } }
        let probs = Reference.SoftmaxCrossEntropy.softmax(logits: doubles(logits), R: R, V: V, Vp: Vp)
        let refGrad = Reference.SoftmaxCrossEntropy.backward(probs: probs, targets: targets, R: R, V: V, Vp: Vp, dlossScale: Double(scale))
        XCTAssertLessThan(relativeError(refGrad, fd), 1e-6)
    }

    func testEncoderGradientsWithRepeatedTokens() {
        let B = 2, T = 3, C = 10, V = 7, P = 4
        let tokens: [Int32] = [1, 3, 1, 6, 1, 0]
        let wte = randomFloats(V * C, seed: 14), wpe = randomFloats(P * C, seed: 15), dy = randomFloats(B * T * C, seed: 16)
        let fdE = numericalGradient(doubles(wte)) {
            weightedSum(Reference.PositionalEmbedding.forward(tokens: tokens, wte: $0, wpe: doubles(wpe), B: B, T: T, C: C), doubles(dy))
        }
        let fdP = numericalGradient(doubles(wpe)) {
            weightedSum(Reference.PositionalEmbedding.forward(tokens: tokens, wte: doubles(wte), wpe: $0, B: B, T: T, C: C), doubles(dy))
        }
        let dwte = Buffer(count: V * C), dwpe = Buffer(count: P * C)
        tokens.withUnsafeBufferPointer { t in
            PositionalEmbedding.backward(dwte: dwte.p, dwpe: dwpe.p, dout: Buffer(dy).p, tokens: t, B: B, T: T, C: C)
        }
        XCTAssertLessThan(relativeError(doubles(dwte.array), fdE), tolerance)
        XCTAssertLessThan(relativeError(doubles(dwpe.array), fdP), tolerance)
        let ref = Reference.PositionalEmbedding.backward(dout: doubles(dy), tokens: tokens, V: V, P: P, B: B, T: T, C: C)
        XCTAssertLessThan(relativeError(ref.dwte, fdE), 1e-6)
    }

    func testResidualGradient() {
        let a = randomFloats(21, seed: 17), b = randomFloats(21, seed: 18), dy = randomFloats(21, seed: 19)
        let fdA = numericalGradient(doubles(a)) { weightedSum(Reference.Residual.forward(inp1: $0, inp2: doubles(b)), doubles(dy)) }
        let da = Buffer(count: 21), db = Buffer(count: 21)
        Residual.backward(dinp1: da.p, dinp2: db.p, dout: Buffer(dy).p, N: 21)
        XCTAssertLessThan(relativeError(doubles(da.array), fdA), tolerance)
        XCTAssertLessThan(relativeError(doubles(db.array), fdA), tolerance)
    }

    /// `.accumulate` adds to what is there; `.overwrite` ignores it (the contract the model's backward relies on).
    func testGradientWriteModes() {
        let M = 4, K = 8, N = 8
        let x = Buffer(randomFloats(M * K, seed: 20)), w = Buffer(randomFloats(K * N, seed: 21)), dy = Buffer(randomFloats(M * N, seed: 22))
        let dx = Buffer(count: M * K), dw = Buffer(count: K * N), db = Buffer(count: N)
        MatMul.backward(
            dinp: dx.p, dweight: dw.p, dbias: db.p, dout: dy.p, inp: x.p, weight: w.p, M: M, K: K, N: N, parameterWrite: .overwrite)
        let once = (dx.array, dw.array, db.array)
        MatMul.backward(
            dinp: dx.p, dweight: dw.p, dbias: db.p, dout: dy.p, inp: x.p, weight: w.p, M: M, K: K, N: N,
            inputWrite: .accumulate, parameterWrite: .accumulate)
        XCTAssertLessThan(maxAbsDifference(dx.array, doubles(once.0).map { $0 * 2 }), 1e-5)
        XCTAssertLessThan(maxAbsDifference(dw.array, doubles(once.1).map { $0 * 2 }), 1e-5)
        XCTAssertLessThan(maxAbsDifference(db.array, doubles(once.2).map { $0 * 2 }), 1e-5)
        MatMul.backward(
            dinp: dx.p, dweight: dw.p, dbias: db.p, dout: dy.p, inp: x.p, weight: w.p, M: M, K: K, N: N, parameterWrite: .overwrite)
        XCTAssertEqual(dw.array, once.1)
        XCTAssertEqual(db.array, once.2)
    }
}
