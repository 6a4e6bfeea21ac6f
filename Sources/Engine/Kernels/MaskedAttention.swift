// Legend: B batch, Tq query positions, Tk key positions, NH heads, hs head size, W = NH·hs output width.

/// Where one attention's queries, keys and values sit: rows of a row-major buffer, one row per position, head h at
/// columns `h·hs ..< (h+1)·hs` of each operand's pointer. Self-attention points all three into one fused q|k|v row
/// (stride 3W); cross-attention points q at the decoder's rows and k, v at the encoder's k|v rows.
public struct AttentionOperands {
    public var q: UnsafeMutablePointer<Float>
    public var qStride: Int
    public var k: UnsafeMutablePointer<Float>
    public var kStride: Int
    public var v: UnsafeMutablePointer<Float>
    public var vStride: Int

    public init(
        q: UnsafeMutablePointer<Float>, qStride: Int, k: UnsafeMutablePointer<Float>, kStride: Int, v: UnsafeMutablePointer<Float>,
        vStride: Int
    ) {
        self.q = q; self.qStride = qStride; self.k = k; self.kStride = kStride; self.v = v; self.vStride = vStride
    }

    /// q | k | v fused in one row of 3W floats starting at `rows`.
    public static func fused(_ rows: UnsafeMutablePointer<Float>, width W: Int) -> AttentionOperands {
        AttentionOperands(q: rows, qStride: 3 * W, k: rows + W, kStride: 3 * W, v: rows + 2 * W, vStride: 3 * W)
    }
}

/// What a query may see and what is added to its scores: scores = scale·q·kᵀ + bias[h, i, j], then keys that are
/// padding, or (causal) later than the query, get probability 0.
public struct AttentionMasking {
    /// Multiplies q·kᵀ: 1/√hs for BERT, 1 for T5 (whose initialisation absorbs it).
    public var scale: Float
    /// Query i (counted from the end of the keys: i + Tk − Tq) sees keys 0…i only.
    public var causal: Bool
    /// [B, Tk]: 1 where the key is padding. Nil: no padding.
    public var keyPadding: UnsafePointer<UInt8>?
    /// [NH, Tq, Tk] added to every sequence's scores (T5's relative position bias). Nil: none.
    public var bias: UnsafePointer<Float>?

    public init(scale: Float, causal: Bool = false, keyPadding: UnsafePointer<UInt8>? = nil, bias: UnsafePointer<Float>? = nil) {
        self.scale = scale; self.causal = causal; self.keyPadding = keyPadding; self.bias = bias
    }
}

/// Multi-head attention with a padding mask, an optional causal mask and an optional additive bias: the encoder's
/// bidirectional attention (BERT, T5), T5's causal decoder attention with its relative position bias, and
/// cross-attention from decoder queries to encoder keys and values (Tq ≠ Tk).
///
/// As `Attention`: one task per (b, h) with single-threaded sgemm on strided views, so no head is copied out. The
/// scores are a full Tq×Tk block per (b, h); the FLOP formulas count exactly this block.
public enum MaskedAttention {
    /// out[B, Tq, W] (row stride W) = softmax(mask(scale·Q·Kᵀ + bias))·V; caches the probabilities `att[B, NH, Tq, Tk]`
    /// (0 where masked). A query whose every key is masked gets probabilities 0 and an output of 0.
    public static func forward(
        out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, operands o: AttentionOperands, masking m: AttentionMasking,
        B: Int, Tq: Int, Tk: Int, NH: Int, hs: Int
    ) {
        let W = NH * hs
        BLAS.singleThreaded {
            Parallel.forEachChunk(B * NH, minChunk: 1) { _, pairs in
                for pair in pairs {
                    let b = pair / NH, h = pair % NH, block = att + pair * Tq * Tk
                    BLAS.gemm(
                        transA: false, transB: true, m: Tq, n: Tk, k: hs, alpha: m.scale, a: o.q + b * Tq * o.qStride + h * hs,
                        lda: o.qStride, b: o.k + b * Tk * o.kStride + h * hs, ldb: o.kStride, beta: 0, c: block, ldc: Tk)
                    maskedSoftmax(block, b: b, h: h, masking: m, Tq: Tq, Tk: Tk)
                    BLAS.gemm(
                        transA: false, transB: false, m: Tq, n: hs, k: Tk, a: block, lda: Tk, b: o.v + b * Tk * o.vStride + h * hs,
                        ldb: o.vStride, beta: 0, c: out + b * Tq * W + h * hs, ldc: W)
                }
            }
        }
    }

    /// Gradients of the operands (written where `gradients` points, with the operands' strides; overwritten) from
    /// dout[B, Tq, W]. `datt[B, NH, Tq, Tk]` is scratch and ends holding dS, the gradient of the pre-softmax scores;
    /// with `dbias` [NH, Tq, Tk] the bias gradient Σ_b dS is added to it.
    public static func backward(
        gradients d: AttentionOperands, datt: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafeMutablePointer<Float>, operands o: AttentionOperands, att: UnsafeMutablePointer<Float>, masking m: AttentionMasking,
        B: Int, Tq: Int, Tk: Int, NH: Int, hs: Int
    ) {
        let W = NH * hs
        BLAS.singleThreaded {
            Parallel.forEachChunk(B * NH, minChunk: 1) { _, pairs in
                for pair in pairs {
                    let b = pair / NH, h = pair % NH, block = pair * Tq * Tk
                    let dy = dout + b * Tq * W + h * hs
                    let q = o.q + b * Tq * o.qStride + h * hs, k = o.k + b * Tk * o.kStride + h * hs
                    let v = o.v + b * Tk * o.vStride + h * hs
                    // dP = dY·Vᵀ, dV = Pᵀ·dY, dS = P ⊙ (dP − Σ P·dP), dQ = scale·dS·K, dK = scale·dSᵀ·Q.
                    BLAS.gemm(
                        transA: false, transB: true, m: Tq, n: Tk, k: hs, a: dy, lda: W, b: v, ldb: o.vStride, beta: 0, c: datt + block,
                        ldc: Tk)
                    BLAS.gemm(
                        transA: true, transB: false, m: Tk, n: hs, k: Tq, a: att + block, lda: Tk, b: dy, ldb: W, beta: 0,
                        c: d.v + b * Tk * d.vStride + h * hs, ldc: d.vStride)
                    for i in 0..<Tq {
                        let p = att + block + i * Tk, dp = datt + block + i * Tk
                        var acc = Float8(), j = 0
                        while j + 8 <= Tk { acc += load8(p + j) * load8(dp + j); j += 8 }
                        var s = acc.sum()
                        while j < Tk { s += p[j] * dp[j]; j += 1 }
                        let sv = Float8(repeating: s)
                        j = 0
                        while j + 8 <= Tk { store8(load8(p + j) * (load8(dp + j) - sv), dp + j); j += 8 }
                        while j < Tk { dp[j] = p[j] * (dp[j] - s); j += 1 }
                    }
                    BLAS.gemm(
                        transA: false, transB: false, m: Tq, n: hs, k: Tk, alpha: m.scale, a: datt + block, lda: Tk, b: k, ldb: o.kStride,
                        beta: 0, c: d.q + b * Tq * d.qStride + h * hs, ldc: d.qStride)
                    BLAS.gemm(
                        transA: true, transB: false, m: Tk, n: hs, k: Tq, alpha: m.scale, a: datt + block, lda: Tk, b: q, ldb: o.qStride,
                        beta: 0, c: d.k + b * Tk * d.kStride + h * hs, ldc: d.kStride)
                }
            }
            guard let dbias else { return }
            // Σ over the batch, one task per head so no two tasks write the same rows.
            Parallel.forEachChunk(NH, minChunk: 1) { _, heads in
                for h in heads {
                    let target = dbias + h * Tq * Tk, n = Tq * Tk
                    for b in 0..<B {
                        let source = datt + (b * NH + h) * n
                        var j = 0
                        while j + 8 <= n { store8(load8(target + j) + load8(source + j), target + j); j += 8 }
                        while j < n { target[j] += source[j]; j += 1 }
                    }
                }
            }
        }
    }

    /// Adds the bias, masks and normalises one (b, h) block of scores in place. Serial: runs inside a (b, h) task.
    static func maskedSoftmax(_ block: UnsafeMutablePointer<Float>, b: Int, h: Int, masking m: AttentionMasking, Tq: Int, Tk: Int) {
        let padding = m.keyPadding.map { $0 + b * Tk }
        for i in 0..<Tq {
            let row = block + i * Tk
            if let bias = m.bias {
                let brow = bias + (h * Tq + i) * Tk
                var j = 0
                while j + 8 <= Tk { store8(load8(row + j) + load8(brow + j), row + j); j += 8 }
                while j < Tk { row[j] += brow[j]; j += 1 }
            }
            let visible = m.causal ? min(Tk, max(0, i + Tk - Tq + 1)) : Tk
            var seen = visible
            if let padding {
                seen = 0
                for j in 0..<visible {
                    if padding[j] != 0 { row[j] = -.infinity } else { seen += 1 }
                }
            }
            if seen == 0 {
                row.update(repeating: 0, count: Tk)
                continue
            }
            Softmax.inPlace(row, count: visible)
            if let padding { for j in 0..<visible where padding[j] != 0 { row[j] = 0 } }
            (row + visible).update(repeating: 0, count: Tk - visible)
        }
    }
}
