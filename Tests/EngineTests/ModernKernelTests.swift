import CKernels
import Engine
import Foundation
import XCTest

/// The kernels Llama and the mixture of experts add: each against its Double reference and central finite
/// differences (1e-4 relative, as the GPT-2 kernels).
final class ModernKernelTests: EngineTestCase {
    let tolerance = 1e-4

    func testGroupedQueryAttentionMatchesReferenceAndFiniteDifferences() {
        let B = 2, T = 5, layout = AttentionLayout.grouped(NH: 4, NKV: 2, hs: 4)
        let qkv = randomFloats(B * T * layout.rowStride, seed: 31), dy = randomFloats(B * T * layout.outWidth, seed: 32)
        let (qkvd, dyd) = (doubles(qkv), doubles(dy))
        let out = Buffer(count: B * T * layout.outWidth), att = Buffer(count: B * layout.NH * T * T), qb = Buffer(qkv)
        Attention.forward(out: out.p, att: att.p, qkv: qb.p, B: B, T: T, layout: layout)
        let ref = Reference.Attention.forward(qkv: qkvd, B: B, T: T, layout: layout)
        XCTAssertLessThan(maxAbsDifference(out.array, ref.out), 1e-5)
        let fd = numericalGradient(qkvd) { weightedSum(Reference.Attention.forward(qkv: $0, B: B, T: T, layout: layout).out, dyd) }
        let dqkv = Buffer(count: B * T * layout.rowStride), datt = Buffer(count: B * layout.NH * T * T)
        Attention.backward(dqkv: dqkv.p, datt: datt.p, dout: Buffer(dy).p, qkv: qb.p, att: att.p, B: B, T: T, layout: layout)
        XCTAssertLessThan(relativeError(doubles(dqkv.array), fd), tolerance)
        XCTAssertLessThan(
            relativeError(Reference.Attention.backward(dout: dyd, qkv: qkvd, att: ref.att, B: B, T: T, layout: layout), fd), 1e-6)
    }

    func testRMSNormMatchesReferenceAndFiniteDifferences() {
        let R = 6, C = 19, eps: Float = 1e-6
        let x = randomFloats(R * C, seed: 1), w = randomFloats(C, seed: 2), dy = randomFloats(R * C, seed: 3)
        let out = Buffer(count: R * C), rstd = Buffer(count: R)
        RMSNorm.forward(out: out.p, rstd: rstd.p, inp: Buffer(x).p, weight: Buffer(w).p, R: R, C: C, epsilon: eps)
        let ref = Reference.RMSNorm.forward(inp: doubles(x), weight: doubles(w), R: R, C: C, epsilon: Double(eps))
        XCTAssertLessThan(maxAbsDifference(out.array, ref.out), 1e-5)
        let fdX = numericalGradient(doubles(x)) {
            weightedSum(Reference.RMSNorm.forward(inp: $0, weight: doubles(w), R: R, C: C, epsilon: 1e-6).out, doubles(dy))
        }
        let fdW = numericalGradient(doubles(w)) {
            weightedSum(Reference.RMSNorm.forward(inp: doubles(x), weight: $0, R: R, C: C, epsilon: 1e-6).out, doubles(dy))
        }
        let dx = Buffer(count: R * C), dw = Buffer(count: C), scratch = Buffer(count: 64 * C)
        RMSNorm.backward(
            dinp: dx.p, dweight: dw.p, dout: Buffer(dy).p, inp: Buffer(x).p, weight: Buffer(w).p, rstd: rstd.p,
            scratch: scratch.p, R: R, C: C, inputWrite: .overwrite, parameterWrite: .overwrite)
        XCTAssertLessThan(relativeError(doubles(dx.array), fdX), tolerance)
        XCTAssertLessThan(relativeError(doubles(dw.array), fdW), tolerance)
        let refBack = Reference.RMSNorm.backward(dout: doubles(dy), inp: doubles(x), weight: doubles(w), rstd: ref.rstd, R: R, C: C)
        XCTAssertLessThan(relativeError(refBack.dinp, fdX), 1e-6)
        XCTAssertLessThan(relativeError(refBack.dweight, fdW), 1e-6)
        // Accumulating adds to what is there.
        let before = dx.array
        RMSNorm.backward(
            dinp: dx.p, dweight: dw.p, dout: Buffer(dy).p, inp: Buffer(x).p, weight: Buffer(w).p, rstd: rstd.p,
            scratch: scratch.p, R: R, C: C, inputWrite: .accumulate, parameterWrite: .accumulate)
        XCTAssertLessThan(maxAbsDifference(dx.array, before.map { 2 * Double($0) }), 1e-5)
    }

    /// RoPE rotates by the reference's angles; its inverse is its gradient (the rotation is orthogonal), checked by
    /// finite differences of the rotation.
    func testRoPEMatchesReferenceAndItsInverseIsItsGradient() {
        let layout = AttentionLayout.grouped(NH: 2, NKV: 1, hs: 8), R = 5
        let rows = randomFloats(R * layout.rowStride, seed: 4), dy = randomFloats(R * layout.rowStride, seed: 5)
        let positions: [Int32] = [0, 1, 7, 30, 511]
        let table = RoPE.Table(headSize: 8, maxPositions: 512, base: 10_000)
        let heads = RoPE.queryAndKeyHeads(layout)
        let b = Buffer(rows)
        positions.withUnsafeBufferPointer {
            RoPE.apply(b.p, R: R, rowStride: layout.rowStride, headOffsets: heads, positions: $0, table: table)
        }
        let ref = Reference.RoPE.apply(
            doubles(rows), R: R, rowStride: layout.rowStride, headOffsets: heads, positions: positions.map(Int.init), hs: 8,
            base: 10_000.0)
        XCTAssertLessThan(maxAbsDifference(b.array, ref), 1e-5)
        XCTAssertEqual(
            b.array[(0..<R).map { $0 * layout.rowStride + layout.vOffset }.first!], rows[layout.vOffset], "values are not rotated")
        let fd = numericalGradient(doubles(rows)) {
            weightedSum(
                Reference.RoPE.apply(
                    $0, R: R, rowStride: layout.rowStride, headOffsets: heads, positions: positions.map(Int.init), hs: 8,
                    base: 10_000.0), doubles(dy))
        }
        let g = Buffer(dy)
        positions.withUnsafeBufferPointer {
            RoPE.apply(g.p, R: R, rowStride: layout.rowStride, headOffsets: heads, positions: $0, table: table, inverse: true)
        }
        XCTAssertLessThan(relativeError(doubles(g.array), fd), tolerance)
    }

    /// Both kernels where the CPU has AVX-512F (the C one and the Swift loops, forced), rows of 11 and of 37 (off 8 and 16).
    func testSwiGLUMatchesReferenceAndFiniteDifferences() {
        defer { wp_quant_set_kernel(wp_quant_best_kernel()) }
        for kernel in Set([1, Int(wp_quant_best_kernel())]).sorted() {
            wp_quant_set_kernel(Int32(kernel))
            for (R, H) in [(3, 11), (2, 37)] {
                let gu = randomFloats(R * 2 * H, seed: 6, scale: 3), dy = randomFloats(R * H, seed: 7)
                let out = Buffer(count: R * H)
                SwiGLU.forward(out: out.p, gateUp: Buffer(gu).p, R: R, H: H)
                XCTAssertLessThan(
                    maxAbsDifference(out.array, Reference.SwiGLU.forward(gateUp: doubles(gu), R: R, H: H)), 1e-5, "kernel \(kernel)")
                let fd = numericalGradient(doubles(gu)) { weightedSum(Reference.SwiGLU.forward(gateUp: $0, R: R, H: H), doubles(dy)) }
                let dgu = Buffer(count: R * 2 * H)
                SwiGLU.backward(dgateUp: dgu.p, gateUp: Buffer(gu).p, dout: Buffer(dy).p, R: R, H: H)
                XCTAssertLessThan(relativeError(doubles(dgu.array), fd), tolerance, "kernel \(kernel)")
            }
        }
    }

    /// The router's choices, renormalised weights and auxiliary loss, and its backward against finite differences of
    /// Σ dw·w + coefficient·aux through the softmax.
    func testRouterChoosesTopKRenormalisesAndItsGradientMatches() {
        let R = 4, E = 5, k = 2, coefficient: Float = 0.3
        let logits = randomFloats(R * E, seed: 8, scale: 2), dw = randomFloats(R * k, seed: 9)
        let probs = Buffer(count: R * E), weights = Buffer(count: R * k),
            experts = UnsafeMutableBufferPointer<Int32>.allocate(capacity: R * k)
        defer { experts.deallocate() }
        Router.forward(probs: probs.p, experts: experts, weights: weights.p, logits: Buffer(logits).p, R: R, E: E, k: k)
        for r in 0..<R {
            let row = Array(probs.array[(r * E)..<((r + 1) * E)])
            let top = row.indices.sorted { row[$0] > row[$1] }.prefix(k)
            XCTAssertEqual(Array(experts[(r * k)..<((r + 1) * k)]).map(Int.init), Array(top))
            XCTAssertEqual(Double(weights.array[r * k] + weights.array[r * k + 1]), 1, accuracy: 1e-6)
        }
        let counts = Router.counts(experts: UnsafeBufferPointer(experts), R: R, E: E, k: k)
        let fractions = counts.map { Float($0) / Float(R) }
        // f(logits) = Σ dw·w(logits) + coefficient·E·Σₑ fₑ·mean_r p[r,e], with the choices (and fₑ) held fixed.
        let choice = Array(experts).map(Int.init)
        func objective(_ x: [Double]) -> Double {
            var total = 0.0
            var meanP = [Double](repeating: 0, count: E)
            for r in 0..<R {
                let row = Array(x[(r * E)..<((r + 1) * E)]), m = row.max()!
                let e = row.map { Foundation.exp($0 - m) }, s = e.reduce(0, +), p = e.map { $0 / s }
                for j in 0..<E { meanP[j] += p[j] / Double(R) }
                let picks = choice[(r * k)..<((r + 1) * k)], norm = picks.reduce(0) { $0 + p[$1] }
                for (slot, j) in picks.enumerated() { total += Double(dw[r * k + slot]) * p[j] / norm }
            }
            for j in 0..<E { total += Double(coefficient) * Double(E) * Double(fractions[j]) * meanP[j] }
            return total
        }
        let fd = numericalGradient(doubles(logits), objective)
        let dlogits = Buffer(count: R * E)
        Router.backward(
            dlogits: dlogits.p, dweights: Buffer(dw).p, probs: probs.p, experts: experts, weights: weights.p, R: R, E: E, k: k,
            auxiliaryCoefficient: coefficient, fractions: fractions, rows: R)
        XCTAssertLessThan(relativeError(doubles(dlogits.array), fd), tolerance)
    }
}
