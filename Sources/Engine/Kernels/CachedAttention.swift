// Legend: n new rows of one sequence starting at position p0, ctx = p0 + n keys, T the cache's positions per sequence,
// layout as `AttentionLayout`: q rows of `rowStride` floats; the K and V caches hold `kvWidth` floats per position.

/// Causal attention of new query rows against a KV cache (inference only, no backward), multi-head or grouped-query.
/// The cache stores only the key/value heads (NKV of them), so grouped-query attention shrinks it by NH/NKV.
public enum CachedAttention {
    /// Copies the K and V of every row of `segments` into the layer's cache and writes the attention output rows
    /// (`outWidth` floats each). Multi-row segments (prefill) use sgemm per head; single-row segments (decode) run as
    /// (sequence, head) tasks of two sgemv each, spread over cores when there is enough work.
    /// - Parameters:
    ///   - kCache, vCache: this layer's caches, `[sequences][T][kvWidth]`.
    ///   - scores: scratch of at least max(NH·n·ctx over multi-row segments, single-row segments · NH · T) floats.
    public static func attend(
        _ segments: [DecodeSegment], qkv: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
        kCache: UnsafeMutablePointer<Float>, vCache: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
        layout l: AttentionLayout, T: Int
    ) {
        let KW = l.kvWidth, RS = l.rowStride, W = l.outWidth
        for segment in segments {
            // A prefill's rows are copied on every core (on one, the other idles through it).
            Parallel.forEachChunk(segment.count, minChunk: 32) { _, rows in
                for i in rows {
                    let row = qkv + (segment.firstRow + i) * RS
                    let slot = (segment.sequence * T + segment.start + i) * KW
                    (kCache + slot).update(from: row + l.kOffset, count: KW)
                    (vCache + slot).update(from: row + l.vOffset, count: KW)
                }
            }
        }
        for segment in segments where segment.count > 1 {
            forwardChunk(
                out: out + segment.firstRow * W, q: qkv + segment.firstRow * RS, kCache: kCache + segment.sequence * T * KW,
                vCache: vCache + segment.sequence * T * KW, scores: scores, n: segment.count, p0: segment.start, layout: l)
        }
        let rows = segments.filter { $0.count == 1 }
        guard !rows.isEmpty else { return }
        // Spread over cores only when there is enough work: at short contexts a dispatch costs more than the two small
        // sgemv of a (sequence, head) task.
        let longest = rows.map { $0.start + 1 }.max() ?? 1
        let minTasks = max(1, 262_144 / (longest * l.hs))
        rows.withUnsafeBufferPointer { list in
            BLAS.singleThreaded {
                Parallel.forEachChunk(list.count * l.NH, minChunk: minTasks) { _, range in
                    for task in range {
                        let segment = list[task / l.NH], h = task % l.NH, g = h / l.group
                        forwardRow(
                            out: out + segment.firstRow * W + h * l.hs, q: qkv + segment.firstRow * RS + l.qOffset + h * l.hs,
                            kCache: kCache + segment.sequence * T * KW + g * l.hs, vCache: vCache + segment.sequence * T * KW + g * l.hs,
                            scores: scores + task * T, p: segment.start, kvStride: KW, hs: l.hs)
                    }
                }
            }
        }
    }

    /// Prefill: out rows (stride `outWidth`) for n ≥ 1 new rows; each query head is a task (Q·Kᵀ sgemm, masked
    /// softmax, P·V sgemm) with single-threaded sgemm, heads spread over cores. `scores` needs NH·n·ctx floats.
    public static func forwardChunk(
        out: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>, kCache: UnsafeMutablePointer<Float>,
        vCache: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, n: Int, p0: Int, layout l: AttentionLayout
    ) {
        let ctx = p0 + n, scale = 1 / Float(l.hs).squareRoot(), KW = l.kvWidth
        BLAS.singleThreaded {
            Parallel.forEachChunk(l.NH, minChunk: 1) { _, heads in
                for h in heads {
                    let block = scores + h * n * ctx, g = h / l.group
                    BLAS.gemm(
                        transA: false, transB: true, m: n, n: ctx, k: l.hs, alpha: scale, a: q + l.qOffset + h * l.hs, lda: l.rowStride,
                        b: kCache + g * l.hs, ldb: KW, beta: 0, c: block, ldc: ctx)
                    for i in 0..<n {
                        let row = block + i * ctx, visible = p0 + i + 1
                        Softmax.inPlace(row, count: visible)
                        (row + visible).update(repeating: 0, count: ctx - visible)
                    }
                    BLAS.gemm(
                        transA: false, transB: false, m: n, n: l.hs, k: ctx, a: block, lda: ctx,
                        b: vCache + g * l.hs, ldb: KW, beta: 0, c: out + h * l.hs, ldc: l.outWidth)
                }
            }
        }
    }

    /// Decode: one query row of one head at position `p` (ctx = p + 1): scores = K·q/√hs and out = Vᵀ·softmax(scores),
    /// both `cblas_sgemv` on the strided cache (lda = `kvStride`). Call inside `BLAS.singleThreaded` when run as
    /// parallel tasks. `scores` needs ctx floats.
    @inline(__always)
    public static func forwardRow(
        out: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>, kCache: UnsafeMutablePointer<Float>,
        vCache: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, p: Int, kvStride: Int, hs: Int
    ) {
        let ctx = p + 1, scale = 1 / Float(hs).squareRoot()
        BLAS.gemv(trans: false, m: ctx, n: hs, alpha: scale, a: kCache, lda: kvStride, x: q, beta: 0, y: scores)
        Softmax.inPlace(scores, count: ctx)
        BLAS.gemv(trans: true, m: ctx, n: hs, a: vCache, lda: kvStride, x: scores, beta: 0, y: out)
    }

    /// Scratch `attend` needs for `maxBatch` sequences, `maxChunk` rows a call and T positions.
    public static func scoreCount(layout l: AttentionLayout, maxBatch: Int, maxChunk: Int, T: Int) -> Int {
        max(l.NH * maxChunk * T, maxBatch * l.NH * T)
    }
}
