// Legend: R rows, C channels.

/// Root-mean-square normalisation (Zhang & Sennrich 2019), as Llama uses it: out = x·rstd·weight with
/// rstd = 1/√(mean(x²) + ε); no mean is subtracted and there is no bias.
public enum RMSNorm {
    /// out = inp·rstd·weight per row. Caches `rstd[R]` for backward. `out` may alias `inp`.
    public static func forward(
        out: UnsafeMutableBufferPointer<Float>, rstd: UnsafeMutableBufferPointer<Float>, inp: UnsafeMutableBufferPointer<Float>,
        weight: UnsafeMutableBufferPointer<Float>, R: Int, C: Int, epsilon: Float
    ) {
        precondition(out.count >= R * C && inp.count >= R * C && rstd.count >= R && weight.count >= C)
        let o = out.baseAddress!, x = inp.baseAddress!, w = weight.baseAddress!, rp = rstd.baseAddress!
        Parallel.forEachChunk(R, minChunk: 16) { _, rows in
            for row in rows {
                let xr = x + row * C, orow = o + row * C
                var acc = Float8(), i = 0
                while i + 8 <= C { let v = load8(xr + i); acc += v * v; i += 8 }
                var s = acc.sum()
                while i < C { s += xr[i] * xr[i]; i += 1 }
                let r = 1 / (s / Float(C) + epsilon).squareRoot()
                let rv = Float8(repeating: r)
                i = 0
                while i + 8 <= C { store8(load8(xr + i) * rv * load8(w + i), orow + i); i += 8 }
                while i < C { orow[i] = xr[i] * r * w[i]; i += 1 }
                rp[row] = r
            }
        }
    }

    /// With g = dout·weight: dinp (=|+=) rstd·g − inp·rstd³·mean(g·inp); dweight (=|+=) Σ_rows dout·inp·rstd.
    ///
    /// Row chunks write partial weight gradients into `scratch` (≥ `Parallel.maxChunks`·C floats), summed in chunk
    /// order so results are deterministic for a given thread count.
    public static func backward(
        dinp: UnsafeMutableBufferPointer<Float>, dweight: UnsafeMutableBufferPointer<Float>,
        dout: UnsafeMutableBufferPointer<Float>, inp: UnsafeMutableBufferPointer<Float>, weight: UnsafeMutableBufferPointer<Float>,
        rstd: UnsafeMutableBufferPointer<Float>, scratch: UnsafeMutableBufferPointer<Float>, R: Int, C: Int,
        inputWrite: GradientWrite, parameterWrite: GradientWrite
    ) {
        let chunks = Parallel.chunkCount(R, minChunk: 16)
        precondition(scratch.count >= chunks * C, "rmsnorm scratch too small")
        let di = dinp.baseAddress!, dw = dweight.baseAddress!, dy = dout.baseAddress!
        let x = inp.baseAddress!, w = weight.baseAddress!, rp = rstd.baseAddress!, sp = scratch.baseAddress!
        let accumulateInput = inputWrite == .accumulate, invC = 1 / Float(C)
        Parallel.forEachChunk(R, minChunk: 16) { chunk, rows in
            let pdw = sp + chunk * C
            pdw.update(repeating: 0, count: C)
            for row in rows {
                let xr = x + row * C, dyr = dy + row * C, dir = di + row * C, r = rp[row]
                let rv = Float8(repeating: r)
                var dotv = Float8(), i = 0
                while i + 8 <= C {
                    let xv = load8(xr + i), dyv = load8(dyr + i)
                    dotv += dyv * load8(w + i) * xv
                    store8(load8(pdw + i) + dyv * xv * rv, pdw + i)
                    i += 8
                }
                var dot = dotv.sum()
                while i < C { dot += dyr[i] * w[i] * xr[i]; pdw[i] += dyr[i] * xr[i] * r; i += 1 }
                let k = dot * invC * r * r * r
                let kv = Float8(repeating: k)
                i = 0
                while i + 8 <= C {
                    var g = load8(dyr + i) * load8(w + i) * rv - load8(xr + i) * kv
                    if accumulateInput { g += load8(dir + i) }
                    store8(g, dir + i)
                    i += 8
                }
                while i < C {
                    let g = dyr[i] * w[i] * r - xr[i] * k
                    dir[i] = accumulateInput ? dir[i] + g : g
                    i += 1
                }
            }
        }
        for i in 0..<C {
            var s: Float = 0
            for chunk in 0..<chunks { s += sp[chunk * C + i] }
            dw[i] = parameterWrite == .accumulate ? dw[i] + s : s
        }
    }
}
