#include "wp_kernels.h"
#include <immintrin.h>

/* fp32 matrix products for prefill on weights packed once per inference session: C[m, n] (+)= A[m, k] · Wᵀ.

   Why not sgemm: OpenBLAS packs the weight matrix again on every call (its sgemm_itcopy took ≈ 9 % of a GPT-2 prefill
   under perf), and its fastest kernel here ran 416–474 GFLOP/s on prefill's shapes (model bench's sgemm probe and a
   standalone harness). Weights that do not change for a session can be packed once; with that, this kernel measured
   505–519 GFLOP/s on the same shapes in that harness (256 rows, GPT-2's 768/2304/3072 widths, 2 threads; the machine's
   FMA probe measured 525–547).

   W is packed into groups of 48 outputs: group g holds, for each k, the 48 weights W[48g + j][k] side by side (3 vectors
   of 16), rows past n zero, so one group streams as one sequence. A is read in place, row-major. A tile is 8 rows ×
   48 outputs: 24 accumulators, 3 vector loads and 8 broadcasts per k (at two FMAs a cycle, the loads stay well under
   the ports' limit). Groups go outer, so a group (k·192 bytes) stays in the core's L2 while every row tile passes. */

#define TILE_ROWS 8
#define GROUP_VECTORS 3
#define GROUP_WIDTH (GROUP_VECTORS * 16)

long wp_f32_gemm_groups(long n) { return (n + GROUP_WIDTH - 1) / GROUP_WIDTH; }

long wp_f32_panel_floats(long n, long k) { return wp_f32_gemm_groups(n) * GROUP_WIDTH * k; }

void wp_f32_pack_panels(const float *w, long n, long k, int input_major, long first_group, long groups, float *out) {
    for (long g = first_group; g < first_group + groups; g++) {
        for (long p = 0; p < k; p++) {
            float *dst = out + (g * k + p) * GROUP_WIDTH;
            for (long j = 0; j < GROUP_WIDTH; j++) {
                long r = g * GROUP_WIDTH + j;
                dst[j] = r < n ? (input_major ? w[p * n + r] : w[r * k + p]) : 0.0f;
            }
        }
    }
}

/* One tile: `rows` ≤ 8 rows of A (`lda` floats apart) times one group over all k, plus the group's `bias` and the rows'
   `residual` where given (either may be NULL; `residual` may be C); outputs past the group's valid columns masked by
   `mask`. Inlined with constant rows, so the accumulators stay in registers. */
__attribute__((target("avx512f"), always_inline))
static inline void tile(const float *a, long lda, const float *group, long k, float *c, long ldc, int rows, const __mmask16 mask[3],
                        const float *bias, const float *residual) {
    __m512 acc[TILE_ROWS][GROUP_VECTORS];
    for (int i = 0; i < rows; i++)
        for (int v = 0; v < GROUP_VECTORS; v++) acc[i][v] = _mm512_setzero_ps();
    for (long p = 0; p < k; p++) {
        __m512 b[GROUP_VECTORS];
        for (int v = 0; v < GROUP_VECTORS; v++) b[v] = _mm512_loadu_ps(group + p * GROUP_WIDTH + v * 16);
        for (int i = 0; i < rows; i++) {
            __m512 x = _mm512_set1_ps(a[i * lda + p]);
            for (int v = 0; v < GROUP_VECTORS; v++) acc[i][v] = _mm512_fmadd_ps(x, b[v], acc[i][v]);
        }
    }
    for (int i = 0; i < rows; i++) {
        for (int v = 0; v < GROUP_VECTORS; v++) {
            if (!mask[v]) continue;
            __m512 value = acc[i][v];
            if (bias) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask[v], bias + v * 16));
            if (residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask[v], residual + i * ldc + v * 16));
            _mm512_mask_storeu_ps(c + i * ldc + v * 16, mask[v], value);
        }
    }
}

__attribute__((target("avx512f")))
static void gemm_groups(const float *a, long m, long k, const float *panels, long n, long first_group, long groups, float *c, long ldc,
                        const float *bias, const float *residual) {
    long total = wp_f32_gemm_groups(n);
    for (long g = first_group; g < first_group + groups && g < total; g++) {
        __mmask16 mask[GROUP_VECTORS];
        for (int v = 0; v < GROUP_VECTORS; v++) {
            long valid = n - (g * GROUP_WIDTH + v * 16);
            mask[v] = valid >= 16 ? (__mmask16)0xFFFF : valid <= 0 ? (__mmask16)0 : (__mmask16)((1u << valid) - 1);
        }
        const float *group = panels + g * k * GROUP_WIDTH;
        long column = g * GROUP_WIDTH;
        const float *b = bias ? bias + column : 0;
        long row = 0;
        for (; row + TILE_ROWS <= m; row += TILE_ROWS)
            tile(a + row * k, k, group, k, c + row * ldc + column, ldc, TILE_ROWS, mask, b, residual ? residual + row * ldc + column : 0);
        const float *ar = a + row * k, *rr = residual ? residual + row * ldc + column : 0;
        float *cr = c + row * ldc + column;
        switch (m - row) {
        case 7: tile(ar, k, group, k, cr, ldc, 7, mask, b, rr); break;
        case 6: tile(ar, k, group, k, cr, ldc, 6, mask, b, rr); break;
        case 5: tile(ar, k, group, k, cr, ldc, 5, mask, b, rr); break;
        case 4: tile(ar, k, group, k, cr, ldc, 4, mask, b, rr); break;
        case 3: tile(ar, k, group, k, cr, ldc, 3, mask, b, rr); break;
        case 2: tile(ar, k, group, k, cr, ldc, 2, mask, b, rr); break;
        case 1: tile(ar, k, group, k, cr, ldc, 1, mask, b, rr); break;
        default: break;
        }
    }
}

int wp_f32_gemm(const float *a, long m, long k, const float *panels, long n, long first_group, long groups, float *c, long ldc,
                const float *bias, const float *residual) {
    if (wp_quant_best_kernel() < 2) return 0;
    gemm_groups(a, m, k, panels, n, first_group, groups, c, ldc, bias, residual);
    return 1;
}
