import CKernels

// Legend: R rows, H hidden width; each input row is gate | up (2H floats, as one fused projection writes them).

/// The SwiGLU feed-forward gate (Shazeer 2020), as Llama's MLP uses it: out = silu(gate) ⊙ up, silu(x) = x·σ(x).
/// Where the CPU has AVX-512F each chunk of rows runs `wp_swiglu_forward`/`backward` (swiglu.c), else the loops here.
public enum SwiGLU {
    /// out[R,H] = silu(gateUp[:, :H]) ⊙ gateUp[:, H:]. Caches nothing: backward recomputes from `gateUp`.
    public static func forward(out: UnsafeMutableBufferPointer<Float>, gateUp: UnsafeMutableBufferPointer<Float>, R: Int, H: Int) {
        precondition(out.count >= R * H && gateUp.count >= R * 2 * H)
        let o = out.baseAddress!, gu = gateUp.baseAddress!
        Parallel.forEachChunk(R, minChunk: max(1, 16_384 / max(H, 1))) { _, rows in
            if wp_swiglu_forward(gu + rows.lowerBound * 2 * H, o + rows.lowerBound * H, rows.count, H) != 0 { return }
            for r in rows {
                let g = gu + r * 2 * H, u = g + H, orow = o + r * H
                var i = 0
                while i + 8 <= H {
                    let gv = load8(g + i)
                    let sig = 1 / (1 + VectorMath.exp(-gv))
                    store8(gv * sig * load8(u + i), orow + i)
                    i += 8
                }
                while i < H {
                    let sig = 1 / (1 + VectorMath.exp(-g[i]))
                    orow[i] = g[i] * sig * u[i]
                    i += 1
                }
            }
        }
    }

    /// dgateUp[R,2H] = (dout·up·σ(g)(1 + g(1 − σ(g))) | dout·silu(g)), overwritten.
    public static func backward(
        dgateUp: UnsafeMutableBufferPointer<Float>, gateUp: UnsafeMutableBufferPointer<Float>, dout: UnsafeMutableBufferPointer<Float>,
        R: Int, H: Int
    ) {
        precondition(dgateUp.count >= R * 2 * H && dout.count >= R * H)
        let dgu = dgateUp.baseAddress!, gu = gateUp.baseAddress!, dy = dout.baseAddress!
        Parallel.forEachChunk(R, minChunk: max(1, 16_384 / max(H, 1))) { _, rows in
            let first = rows.lowerBound
            if wp_swiglu_backward(gu + first * 2 * H, dy + first * H, dgu + first * 2 * H, rows.count, H) != 0 { return }
            for r in rows {
                let g = gu + r * 2 * H, u = g + H, dg = dgu + r * 2 * H, du = dg + H, dyr = dy + r * H
                var i = 0
                while i + 8 <= H {
                    let gv = load8(g + i), uv = load8(u + i), dyv = load8(dyr + i)
                    let sig = 1 / (1 + VectorMath.exp(-gv))
                    store8(dyv * gv * sig, du + i)
                    store8(dyv * uv * sig * (1 + gv * (1 - sig)), dg + i)
                    i += 8
                }
                while i < H {
                    let sig = 1 / (1 + VectorMath.exp(-g[i]))
                    du[i] = dyr[i] * g[i] * sig
                    dg[i] = dyr[i] * u[i] * sig * (1 + g[i] * (1 - sig))
                    i += 1
                }
            }
        }
    }
}
