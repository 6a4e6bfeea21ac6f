// Legend: B batch, T time steps, C channels, NH heads, hs = C/NH head size.
// qkv is [B, T, 3C] laid out as q | k | v per row; head h owns columns h·hs..<(h+1)·hs of each part.

/// Causal multi-head self-attention, y = softmax(Q·Kᵀ/√hs + causal mask)·V per (b, h).
///
/// Both products of every (b, h) go through `cblas_sgemm` on strided views of `qkv` (lda = 3C),
/// so no head is ever copied out. (b, h) pairs run as parallel tasks with single-threaded sgemm:
/// on GPT-2 124M at B×T 4×64 this replaced ~3,500 small multithreaded sgemm calls per step and cut
/// quiet-machine step times from ~1.6 s to ~1.4–1.5 s (A/B on the shared 2-core build machine). The full T×T score block is computed and the upper triangle
/// zeroed after the softmax; the FLOP count (`FLOPCount`) counts exactly this full block.
public enum Attention {
    /// out[B,T,C] = attention(qkv). Caches the probabilities `att[B,NH,T,T]` (upper triangle zero) for backward.
    ///
    /// Each (b, h) pair is one task — Q·Kᵀ, its causal softmax, then P·V — spread over cores with
    /// single-threaded sgemm, so the T×T block stays in cache between the three steps.
    public static func forward(
        out: UnsafeMutableBufferPointer<Float>, att: UnsafeMutableBufferPointer<Float>,
        qkv: UnsafeMutableBufferPointer<Float>, B: Int, T: Int, C: Int, NH: Int
    ) {
        precondition(C % NH == 0 && out.count >= B * T * C && att.count >= B * NH * T * T && qkv.count >= B * T * 3 * C)
        let hs = C / NH, scale = 1 / Float(hs).squareRoot()
        let q = qkv.baseAddress!, a = att.baseAddress!, o = out.baseAddress!
        BLAS.singleThreaded {
            Parallel.forEachChunk(B * NH, minChunk: 1) { _, pairs in
                for pair in pairs {
                    let b = pair / NH, h = pair % NH
                    let qp = q + b * T * 3 * C + h * hs, block = a + pair * T * T
                    BLAS.gemm(
                        transA: false, transB: true, m: T, n: T, k: hs, alpha: scale,
                        a: qp, lda: 3 * C, b: qp + C, ldb: 3 * C, beta: 0, c: block, ldc: T)
                    causalSoftmax(att: block, rows: T, T: T)
                    BLAS.gemm(
                        transA: false, transB: false, m: T, n: hs, k: T,
                        a: block, lda: T, b: qp + 2 * C, ldb: 3 * C, beta: 0, c: o + b * T * C + h * hs, ldc: C)
                }
            }
        }
    }

    /// dqkv[B,T,3C] = gradient of the attention input (overwritten). `datt[B,NH,T,T]` is scratch.
    ///
    /// One task per (b, h): dP = dY·Vᵀ, dV = Pᵀ·dY, the softmax backward in place, dQ = dS·K/√hs, dK = dSᵀ·Q/√hs.
    public static func backward(
        dqkv: UnsafeMutableBufferPointer<Float>, datt: UnsafeMutableBufferPointer<Float>,
        dout: UnsafeMutableBufferPointer<Float>, qkv: UnsafeMutableBufferPointer<Float>, att: UnsafeMutableBufferPointer<Float>,
        B: Int, T: Int, C: Int, NH: Int
    ) {
        precondition(dqkv.count >= B * T * 3 * C && datt.count >= B * NH * T * T)
        let hs = C / NH, scale = 1 / Float(hs).squareRoot()
        let q = qkv.baseAddress!, a = att.baseAddress!, da = datt.baseAddress!, dq = dqkv.baseAddress!, dy = dout.baseAddress!
        BLAS.singleThreaded {
            Parallel.forEachChunk(B * NH, minChunk: 1) { _, pairs in
                for pair in pairs {
                    let b = pair / NH, h = pair % NH
                    let block = pair * T * T
                    let dyp = dy + b * T * C + h * hs
                    let qp = q + b * T * 3 * C + h * hs
                    let dqp = dq + b * T * 3 * C + h * hs
                    BLAS.gemm(
                        transA: false, transB: true, m: T, n: T, k: hs, a: dyp, lda: C, b: qp + 2 * C, ldb: 3 * C,
                        beta: 0, c: da + block, ldc: T)
                    BLAS.gemm(
                        transA: true, transB: false, m: T, n: hs, k: T, a: a + block, lda: T, b: dyp, ldb: C,
                        beta: 0, c: dqp + 2 * C, ldc: 3 * C)
                    causalSoftmaxBackward(datt: da + block, att: a + block, rows: T, T: T)
                    BLAS.gemm(
                        transA: false, transB: false, m: T, n: hs, k: T, alpha: scale, a: da + block, lda: T,
                        b: qp + C, ldb: 3 * C, beta: 0, c: dqp, ldc: 3 * C)
                    BLAS.gemm(
                        transA: true, transB: false, m: T, n: hs, k: T, alpha: scale, a: da + block, lda: T,
                        b: qp, ldb: 3 * C, beta: 0, c: dqp + C, ldc: 3 * C)
                }
            }
        }
    }

    /// Row-wise softmax over columns 0...i of row i of a T×T block; later columns set to 0. Serial: runs inside a (b, h) task.
    static func causalSoftmax(att: UnsafeMutablePointer<Float>, rows: Int, T: Int) {
        for r in 0..<rows {
            let row = att + r * T
            let visible = r % T + 1
            Softmax.inPlace(row, count: visible)
            (row + visible).update(repeating: 0, count: T - visible)
        }
    }

    /// dS = P ⊙ (dP − Σ_j P·dP) row-wise, in place in `datt`; masked columns set to 0. Serial: runs inside a (b, h) task.
    static func causalSoftmaxBackward(datt: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, rows: Int, T: Int) {
        for r in 0..<rows {
            let p = att + r * T, dp = datt + r * T
            let visible = r % T + 1
            var acc = Float8(), j = 0
            while j + 8 <= visible { acc += load8(p + j) * load8(dp + j); j += 8 }
            var s = acc.sum()
            while j < visible { s += p[j] * dp[j]; j += 1 }
            let sv = Float8(repeating: s)
            j = 0
            while j + 8 <= visible { store8(load8(p + j) * (load8(dp + j) - sv), dp + j); j += 8 }
            while j < visible { dp[j] = p[j] * (dp[j] - s); j += 1 }
            (dp + visible).update(repeating: 0, count: T - visible)
        }
    }
}
