#include "wp_kernels.h"
#include <immintrin.h>
#include <string.h>

/* bf16 × bf16 matrix products for prefill, with AVX-512 BF16's dot products of pairs (vdpbf16ps: 32 multiply-adds per
   instruction, twice an fp32 FMA's 16), accumulated in fp32. C[m, n] (+)= A[m, k] · Wᵀ, W [n, k] stored bf16.

   W is packed once into panels of 16 output rows: the 32-bit word (W[r][2p], W[r][2p+1]) of row r = 16b + j sits at
   panel b, position p·16 + j, so one load gives a pair of k for 16 outputs. A is rounded to bf16 row-major, where a pair
   of k is already one 32-bit word, broadcast to all lanes. A tile is 6 rows × 4 panels (64 outputs): 24 accumulators,
   4 panel loads and 6 broadcasts per pair of k. */

#define TILE_ROWS 6
#define TILE_PANELS 4

void wp_bf16_pack_panels(const uint16_t *w, long n, long k, uint32_t *out) {
    long pairs = k / 2, panels = (n + 15) / 16;
    for (long b = 0; b < panels; b++) {
        for (long p = 0; p < pairs; p++) {
            for (long j = 0; j < 16; j++) {
                long r = b * 16 + j;
                uint32_t word = 0;
                if (r < n) memcpy(&word, w + r * k + 2 * p, sizeof word);
                out[(b * pairs + p) * 16 + j] = word;
            }
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void round_bf16(const float *x, uint16_t *y, long count) {
    long i = 0;
    for (; i + 32 <= count; i += 32) {
        __m512bh h = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(x + i));
        _mm512_storeu_si512((void *)(y + i), (__m512i)h);
    }
    for (; i < count; i++) {
        __m512bh h = _mm512_cvtne2ps_pbh(_mm512_setzero_ps(), _mm512_set1_ps(x[i]));
        uint16_t lanes[32];
        _mm512_storeu_si512((void *)lanes, (__m512i)h);
        y[i] = lanes[0];
    }
}

int wp_bf16_round(const float *x, uint16_t *y, long count) {
    if (wp_quant_kernel() < 3) return 0;
    round_bf16(x, y, count);
    return 1;
}

/* One tile: `rows` ≤ 6 rows of A (bf16, `lda` elements apart) times `panels` ≤ 4 panels, over `pairs` pairs of k, plus
   `bias` and the rows' `residual` where given (either may be NULL; `residual` may be C); the last panel's outputs masked
   by `last`. Inlined with constant rows and panels, so the accumulators stay in registers. */
__attribute__((target("avx512f,avx512bw,avx512bf16"), always_inline))
static inline void tile(const uint16_t *a, long lda, const uint32_t *panel, long pairs, float *c, long ldc, int rows, int panels,
                        __mmask16 last, const float *bias, const float *residual) {
    __m512 acc[TILE_ROWS][TILE_PANELS];
    for (int i = 0; i < rows; i++)
        for (int v = 0; v < panels; v++) acc[i][v] = _mm512_setzero_ps();
    for (long p = 0; p < pairs; p++) {
        __m512bh b[TILE_PANELS];
        for (int v = 0; v < panels; v++) b[v] = (__m512bh)_mm512_loadu_si512((const void *)(panel + (v * pairs + p) * 16));
        for (int i = 0; i < rows; i++) {
            int32_t word;
            memcpy(&word, a + i * lda + 2 * p, sizeof word);
            __m512bh broadcast = (__m512bh)_mm512_set1_epi32(word);
            for (int v = 0; v < panels; v++) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], broadcast, b[v]);
        }
    }
    for (int i = 0; i < rows; i++) {
        for (int v = 0; v < panels; v++) {
            __mmask16 m = v == panels - 1 ? last : (__mmask16)0xFFFF;
            __m512 value = acc[i][v];
            if (bias) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(m, bias + v * 16));
            if (residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(m, residual + i * ldc + v * 16));
            _mm512_mask_storeu_ps(c + i * ldc + v * 16, m, value);
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void gemm_groups(const uint16_t *a, long m, long k, const uint32_t *panels, long n, long first_group, long groups, float *c,
                        long ldc, const float *bias, const float *residual) {
    long pairs = k / 2, total_panels = (n + 15) / 16;
    for (long g = first_group; g < first_group + groups; g++) {
        long first_panel = g * TILE_PANELS;
        int count = (int)(total_panels - first_panel < TILE_PANELS ? total_panels - first_panel : TILE_PANELS);
        if (count <= 0) break;
        long end = (first_panel + count) * 16;
        __mmask16 last = end <= n ? (__mmask16)0xFFFF : (__mmask16)((1u << (16 - (end - n))) - 1);
        const uint32_t *panel = panels + first_panel * pairs * 16;
        long column = first_panel * 16;
        const float *b = bias ? bias + column : 0;
        long row = 0;
        for (; row + TILE_ROWS <= m; row += TILE_ROWS) {
            const uint16_t *ar = a + row * k;
            float *cr = c + row * ldc + column;
            const float *rr = residual ? residual + row * ldc + column : 0;
            switch (count) {
            case 4: tile(ar, k, panel, pairs, cr, ldc, TILE_ROWS, 4, last, b, rr); break;
            case 3: tile(ar, k, panel, pairs, cr, ldc, TILE_ROWS, 3, last, b, rr); break;
            case 2: tile(ar, k, panel, pairs, cr, ldc, TILE_ROWS, 2, last, b, rr); break;
            default: tile(ar, k, panel, pairs, cr, ldc, TILE_ROWS, 1, last, b, rr);
            }
        }
        for (; row < m; row++) {
            const uint16_t *ar = a + row * k;
            float *cr = c + row * ldc + column;
            const float *rr = residual ? residual + row * ldc + column : 0;
            switch (count) {
            case 4: tile(ar, k, panel, pairs, cr, ldc, 1, 4, last, b, rr); break;
            case 3: tile(ar, k, panel, pairs, cr, ldc, 1, 3, last, b, rr); break;
            case 2: tile(ar, k, panel, pairs, cr, ldc, 1, 2, last, b, rr); break;
            default: tile(ar, k, panel, pairs, cr, ldc, 1, 1, last, b, rr);
            }
        }
    }
}

long wp_bf16_gemm_groups(long n) { return ((n + 15) / 16 + TILE_PANELS - 1) / TILE_PANELS; }

int wp_bf16_gemm(const uint16_t *a, long m, long k, const uint32_t *panels, long n, long first_group, long groups, float *c, long ldc,
                 const float *bias, const float *residual) {
    /* The CPU's capability, not the forced kernel: the caller checked that before rounding the rows. */
    if (wp_quant_best_kernel() < 3 || k % 2 != 0) return 0;
    gemm_groups(a, m, k, panels, n, first_group, groups, c, ldc, bias, residual);
    return 1;
}
