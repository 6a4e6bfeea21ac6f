// Legend: n new rows of one sequence starting at position p0, ctx = p0 + n keys, C channels, NH heads, hs head size.
// q rows have stride 3C (inside a qkv buffer); the K and V caches are [maxSeq, C] per sequence.

/// Causal attention of new query rows against a sequence's KV cache (inference only, no backward).
public enum CachedAttention {
    /// Prefill: out[n, C] for n ≥ 1 new rows; each head is a task (Q·Kᵀ sgemm, masked softmax, P·V sgemm)
    /// with single-threaded sgemm, heads spread over cores. `scores` needs NH·n·ctx floats.
    public static func forwardChunk(
        out: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>, kCache: UnsafeMutablePointer<Float>,
        vCache: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, n: Int, p0: Int, C: Int, NH: Int
    ) {
        let hs = C / NH, ctx = p0 + n, scale = 1 / Float(hs).squareRoot()
        BLAS.singleThreaded {
            Parallel.forEachChunk(NH, minChunk: 1) { _, heads in
                for h in heads {
                    let block = scores + h * n * ctx
                    BLAS.gemm(
                        transA: false, transB: true, m: n, n: ctx, k: hs, alpha: scale, a: q + h * hs, lda: 3 * C,
                        b: kCache + h * hs, ldb: C, beta: 0, c: block, ldc: ctx)
                    for i in 0..<n {
                        let row = block + i * ctx, visible = p0 + i + 1
                        Softmax.inPlace(row, count: visible)
                        (row + visible).update(repeating: 0, count: ctx - visible)
                    }
                    BLAS.gemm(
                        transA: false, transB: false, m: n, n: hs, k: ctx, a: block, lda: ctx,
                        b: vCache + h * hs, ldb: C, beta: 0, c: out + h * hs, ldc: C)
                }
            }
        }
    }

    /// Decode: one query row of head `h` at position `p` (ctx = p + 1): scores = K·q/√hs and out = Vᵀ·softmax(scores),
    /// both `cblas_sgemv` on the strided cache (lda = C). Call inside `BLAS.singleThreaded` when run as parallel tasks.
    /// `scores` needs ctx floats.
    @inline(__always)
    public static func forwardRow(
        out: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>, kCache: UnsafeMutablePointer<Float>,
        vCache: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, p: Int, C: Int, hs: Int
    ) {
        let ctx = p + 1, scale = 1 / Float(hs).squareRoot()
        BLAS.gemv(trans: false, m: ctx, n: hs, alpha: scale, a: kCache, lda: C, x: q, beta: 0, y: scores)
        Softmax.inPlace(scores, count: ctx)
        BLAS.gemv(trans: true, m: ctx, n: hs, a: vCache, lda: C, x: scores, beta: 0, y: out)
    }
}
