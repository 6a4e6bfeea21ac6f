// Legend: R rows (B·T), C channels.

/// Layer normalisation over the last dimension, with learned scale and shift (eps 1e-5 as GPT-2 unless given; BERT's is
/// 1e-12).
public enum LayerNorm {
    public static let epsilon: Float = 1e-5

    /// out = (inp − mean)·rstd·weight + bias per row, rstd = 1/√(var + ε). Caches `mean[R]` and `rstd[R]` for backward.
    public static func forward(
        out: UnsafeMutableBufferPointer<Float>, mean: UnsafeMutableBufferPointer<Float>, rstd: UnsafeMutableBufferPointer<Float>,
        inp: UnsafeMutableBufferPointer<Float>, weight: UnsafeMutableBufferPointer<Float>, bias: UnsafeMutableBufferPointer<Float>,
        R: Int, C: Int, epsilon: Float = LayerNorm.epsilon
    ) {
        precondition(out.count >= R * C && inp.count >= R * C && mean.count >= R && rstd.count >= R)
        let o = out.baseAddress!, x = inp.baseAddress!, w = weight.baseAddress!, b = bias.baseAddress!
        let mp = mean.baseAddress!, rp = rstd.baseAddress!
        Parallel.forEachChunk(R, minChunk: 16) { _, rows in
            for row in rows {
                let xr = x + row * C, orow = o + row * C
                var acc = Float8(), i = 0
                while i + 8 <= C { acc += load8(xr + i); i += 8 }
                var s = acc.sum()
                while i < C { s += xr[i]; i += 1 }
                let m = s / Float(C)
                let mv = Float8(repeating: m)
                var vacc = Float8()
                i = 0
                while i + 8 <= C { let d = load8(xr + i) - mv; vacc += d * d; i += 8 }
                var v = vacc.sum()
                while i < C { let d = xr[i] - m; v += d * d; i += 1 }
                let r = 1 / (v / Float(C) + epsilon).squareRoot()
                let rv = Float8(repeating: r)
                i = 0
                while i + 8 <= C { store8((load8(xr + i) - mv) * rv * load8(w + i) + load8(b + i), orow + i); i += 8 }
                while i < C { orow[i] = (xr[i] - m) * r * w[i] + b[i]; i += 1 }
                mp[row] = m
                rp[row] = r
            }
        }
    }

    /// dinp (=|+=) (dnorm − mean(dnorm) − norm·mean(dnorm·norm))·rstd with dnorm = dout·weight;
    /// dweight (=|+=) Σ dout·norm; dbias (=|+=) Σ dout.
    ///
    /// Row chunks write partial parameter gradients into `scratch` (≥ `Parallel.maxChunks`·2C floats),
    /// summed in chunk order so results are deterministic for a given thread count.
    public static func backward(
        dinp: UnsafeMutableBufferPointer<Float>, dweight: UnsafeMutableBufferPointer<Float>, dbias: UnsafeMutableBufferPointer<Float>,
        dout: UnsafeMutableBufferPointer<Float>, inp: UnsafeMutableBufferPointer<Float>, weight: UnsafeMutableBufferPointer<Float>,
        mean: UnsafeMutableBufferPointer<Float>, rstd: UnsafeMutableBufferPointer<Float>,
        scratch: UnsafeMutableBufferPointer<Float>, R: Int, C: Int,
        inputWrite: GradientWrite, parameterWrite: GradientWrite
    ) {
        let chunks = Parallel.chunkCount(R, minChunk: 16)
        precondition(scratch.count >= chunks * 2 * C, "layernorm scratch too small")
        let di = dinp.baseAddress!, dw = dweight.baseAddress!, db = dbias.baseAddress!, dy = dout.baseAddress!
        let x = inp.baseAddress!, w = weight.baseAddress!, mp = mean.baseAddress!, rp = rstd.baseAddress!
        let sp = scratch.baseAddress!
        let accumulateInput = inputWrite == .accumulate
        let invC = 1 / Float(C)
        Parallel.forEachChunk(R, minChunk: 16) { chunk, rows in
            let pdw = sp + chunk * 2 * C, pdb = pdw + C
            pdw.update(repeating: 0, count: 2 * C)
            for row in rows {
                let xr = x + row * C, dyr = dy + row * C, dir = di + row * C
                let m = Float8(repeating: mp[row]), r = Float8(repeating: rp[row])
                var s1v = Float8(), s2v = Float8(), i = 0
                while i + 8 <= C {
                    let norm = (load8(xr + i) - m) * r
                    let dyv = load8(dyr + i)
                    let dnorm = dyv * load8(w + i)
                    s1v += dnorm
                    s2v += dnorm * norm
                    store8(load8(pdw + i) + dyv * norm, pdw + i)
                    store8(load8(pdb + i) + dyv, pdb + i)
                    i += 8
                }
                var s1 = s1v.sum(), s2 = s2v.sum()
                while i < C {
                    let norm = (xr[i] - mp[row]) * rp[row]
                    let dnorm = dyr[i] * w[i]
                    s1 += dnorm
                    s2 += dnorm * norm
                    pdw[i] += dyr[i] * norm
                    pdb[i] += dyr[i]
                    i += 1
                }
                s1 *= invC
                s2 *= invC
                let s1b = Float8(repeating: s1), s2b = Float8(repeating: s2)
                i = 0
                while i + 8 <= C {
                    let norm = (load8(xr + i) - m) * r
                    var g = (load8(dyr + i) * load8(w + i) - s1b - norm * s2b) * r
                    if accumulateInput { g += load8(dir + i) }
                    store8(g, dir + i)
                    i += 8
                }
                while i < C {
                    let norm = (xr[i] - mp[row]) * rp[row]
                    let g = (dyr[i] * w[i] - s1 - norm * s2) * rp[row]
                    dir[i] = accumulateInput ? dir[i] + g : g
                    i += 1
                }
            }
        }
        for i in 0..<C {
            var sw: Float = 0, sb: Float = 0
            for chunk in 0..<chunks {
                sw += sp[chunk * 2 * C + i]
                sb += sp[chunk * 2 * C + C + i]
            }
            if parameterWrite == .accumulate {
                dw[i] += sw
                db[i] += sb
            } else {
                dw[i] = sw
                db[i] = sb
            }
        }
    }
}
