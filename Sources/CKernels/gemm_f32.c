#include "wp_kernels.h"
#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>

/* fp32 matrix products of many rows: C[m, n] (+)= A[m, k] · Wᵀ, on weights packed once per inference session (prefill,
   `wp_f32_gemm`) or packed a group at a time as the product runs (training, `wp_f32_gemm_unpacked`).

   Why not sgemm: OpenBLAS packs the weight matrix again on every call (its sgemm_itcopy took ≈ 9 % of a GPT-2 prefill
   under perf), and its fastest kernel here ran 416–474 GFLOP/s on prefill's shapes (model bench's sgemm probe and a
   standalone harness). Weights that do not change for a session can be packed once; with that, this kernel measured
   505–519 GFLOP/s on the same shapes in that harness (256 rows, GPT-2's 768/2304/3072 widths, 2 threads; the machine's
   FMA probe measured 525–547).

   W is packed into groups of 48 outputs: group g holds, for each k, the 48 weights W[48g + j][k] side by side (3 vectors
   of 16), rows past n zero, so one group streams as one sequence. A is read in place, row-major, or transposed for
   weight gradients (`wp_f32_gemm_transposed_unpacked`: dW = xᵀ·dy reads x [k, m] a k at a time, 8 rows from one cache
   line). A tile is 8 rows × 48 outputs: 24 accumulators, 3 vector loads and 8 broadcasts per k (at two FMAs a cycle,
   the loads stay well under the ports' limit). While it computes, a tile prefetches the next tile's 24 output lines into L1
   (`prefetchw` measured the same): without that, the stores' misses (and the loads where outputs are added to) cost a
   training step's weight gradients a quarter of their speed in a C harness (362–439 GFLOP/s against 444–467 with it).
   Overwritten weight gradients whose rows start on cache lines skip that: they are streamed to memory, no line read
   first. Groups go outer, so a group (k·192 bytes) stays in the core's L2 while every row tile passes. */

#define TILE_ROWS 8
#define GROUP_VECTORS 3
#define GROUP_WIDTH (GROUP_VECTORS * 16)

long wp_f32_gemm_groups(long n) { return (n + GROUP_WIDTH - 1) / GROUP_WIDTH; }

long wp_f32_panel_floats(long n, long k) { return wp_f32_gemm_groups(n) * GROUP_WIDTH * k; }

/* 16 × 16 transpose in registers: r[i] holds row i on entry, column i on return (four rounds of shuffles). */
__attribute__((target("avx512f"), always_inline))
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
        __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int i = 0; i < 8; i++) {
        int a = (i / 4) * 8 + (i % 4), b = a + 4;
        t[2 * i] = _mm512_shuffle_f32x4(r[a], r[b], 0x88);
        t[2 * i + 1] = _mm512_shuffle_f32x4(r[a], r[b], 0xDD);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[2 * i], t[2 * i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[2 * i], t[2 * i + 8], 0xDD);
        r[i + 4] = _mm512_shuffle_f32x4(t[2 * i + 1], t[2 * i + 9], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[2 * i + 1], t[2 * i + 9], 0xDD);
    }
}

/* Group g of W into `dst` (k × 48 floats, 64-byte aligned): input-major rows copy 48 contiguous weights a k; output-major
   rows are transposed 16 × 16 at a time. Outputs past n are zero. */
__attribute__((target("avx512f")))
static void pack_group(const float *w, long n, long k, int input_major, long g, float *dst) {
    long first = g * GROUP_WIDTH;
    if (input_major) {
        __mmask16 mask[GROUP_VECTORS];
        for (int v = 0; v < GROUP_VECTORS; v++) {
            long valid = n - (first + v * 16);
            mask[v] = valid >= 16 ? (__mmask16)0xFFFF : valid <= 0 ? (__mmask16)0 : (__mmask16)((1u << valid) - 1);
        }
        for (long p = 0; p < k; p++)
            for (int v = 0; v < GROUP_VECTORS; v++)
                _mm512_store_ps(dst + p * GROUP_WIDTH + v * 16, _mm512_maskz_loadu_ps(mask[v], w + p * n + first + v * 16));
        return;
    }
    long p = 0;
    for (; p + 16 <= k; p += 16) {
        for (int v = 0; v < GROUP_VECTORS; v++) {
            __m512 r[16];
            for (int i = 0; i < 16; i++) {
                long row = first + v * 16 + i;
                r[i] = row < n ? _mm512_loadu_ps(w + row * k + p) : _mm512_setzero_ps();
            }
            transpose16(r);
            for (int i = 0; i < 16; i++) _mm512_store_ps(dst + (p + i) * GROUP_WIDTH + v * 16, r[i]);
        }
    }
    for (; p < k; p++)
        for (long j = 0; j < GROUP_WIDTH; j++) dst[p * GROUP_WIDTH + j] = first + j < n ? w[(first + j) * k + p] : 0.0f;
}

void wp_f32_pack_panels(const float *w, long n, long k, int input_major, long first_group, long groups, float *out) {
    if (wp_quant_best_kernel() < 2) return;
    for (long g = first_group; g < first_group + groups; g++) pack_group(w, n, k, input_major, g, out + g * k * GROUP_WIDTH);
}

/* Lines of W to bring into L2 while a group's tiles compute (the next group a thread packs): part i is `lines[i]` cache
   lines from `base[i]`, `stride` bytes apart, one per k of one row tile. */
struct prefetch_plan {
    const char *base[GROUP_VECTORS];
    long lines[GROUP_VECTORS];
    long stride;
    int parts;
};

/* One tile: `rows` ≤ 8 rows of A times one group over all k, plus the group's `bias` and the rows' `residual` where given
   (either may be NULL; `residual` may be C); outputs past the group's valid columns masked by `mask`. A[i][p] is
   `a[i * row_stride + p * k_stride]`: row-major A has (lda, 1); A stored transposed, [k, m] (a weight gradient's
   activations), has (1, lda), so each k's 8 broadcasts come from one cache line. Inlined with constant rows and strides,
   so the accumulators stay in registers. */
__attribute__((target("avx512f"), always_inline))
static inline void tile(const float *a, long row_stride, long k_stride, const float *group, long k, float *c, long ldc, int rows,
                        const __mmask16 mask[3], const float *bias, const float *residual, const char *prefetch, long prefetch_stride,
                        long prefetch_lines, const float *c_next, __m512 *squares, int stream) {
    __m512 acc[TILE_ROWS][GROUP_VECTORS];
    for (int i = 0; i < rows; i++)
        for (int v = 0; v < GROUP_VECTORS; v++) acc[i][v] = _mm512_setzero_ps();
    for (long p = 0; p < k; p++) {
        __m512 b[GROUP_VECTORS];
        for (int v = 0; v < GROUP_VECTORS; v++) b[v] = _mm512_loadu_ps(group + p * GROUP_WIDTH + v * 16);
        if (p < prefetch_lines) _mm_prefetch(prefetch + p * prefetch_stride, _MM_HINT_T1);
        if (c_next && p < TILE_ROWS * GROUP_VECTORS) _mm_prefetch((const char *)(c_next + (p / GROUP_VECTORS) * ldc + (p % GROUP_VECTORS) * 16), _MM_HINT_T0);
        for (int i = 0; i < rows; i++) {
            __m512 x = _mm512_set1_ps(a[i * row_stride + p * k_stride]);
            for (int v = 0; v < GROUP_VECTORS; v++) acc[i][v] = _mm512_fmadd_ps(x, b[v], acc[i][v]);
        }
    }
    for (int i = 0; i < rows; i++) {
        for (int v = 0; v < GROUP_VECTORS; v++) {
            if (!mask[v]) continue;
            __m512 value = acc[i][v];
            if (bias) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask[v], bias + v * 16));
            if (residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask[v], residual + i * ldc + v * 16));
            if (stream && mask[v] == (__mmask16)0xFFFF) _mm512_stream_ps(c + i * ldc + v * 16, value);
            else _mm512_mask_storeu_ps(c + i * ldc + v * 16, mask[v], value);
            if (squares) *squares = _mm512_mask3_fmadd_ps(value, value, *squares, mask[v]);
        }
    }
}

/* Every row tile of A against group g, whose k × 48 panel is `group`; A's strides as `tile`'s. Inlined, so each caller's
   strides are constants in its tiles. */
__attribute__((target("avx512f"), always_inline))
static inline void gemm_group(const float *a, long tile_stride, long row_stride, long k_stride, long m, long k, const float *group, long n, long g, float *c,
                              long ldc, const float *bias, const float *residual, const struct prefetch_plan *plan, double *squares,
                              int stream) {
    /* Each tile's squares add up in fp32 (24 per lane at most), then into the group's double. */
    __m512 tile_squares = _mm512_setzero_ps();
    __m512 *sq = squares ? &tile_squares : 0;
    double group_squares = 0;
    __mmask16 mask[GROUP_VECTORS];
    for (int v = 0; v < GROUP_VECTORS; v++) {
        long valid = n - (g * GROUP_WIDTH + v * 16);
        mask[v] = valid >= 16 ? (__mmask16)0xFFFF : valid <= 0 ? (__mmask16)0 : (__mmask16)((1u << valid) - 1);
    }
    long column = g * GROUP_WIDTH;
    const float *b = bias ? bias + column : 0;
    long row = 0, part = 0;
    /* The first full tiles each prefetch one part of the plan (one line a k), the rest none. */
    for (; row + TILE_ROWS <= m && plan && part < plan->parts; row += TILE_ROWS, part++) {
        tile(a + row / TILE_ROWS * tile_stride, row_stride, k_stride, group, k, c + row * ldc + column, ldc, TILE_ROWS, mask, b,
             residual ? residual + row * ldc + column : 0, plan->base[part], plan->stride, plan->lines[part],
             !stream && row + 2 * TILE_ROWS <= m ? c + (row + TILE_ROWS) * ldc + column : 0, sq, stream);
        if (sq) { group_squares += _mm512_reduce_add_ps(tile_squares); tile_squares = _mm512_setzero_ps(); }
    }
    for (; row + TILE_ROWS <= m; row += TILE_ROWS) {
        tile(a + row / TILE_ROWS * tile_stride, row_stride, k_stride, group, k, c + row * ldc + column, ldc, TILE_ROWS, mask, b,
             residual ? residual + row * ldc + column : 0, 0, 0, 0, !stream && row + 2 * TILE_ROWS <= m ? c + (row + TILE_ROWS) * ldc + column : 0,
             sq, stream);
        if (sq) { group_squares += _mm512_reduce_add_ps(tile_squares); tile_squares = _mm512_setzero_ps(); }
    }
    const float *ar = a + row / TILE_ROWS * tile_stride, *rr = residual ? residual + row * ldc + column : 0;
    float *cr = c + row * ldc + column;
    switch (m - row) {
    case 7: tile(ar, row_stride, k_stride, group, k, cr, ldc, 7, mask, b, rr, 0, 0, 0, 0, sq, stream); break;
    case 6: tile(ar, row_stride, k_stride, group, k, cr, ldc, 6, mask, b, rr, 0, 0, 0, 0, sq, stream); break;
    case 5: tile(ar, row_stride, k_stride, group, k, cr, ldc, 5, mask, b, rr, 0, 0, 0, 0, sq, stream); break;
    case 4: tile(ar, row_stride, k_stride, group, k, cr, ldc, 4, mask, b, rr, 0, 0, 0, 0, sq, stream); break;
    case 3: tile(ar, row_stride, k_stride, group, k, cr, ldc, 3, mask, b, rr, 0, 0, 0, 0, sq, stream); break;
    case 2: tile(ar, row_stride, k_stride, group, k, cr, ldc, 2, mask, b, rr, 0, 0, 0, 0, sq, stream); break;
    case 1: tile(ar, row_stride, k_stride, group, k, cr, ldc, 1, mask, b, rr, 0, 0, 0, 0, sq, stream); break;
    default: break;
    }
    if (squares) *squares = group_squares + _mm512_reduce_add_ps(tile_squares);
}

/* `gemm_group` on row-major A (products) and on A stored transposed (weight gradients): the strides fixed per kernel. */
__attribute__((target("avx512f")))
static void gemm_group_rows(const float *a, long lda, long m, long k, const float *group, long n, long g, float *c, long ldc,
                            const float *bias, const float *residual, const struct prefetch_plan *plan) {
    gemm_group(a, TILE_ROWS * lda, lda, 1, m, k, group, n, g, c, ldc, bias, residual, plan, 0, 0);
}

__attribute__((target("avx512f")))
static void gemm_group_transposed(const float *at, long lda, long m, long k, const float *group, long n, long g, float *c, long ldc,
                                  const float *residual, const struct prefetch_plan *plan, double *squares) {
    /* Overwritten gradients go straight to memory when their rows start on cache lines: most are next read by the
       optimizer after the whole backward pass (a tied embedding's scatter reads its rows at once, after the fence at the
       end of the call), and storing through the cache would first read each line from memory (in a C harness of a
       GPT-2 124M step's products the weight gradients ran 441–454 GFLOP/s this way against 421–432). */
    int stream = !residual && ((long)c & 63) == 0 && (ldc & 15) == 0;
    gemm_group(at, TILE_ROWS, 1, lda, m, k, group, n, g, c, ldc, 0, residual, plan, squares, stream);
}

int wp_f32_gemm(const float *a, long m, long k, const float *panels, long n, long first_group, long groups, float *c, long ldc,
                const float *bias, const float *residual) {
    if (wp_quant_best_kernel() < 2) return 0;
    long total = wp_f32_gemm_groups(n);
    for (long g = first_group; g < first_group + groups && g < total; g++)
        gemm_group_rows(a, k, m, k, panels + g * k * GROUP_WIDTH, n, g, c, ldc, bias, residual, 0);
    return 1;
}

/* One group's panel per thread, kept between calls: k × 48 floats, grown as needed. The engine's pool threads live as
   long as the process; any other thread that runs the kernel (a caller's own thread) frees its scratch when it exits,
   through a key's destructor. */
static __thread float *group_scratch;
static __thread long group_scratch_floats;
static pthread_key_t scratch_key;
static pthread_once_t scratch_key_once = PTHREAD_ONCE_INIT;

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free); }

/* This thread's scratch, grown to hold one group's panel (k × 48 floats). */
static float *thread_scratch(long k) {
    long floats = k * GROUP_WIDTH;
    if (group_scratch_floats < floats) {
        free(group_scratch);
        /* Under 1 MiB: failing here means the process is out of memory, where Swift's own allocations trap too. */
        group_scratch = aligned_alloc(64, (size_t)floats * sizeof(float));
        if (!group_scratch) abort();
        group_scratch_floats = floats;
        pthread_once(&scratch_key_once, make_scratch_key);
        pthread_setspecific(scratch_key, group_scratch);
    }
    return group_scratch;
}

/* While a group's first three row tiles compute (24 rows or more: all of the plan; 16–23: two thirds), bring group
   `next` of W into L2, so packing it reads it from there. No plan past the thread's last group. */
static struct prefetch_plan next_group_plan(const float *w, int input_major, long n, long k, long next, long end) {
    struct prefetch_plan plan = {.parts = 0};
    if (next >= end || next >= wp_f32_gemm_groups(n)) return plan;
    for (int v = 0; v < GROUP_VECTORS; v++) {
        long first_row = next * GROUP_WIDTH + v * 16;
        if (input_major) { /* row p of the group: 48 floats from column 48·next, three lines (those within n) */
            plan.base[v] = (const char *)(w + (first_row < n ? first_row : next * GROUP_WIDTH));
            plan.lines[v] = first_row < n ? k : 0;
            plan.stride = n * (long)sizeof(float);
        } else { /* 16 output rows, k floats each, contiguous: 16·k / 16 = k lines */
            long rows = n - first_row < 16 ? (n - first_row > 0 ? n - first_row : 0) : 16;
            plan.base[v] = (const char *)(w + (first_row < n ? first_row : 0) * k);
            plan.lines[v] = rows * k / 16;
            plan.stride = 64;
        }
    }
    plan.parts = GROUP_VECTORS;
    return plan;
}

/* The next group a thread computes: with a `cursor` shared by every thread of one product, the next one no thread has
   taken (a thread that runs slower, or starts later, takes fewer); without, the next of its own range. */
static long take_group(long *cursor, long *own) { return cursor ? __atomic_fetch_add(cursor, 1, __ATOMIC_RELAXED) : (*own)++; }

int wp_f32_gemm_unpacked(const float *a, long lda, long m, long k, const float *w, int input_major, long n, long first_group, long groups,
                         long *cursor, float *c, long ldc, const float *bias, const float *residual) {
    if (wp_quant_best_kernel() < 2) return 0;
    float *scratch = thread_scratch(k);
    long total = wp_f32_gemm_groups(n), end = first_group + groups < total ? first_group + groups : total, own = first_group;
    /* Each group's successor is taken before its tiles run, so they can bring it into L2. */
    for (long g = take_group(cursor, &own), next; g < end; g = next) {
        pack_group(w, n, k, input_major, g, scratch);
        next = take_group(cursor, &own);
        struct prefetch_plan plan = next_group_plan(w, input_major, n, k, next, end);
        gemm_group_rows(a, lda, m, k, scratch, n, g, c, ldc, bias, residual, &plan);
    }
    return 1;
}

int wp_f32_gemm_transposed_unpacked(const float *at, long lda, long m, long k, const float *w, long n, long first_group, long groups,
                                    long *cursor, float *c, long ldc, int accumulate, double *group_squares) {
    if (wp_quant_best_kernel() < 2) return 0;
    float *scratch = thread_scratch(k);
    long total = wp_f32_gemm_groups(n), end = first_group + groups < total ? first_group + groups : total, own = first_group;
    for (long g = take_group(cursor, &own), next; g < end; g = next) {
        pack_group(w, n, k, 1, g, scratch);
        next = take_group(cursor, &own);
        struct prefetch_plan plan = next_group_plan(w, 1, n, k, next, end);
        gemm_group_transposed(at, lda, m, k, scratch, n, g, c, ldc, accumulate ? c : 0, &plan, group_squares ? group_squares + g : 0);
    }
    /* Streamed stores are weakly ordered: make them visible before the pool tells another thread this part is done. */
    _mm_sfence();
    return 1;
}
