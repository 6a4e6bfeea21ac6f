import CKernels

// Legend: n new rows of one sequence starting at position p0, ctx = p0 + n keys, T the cache's positions per sequence,
// layout as `AttentionLayout`: q rows of `rowStride` floats; the K and V caches hold NKV heads of `hs` floats per
// position, head-major: [sequence][NKV][T][hs].

/// Causal attention of new query rows against a KV cache (inference only, no backward), multi-head or grouped-query.
/// The cache stores only the key/value heads (NKV of them), so grouped-query attention shrinks it by NH/NKV. Each head's
/// keys and values lie contiguous, position after position, so a decode step reads each as one stream.
public enum CachedAttention {
    /// Copies the K and V of every row of `segments` into the layer's cache and writes the attention output rows
    /// (`outWidth` floats each). Multi-row segments (prefill) use sgemm per head; single-row segments (decode) run as
    /// (sequence, head) tasks of two one-row products each, spread over cores when there is enough work.
    /// - Parameters:
    ///   - kCache, vCache: this layer's caches, `[sequences][NKV][T][hs]`.
    ///   - scores: scratch of at least max(NH·n·ctx over multi-row segments, single-row segments · NH · T) floats.
    public static func attend(
        _ segments: [DecodeSegment], qkv: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
        kCache: UnsafeMutablePointer<Float>, vCache: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
        layout l: AttentionLayout, T: Int
    ) {
        let KW = l.kvWidth, RS = l.rowStride, W = l.outWidth, hs = l.hs
        for segment in segments {
            // A prefill's rows are copied on every core (on one, the other idles through it).
            Parallel.forEachChunk(segment.count, minChunk: 32) { _, rows in
                for i in rows {
                    let row = qkv + (segment.firstRow + i) * RS
                    for g in 0..<l.NKV {
                        let slot = ((segment.sequence * l.NKV + g) * T + segment.start + i) * hs
                        (kCache + slot).update(from: row + l.kOffset + g * hs, count: hs)
                        (vCache + slot).update(from: row + l.vOffset + g * hs, count: hs)
                    }
                }
            }
        }
        for segment in segments where segment.count > 1 {
            forwardChunk(
                out: out + segment.firstRow * W, q: qkv + segment.firstRow * RS, kCache: kCache + segment.sequence * T * KW,
                vCache: vCache + segment.sequence * T * KW, scores: scores, n: segment.count, p0: segment.start, T: T,
                layout: l)
        }
        let rows = segments.filter { $0.count == 1 }
        guard !rows.isEmpty else { return }
        // Spread over cores once a chunk reads at least 16 K floats of keys (64 KiB, as many of values): the pool's
        // spinning workers take a part in about a microsecond. At about 100 positions, two threads (this development
        // VM), the time between the products around attention went from 50–57 to 30–32 µs a layer for GPT-2 124M and
        // from 30 to 14–15 for Llama 124M, with OpenBLAS's sgemv replaced by the engine's kernels and the cache made
        // head-major.
        let longest = rows.map { $0.start + 1 }.max() ?? 1
        let minTasks = max(1, 16_384 / (longest * hs))
        rows.withUnsafeBufferPointer { list in
            Parallel.forEachChunk(list.count * l.NH, minChunk: minTasks) { _, range in
                for task in range {
                    let segment = list[task / l.NH], h = task % l.NH, g = h / l.group
                    forwardRow(
                        out: out + segment.firstRow * W + h * hs, q: qkv + segment.firstRow * RS + l.qOffset + h * hs,
                        kCache: kCache + segment.sequence * T * KW + g * T * hs,
                        vCache: vCache + segment.sequence * T * KW + g * T * hs, scores: scores + task * T, p: segment.start,
                        hs: hs)
                }
            }
        }
    }

    /// Prefill: out rows (stride `outWidth`) for n ≥ 1 new rows against one sequence's caches (`[NKV][T][hs]`); each
    /// query head is a task (Q·Kᵀ sgemm, masked softmax, P·V sgemm) with single-threaded sgemm, heads spread over cores.
    /// `scores` needs NH·n·ctx floats.
    public static func forwardChunk(
        out: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>, kCache: UnsafeMutablePointer<Float>,
        vCache: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, n: Int, p0: Int, T: Int,
        layout l: AttentionLayout
    ) {
        let ctx = p0 + n, scale = 1 / Float(l.hs).squareRoot(), headCache = T * l.hs
        BLAS.singleThreaded {
            Parallel.forEachChunk(l.NH, minChunk: 1) { _, heads in
                for h in heads {
                    let block = scores + h * n * ctx, g = h / l.group
                    BLAS.gemm(
                        transA: false, transB: true, m: n, n: ctx, k: l.hs, alpha: scale, a: q + l.qOffset + h * l.hs, lda: l.rowStride,
                        b: kCache + g * headCache, ldb: l.hs, beta: 0, c: block, ldc: ctx)
                    for i in 0..<n {
                        let row = block + i * ctx, visible = p0 + i + 1
                        Softmax.inPlace(row, count: visible)
                        (row + visible).update(repeating: 0, count: ctx - visible)
                    }
                    BLAS.gemm(
                        transA: false, transB: false, m: n, n: l.hs, k: ctx, a: block, lda: ctx,
                        b: vCache + g * headCache, ldb: l.hs, beta: 0, c: out + h * l.hs, ldc: l.outWidth)
                }
            }
        }
    }

    /// Decode: one query row of one head at position `p` (ctx = p + 1): scores = K·(q/√hs) and
    /// out = Vᵀ·softmax(scores), on the engine's one-row kernels on the calling thread (`wp_gemv_f32_rows` over the
    /// head's keys, `wp_gemv_f32_columns` over its values, each `[ctx][hs]` contiguous). `scores` needs ctx floats.
    @inline(__always)
    public static func forwardRow(
        out: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>, kCache: UnsafeMutablePointer<Float>,
        vCache: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, p: Int, hs: Int
    ) {
        let ctx = p + 1, scale = 1 / Float(hs).squareRoot()
        if BLAS.counting.load(ordering: .relaxed) { BLAS.issuedFLOPs.add(4 * ctx * hs, ordering: .relaxed) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: hs) { scaled in
            let query = scaled.baseAddress!
            for i in 0..<hs { query[i] = q[i] * scale }
            wp_gemv_f32_rows(kCache, hs, query, scores, ctx, hs, 0)
        }
        Softmax.inPlace(scores, count: ctx)
        wp_gemv_f32_columns(vCache, hs, scores, out, hs, ctx, 0)
    }

    /// Scratch `attend` needs for `maxBatch` sequences, `maxChunk` rows a call and T positions.
    public static func scoreCount(layout l: AttentionLayout, maxBatch: Int, maxChunk: Int, T: Int) -> Int {
        max(l.NH * maxChunk * T, maxBatch * l.NH * T)
    }
}
