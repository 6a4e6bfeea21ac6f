// Legend: M rows (tokens), C channels, H hidden width of an expert, E experts, k experts per token, A = M·k assignments.

/// One expert's weights, in Mixtral's output-major layout: gate (w1) and up (w3) stored together [2H, C], down (w2) [C, H].
struct ExpertTensors {
    let gateUp, down: UnsafeMutableBufferPointer<Float>
}

/// What a mixture layer's forward keeps for its backward. Assignment a = r·k + s is row r's s-th choice; `slot[a]` is
/// its position among the assignments grouped by expert (expert e owns positions `offsets[e] ..< offsets[e+1]`).
struct MixtureBuffers {
    var routerLogits, probs, weights: UnsafeMutableBufferPointer<Float>
    var experts, slot, offsets: UnsafeMutableBufferPointer<Int32>
    var expertIn, gateUp, act, expertOut: UnsafeMutableBufferPointer<Float>

    /// Floats and Int32s a layer of M rows needs.
    static func floats(M: Int, C: Int, H: Int, E: Int, k: Int) -> [(String, Int)] {
        let A = M * k
        return [
            ("routerLogits", M * E), ("probs", M * E), ("weights", A), ("expertIn", A * C), ("expertGateUp", A * 2 * H),
            ("expertAct", A * H), ("expertOut", A * C),
        ]
    }
}

/// A mixture-of-experts feed-forward (Mixtral's sparse MoE block): a softmax top-k router, then each chosen expert, a
/// SwiGLU MLP, on the rows routed to it, combined by the renormalised router weights. Tokens are grouped per expert so
/// each expert's work is one sgemm per matrix; every routed token is computed (no capacity limit, no token dropped).
enum MixtureLayer {
    /// out[M,C] = residual + Σₛ wₛ·expert_{eₛ}(inp) per row (`out` may alias `residual`). Returns the assignments per
    /// expert.
    @discardableResult
    static func forward(
        out: UnsafeMutableBufferPointer<Float>, inp: UnsafeMutableBufferPointer<Float>, residual: UnsafeMutableBufferPointer<Float>,
        router: UnsafeMutableBufferPointer<Float>, experts: [ExpertTensors], b: MixtureBuffers, M: Int, C: Int, H: Int, k: Int
    ) -> [Int] {
        let E = experts.count, A = M * k
        MatMul.forward(out: b.routerLogits, inp: inp, weight: router, bias: nil, M: M, K: C, N: E, layout: .outputMajor)
        Router.forward(probs: b.probs, experts: b.experts, weights: b.weights, logits: b.routerLogits, R: M, E: E, k: k)
        let counts = Router.counts(experts: UnsafeBufferPointer(b.experts), R: M, E: E, k: k)
        // Group the assignments by expert (a counting sort, stable in row order).
        var next = [Int](repeating: 0, count: E)
        var running = 0
        for e in 0..<E {
            b.offsets[e] = Int32(running)
            next[e] = running
            running += counts[e]
        }
        b.offsets[E] = Int32(A)
        for a in 0..<A {
            let e = Int(b.experts[a])
            b.slot[a] = Int32(next[e])
            next[e] += 1
        }
        let x = inp.baseAddress!, xin = b.expertIn.baseAddress!
        Parallel.forEachChunk(A, minChunk: 64) { _, range in
            for a in range { (xin + Int(b.slot[a]) * C).update(from: x + (a / k) * C, count: C) }
        }
        for e in 0..<E where counts[e] > 0 {
            let first = Int(b.offsets[e]), n = counts[e]
            MatMul.forward(
                out: rows(b.gateUp, first, n, 2 * H), inp: rows(b.expertIn, first, n, C), weight: experts[e].gateUp, bias: nil,
                M: n, K: C, N: 2 * H, layout: .outputMajor)
            SwiGLU.forward(out: rows(b.act, first, n, H), gateUp: rows(b.gateUp, first, n, 2 * H), R: n, H: H)
            MatMul.forward(
                out: rows(b.expertOut, first, n, C), inp: rows(b.act, first, n, H), weight: experts[e].down, bias: nil,
                M: n, K: H, N: C, layout: .outputMajor)
        }
        let o = out.baseAddress!, res = residual.baseAddress!, y = b.expertOut.baseAddress!, w = b.weights.baseAddress!
        Parallel.forEachChunk(M, minChunk: 16) { _, range in
            for r in range {
                let orow = o + r * C, rrow = res + r * C
                if orow != rrow { orow.update(from: rrow, count: C) }
                for s in 0..<k {
                    let a = r * k + s, yrow = y + Int(b.slot[a]) * C, ws = Float8(repeating: w[a])
                    var i = 0
                    while i + 8 <= C { store8(load8(orow + i) + ws * load8(yrow + i), orow + i); i += 8 }
                    while i < C { orow[i] += w[a] * yrow[i]; i += 1 }
                }
            }
        }
        return counts
    }

    /// Backward from `dout[M,C]` (the gradient of the layer's output; the residual's gradient is the same and handled by
    /// the caller). Writes dinp[M,C] (overwritten), the experts' and router's weight gradients per `parameterWrite`.
    /// The router's gradient includes the load-balancing term: `auxiliaryScale`·E·fₑ/`auxiliaryRows` per probability.
    static func backward(
        dinp: UnsafeMutableBufferPointer<Float>, dout: UnsafeMutableBufferPointer<Float>, inp: UnsafeMutableBufferPointer<Float>,
        router: UnsafeMutableBufferPointer<Float>, drouter: UnsafeMutableBufferPointer<Float>, experts: [ExpertTensors],
        dexperts: [ExpertTensors], b: MixtureBuffers, scratch: MixtureScratch, M: Int, C: Int, H: Int, k: Int,
        auxiliaryScale: Float, fractions: [Float], auxiliaryRows: Int, parameterWrite pw: GradientWrite
    ) {
        let E = experts.count, A = M * k
        let dy = dout.baseAddress!, y = b.expertOut.baseAddress!, w = b.weights.baseAddress!
        let dyo = scratch.dExpertOut.baseAddress!, dw = scratch.dweights.baseAddress!
        Parallel.forEachChunk(A, minChunk: 64) { _, range in
            for a in range {
                let r = a / k, pos = Int(b.slot[a]), src = dy + r * C, yrow = y + pos * C, dst = dyo + pos * C
                let ws = Float8(repeating: w[a])
                var dot = Float8(), i = 0
                while i + 8 <= C {
                    let g = load8(src + i)
                    store8(ws * g, dst + i)
                    dot += g * load8(yrow + i)
                    i += 8
                }
                var d = dot.sum()
                while i < C { dst[i] = w[a] * src[i]; d += src[i] * yrow[i]; i += 1 }
                dw[a] = d
            }
        }
        for e in 0..<E {
            let first = Int(b.offsets[e]), n = Int(b.offsets[e + 1]) - first
            guard n > 0 else {
                if pw == .overwrite {
                    dexperts[e].gateUp.update(repeating: 0)
                    dexperts[e].down.update(repeating: 0)
                }
                continue
            }
            MatMul.backward(
                dinp: rows(scratch.dact, first, n, H), dweight: dexperts[e].down, dbias: nil, dout: rows(scratch.dExpertOut, first, n, C),
                inp: rows(b.act, first, n, H), weight: experts[e].down, M: n, K: H, N: C, layout: .outputMajor, parameterWrite: pw)
            SwiGLU.backward(
                dgateUp: rows(scratch.dgateUp, first, n, 2 * H), gateUp: rows(b.gateUp, first, n, 2 * H),
                dout: rows(scratch.dact, first, n, H), R: n, H: H)
            MatMul.backward(
                dinp: rows(scratch.dExpertIn, first, n, C), dweight: dexperts[e].gateUp, dbias: nil,
                dout: rows(scratch.dgateUp, first, n, 2 * H),
                inp: rows(b.expertIn, first, n, C), weight: experts[e].gateUp, M: n, K: C, N: 2 * H, layout: .outputMajor,
                parameterWrite: pw)
        }
        let dx = dinp.baseAddress!, dxin = scratch.dExpertIn.baseAddress!
        Parallel.forEachChunk(M, minChunk: 16) { _, range in
            for r in range {
                let drow = dx + r * C
                drow.update(from: dxin + Int(b.slot[r * k]) * C, count: C)
                for s in 1..<max(k, 1) {
                    let src = dxin + Int(b.slot[r * k + s]) * C
                    var i = 0
                    while i + 8 <= C { store8(load8(drow + i) + load8(src + i), drow + i); i += 8 }
                    while i < C { drow[i] += src[i]; i += 1 }
                }
            }
        }
        Router.backward(
            dlogits: scratch.drouterLogits, dweights: scratch.dweights, probs: b.probs, experts: b.experts, weights: b.weights,
            R: M, E: E, k: k, auxiliaryCoefficient: auxiliaryScale, fractions: fractions, rows: auxiliaryRows)
        MatMul.backward(
            dinp: dinp, dweight: drouter, dbias: nil, dout: scratch.drouterLogits, inp: inp, weight: router, M: M, K: C, N: E,
            layout: .outputMajor, inputWrite: .accumulate, parameterWrite: pw)
    }

    /// Rows `first ..< first + n` of a buffer of `width`-float rows.
    @inline(__always)
    static func rows(_ buffer: UnsafeMutableBufferPointer<Float>, _ first: Int, _ n: Int, _ width: Int) -> UnsafeMutableBufferPointer<Float>
    {
        UnsafeMutableBufferPointer(rebasing: buffer[(first * width)..<((first + n) * width)])
    }
}

/// A mixture layer's backward scratch, shared by all layers.
struct MixtureScratch {
    var dExpertOut, dExpertIn, dgateUp, dact, dweights, drouterLogits: UnsafeMutableBufferPointer<Float>

    static func floats(M: Int, C: Int, H: Int, E: Int, k: Int) -> [(String, Int)] {
        let A = M * k
        return [
            ("dExpertOut", A * C), ("dExpertIn", A * C), ("dgateUpMix", A * 2 * H), ("dactMix", A * H), ("dweights", A),
            ("drouterLogits", M * E),
        ]
    }
}
