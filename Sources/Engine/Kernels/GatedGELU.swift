// Legend: R rows, H hidden width; each input row is gate | up (2H floats, as one fused projection writes them).

/// T5 v1.1's gated-GELU feed-forward (Shazeer 2020): out = gelu(gate) ⊙ up, with GPT-2's tanh GELU (Hugging Face's
/// `gelu_new`, which `feed_forward_proj: "gated-gelu"` selects).
public enum GatedGELU {
    /// out[R,H] = gelu(gateUp[:, :H]) ⊙ gateUp[:, H:]. Caches nothing: backward recomputes from `gateUp`.
    public static func forward(out: UnsafeMutablePointer<Float>, gateUp: UnsafePointer<Float>, R: Int, H: Int) {
        Parallel.forEachChunk(R, minChunk: max(1, 16_384 / max(H, 1))) { _, rows in
            let s = Float8(repeating: GELU.scale), c = Float8(repeating: GELU.cubic)
            for r in rows {
                let g = gateUp + r * 2 * H, u = g + H, o = out + r * H
                var i = 0
                while i + 8 <= H {
                    let v = load8(g + i)
                    let cube: Float8 = c * v * v * v
                    let t: Float8 = VectorMath.tanh(s * (v + cube))
                    let y: Float8 = 0.5 * v * (1 + t)
                    store8(y * load8(u + i), o + i)
                    i += 8
                }
                while i < H {
                    let v = g[i]
                    let t = VectorMath.tanh(GELU.scale * (v + GELU.cubic * v * v * v))
                    o[i] = 0.5 * v * (1 + t) * u[i]
                    i += 1
                }
            }
        }
    }

    /// dgateUp[R,2H] = (dout·up·gelu'(gate) | dout·gelu(gate)), overwritten.
    public static func backward(
        dgateUp: UnsafeMutablePointer<Float>, gateUp: UnsafePointer<Float>, dout: UnsafePointer<Float>, R: Int, H: Int
    ) {
        Parallel.forEachChunk(R, minChunk: max(1, 16_384 / max(H, 1))) { _, rows in
            let s = Float8(repeating: GELU.scale), c = Float8(repeating: GELU.cubic), c3 = Float8(repeating: 3 * GELU.cubic)
            for r in rows {
                let g = gateUp + r * 2 * H, u = g + H, dg = dgateUp + r * 2 * H, du = dg + H, dy = dout + r * H
                var i = 0
                while i + 8 <= H {
                    let v = load8(g + i)
                    let v2: Float8 = v * v
                    let t: Float8 = VectorMath.tanh(s * (v + c * v2 * v))
                    let inner: Float8 = s * (1 + c3 * v2)
                    let left: Float8 = 0.5 * (1 + t)
                    let right: Float8 = 0.5 * v * (1 - t * t) * inner
                    let slope: Float8 = left + right
                    let dyv = load8(dy + i)
                    store8(dyv * v * left, du + i)
                    store8(dyv * load8(u + i) * slope, dg + i)
                    i += 8
                }
                while i < H {
                    let v = g[i]
                    let t = VectorMath.tanh(GELU.scale * (v + GELU.cubic * v * v * v))
                    let slope = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU.scale * (1 + 3 * GELU.cubic * v * v)
                    du[i] = dy[i] * 0.5 * v * (1 + t)
                    dg[i] = dy[i] * u[i] * slope
                    i += 1
                }
            }
        }
    }
}
