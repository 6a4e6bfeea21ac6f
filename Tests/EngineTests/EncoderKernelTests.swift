@testable import Engine
import XCTest

/// The encoder and encoder–decoder kernels against their Double references and central finite differences:
/// bidirectional attention with padding, causal attention with T5's relative position bias (through its table),
/// cross-attention (Tq ≠ Tk), the exact and gated GELUs. Tolerance 1e-4 relative per tensor, as for the other kernels.
final class EncoderKernelTests: EngineTestCase {
    let tolerance = 1e-4

    struct AttentionCase {
        var B = 2, Tq = 5, Tk = 5, NH = 2, hs = 4
        var causal = false
        var padding: [UInt8]?
        var table: (buckets: Int, maxDistance: Int)?
        var scale: Float = 0.5
    }

    func checkAttention(_ c: AttentionCase, _ name: String) {
        let W = c.NH * c.hs
        let q = randomFloats(c.B * c.Tq * W, seed: 1, scale: 2), k = randomFloats(c.B * c.Tk * W, seed: 2, scale: 2)
        let v = randomFloats(c.B * c.Tk * W, seed: 3), dy = randomFloats(c.B * c.Tq * W, seed: 4)
        let table = c.table.map { randomFloats($0.buckets * c.NH, seed: 5) } ?? []
        let buckets = c.table.map {
            RelativePositionBias.buckets(Tq: c.Tq, Tk: c.Tk, bidirectional: !c.causal, buckets: $0.buckets, maxDistance: $0.maxDistance)
        }
        func bias(_ t: [Double]) -> [Double]? {
            guard let buckets else { return nil }
            var out = [Double](repeating: 0, count: c.NH * c.Tq * c.Tk)
            for h in 0..<c.NH { for r in 0..<(c.Tq * c.Tk) { out[h * c.Tq * c.Tk + r] = t[Int(buckets[r]) * c.NH + h] } }
            return out
        }
        let (qd, kd, vd, td, dyd) = (doubles(q), doubles(k), doubles(v), doubles(table), doubles(dy))
        func loss(_ q: [Double], _ k: [Double], _ v: [Double], _ t: [Double]) -> Double {
            weightedSum(
                Reference.MaskedAttention.forward(
                    q: q, k: k, v: v, B: c.B, Tq: c.Tq, Tk: c.Tk, NH: c.NH, hs: c.hs, scale: Double(c.scale), causal: c.causal,
                    keyPadding: c.padding, bias: bias(t)), dyd)
        }
        let fdQ = numericalGradient(qd) { loss($0, kd, vd, td) }
        let fdK = numericalGradient(kd) { loss(qd, $0, vd, td) }
        let fdV = numericalGradient(vd) { loss(qd, kd, $0, td) }
        let fdTable = numericalGradient(td) { loss(qd, kd, vd, $0) }

        let qb = Buffer(q), kb = Buffer(k), vb = Buffer(v), out = Buffer(count: c.B * c.Tq * W)
        let att = Buffer(count: c.B * c.NH * c.Tq * c.Tk), biasBuffer = Buffer(count: max(1, c.NH * c.Tq * c.Tk))
        if let buckets {
            table.withUnsafeBufferPointer {
                RelativePositionBias.forward(
                    bias: biasBuffer.p.baseAddress!, table: $0.baseAddress!, buckets: buckets, NH: c.NH, Tq: c.Tq, Tk: c.Tk)
            }
        }
        let padding = c.padding ?? []
        padding.withUnsafeBufferPointer { pad in
            let masking = AttentionMasking(
                scale: c.scale, causal: c.causal, keyPadding: c.padding == nil ? nil : pad.baseAddress!,
                bias: buckets == nil ? nil : UnsafePointer(biasBuffer.p.baseAddress!))
            let operands = AttentionOperands(
                q: qb.p.baseAddress!, qStride: W, k: kb.p.baseAddress!, kStride: W, v: vb.p.baseAddress!, vStride: W)
            MaskedAttention.forward(
                out: out.p.baseAddress!, att: att.p.baseAddress!, operands: operands, masking: masking, B: c.B, Tq: c.Tq, Tk: c.Tk,
                NH: c.NH,
                hs: c.hs)
            let reference = Reference.MaskedAttention.forward(
                q: qd, k: kd, v: vd, B: c.B, Tq: c.Tq, Tk: c.Tk, NH: c.NH, hs: c.hs, scale: Double(c.scale), causal: c.causal,
                keyPadding: c.padding, bias: bias(td))
            XCTAssertLessThan(relativeError(doubles(out.array), reference), 1e-6, "\(name) forward")
            let dq = Buffer(count: q.count), dk = Buffer(count: k.count), dv = Buffer(count: v.count)
            let datt = Buffer(count: att.array.count), dbias = Buffer(count: biasBuffer.array.count)
            MaskedAttention.backward(
                gradients: AttentionOperands(
                    q: dq.p.baseAddress!, qStride: W, k: dk.p.baseAddress!, kStride: W, v: dv.p.baseAddress!, vStride: W),
                datt: datt.p.baseAddress!, dbias: buckets == nil ? nil : dbias.p.baseAddress!, dout: Buffer(dy).p.baseAddress!,
                operands: operands, att: att.p.baseAddress!, masking: masking, B: c.B, Tq: c.Tq, Tk: c.Tk, NH: c.NH, hs: c.hs)
            XCTAssertLessThan(relativeError(doubles(dq.array), fdQ), tolerance, "\(name) dq")
            XCTAssertLessThan(relativeError(doubles(dk.array), fdK), tolerance, "\(name) dk")
            XCTAssertLessThan(relativeError(doubles(dv.array), fdV), tolerance, "\(name) dv")
            // A padding key gets probability exactly 0: its value gets no gradient at all.
            for (r, flag) in padding.enumerated() where flag != 0 {
                XCTAssertEqual(dv.array[(r * W)..<(r * W + W)].map(abs).max(), 0, "\(name): padded key \(r)")
            }
            if let buckets {
                var dtable = [Float](repeating: 0, count: table.count)
                dtable.withUnsafeMutableBufferPointer {
                    RelativePositionBias.backward(
                        dtable: $0.baseAddress!, dbias: dbias.p.baseAddress!, buckets: buckets, NH: c.NH, Tq: c.Tq, Tk: c.Tk)
                }
                XCTAssertLessThan(relativeError(doubles(dtable), fdTable), tolerance, "\(name) d table")
            }
        }
    }

    func testBidirectionalAttentionWithPaddingMatchesReferenceAndFiniteDifferences() {
        var c = AttentionCase()
        c.padding = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
        checkAttention(c, "bidirectional, padded")
    }

    func testCausalAttentionWithRelativeBiasMatchesReferenceAndFiniteDifferences() {
        var c = AttentionCase()
        c.causal = true
        c.scale = 1
        c.Tq = 6
        c.Tk = 6
        c.table = (buckets: 8, maxDistance: 5)
        checkAttention(c, "causal with relative bias")
    }

    func testBidirectionalRelativeBiasAndCrossAttention() {
        var encoder = AttentionCase()
        encoder.scale = 1
        encoder.table = (buckets: 6, maxDistance: 4)
        encoder.padding = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        checkAttention(encoder, "bidirectional with relative bias")
        var cross = AttentionCase()
        cross.Tq = 3
        cross.Tk = 7
        cross.padding = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]
        checkAttention(cross, "cross-attention")
        var prefill = AttentionCase()
        prefill.causal = true
        prefill.Tq = 2
        prefill.Tk = 6
        checkAttention(prefill, "causal queries at the end of a longer cache")
    }

    func testRelativePositionBucketsFollowT5sRules() {
        // Exact below half the (per-direction) buckets, logarithmic to the maximum distance, saturated beyond.
        for r in 0..<8 { XCTAssertEqual(RelativePositionBias.bucket(-r, bidirectional: true, buckets: 32, maxDistance: 128), r) }
        for r in 1..<8 { XCTAssertEqual(RelativePositionBias.bucket(r, bidirectional: true, buckets: 32, maxDistance: 128), 16 + r) }
        XCTAssertEqual(RelativePositionBias.bucket(-1000, bidirectional: true, buckets: 32, maxDistance: 128), 15)
        XCTAssertEqual(
            RelativePositionBias.bucket(5, bidirectional: false, buckets: 32, maxDistance: 128), 0, "a decoder cannot look ahead")
        XCTAssertEqual(RelativePositionBias.bucket(-1000, bidirectional: false, buckets: 32, maxDistance: 128), 31)
        var previous = 0
        for r in 0...300 {
            let b = RelativePositionBias.bucket(-r, bidirectional: false, buckets: 32, maxDistance: 128)
            XCTAssertGreaterThanOrEqual(b, previous, "buckets never decrease with distance")
            previous = b
        }
    }

    func testExactGELUMatchesErfAndFiniteDifferences() {
        let x = randomFloats(37, seed: 7, scale: 4), dy = randomFloats(37, seed: 8)
        let out = Buffer(count: 37), xb = Buffer(x)
        ExactGELU.forward(out: out.p.baseAddress!, inp: xb.p.baseAddress!, N: 37)
        XCTAssertLessThan(maxAbsDifference(out.array, Reference.exactGELU(doubles(x))), 1e-6)
        let fd = numericalGradient(doubles(x)) { weightedSum(Reference.exactGELU($0), doubles(dy)) }
        let dx = Buffer(count: 37)
        ExactGELU.backward(dinp: dx.p.baseAddress!, inp: xb.p.baseAddress!, dout: Buffer(dy).p.baseAddress!, N: 37)
        XCTAssertLessThan(relativeError(doubles(dx.array), fd), tolerance)
    }

    func testGatedGELUMatchesReferenceAndFiniteDifferences() {
        let R = 3, H = 11
        let gu = randomFloats(R * 2 * H, seed: 9, scale: 3), dy = randomFloats(R * H, seed: 10)
        let out = Buffer(count: R * H), gb = Buffer(gu)
        GatedGELU.forward(out: out.p.baseAddress!, gateUp: gb.p.baseAddress!, R: R, H: H)
        XCTAssertLessThan(relativeError(doubles(out.array), Reference.gatedGELU(doubles(gu), R: R, H: H)), 1e-6)
        let fd = numericalGradient(doubles(gu)) { weightedSum(Reference.gatedGELU($0, R: R, H: H), doubles(dy)) }
        let dgu = Buffer(count: R * 2 * H)
        GatedGELU.backward(dgateUp: dgu.p.baseAddress!, gateUp: gb.p.baseAddress!, dout: Buffer(dy).p.baseAddress!, R: R, H: H)
        XCTAssertLessThan(relativeError(doubles(dgu.array), fd), tolerance)
    }
}
