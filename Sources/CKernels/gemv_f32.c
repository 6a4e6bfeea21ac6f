#include "wp_kernels.h"
#include <immintrin.h>

/* fp32 matrix–vector products for decoding, in the two layouts the models store: output-major rows (PyTorch `Linear`,
   the tied LM head) and input-major rows (GPT-2's `Conv1D`). One token's product streams the whole matrix once, so
   these are bound by memory bandwidth; they exist so the products run on the spinning pool of gemv_pool.c (and
   OpenBLAS's threads may sleep at once after each sgemm, see blas_loader.c) rather than to beat OpenBLAS's sgemv. */

/* ---- portable ---- */

static void rows_c(const float *w, long ldw, const float *x, float *y, long n, long k, int accumulate) {
    for (long r = 0; r < n; r++) {
        const float *row = w + r * ldw;
        float s = 0;
        for (long j = 0; j < k; j++) s += row[j] * x[j];
        y[r] = accumulate ? y[r] + s : s;
    }
}

static void columns_c(const float *w, long ldw, const float *x, float *y, long n, long k, int accumulate) {
    if (!accumulate)
        for (long c = 0; c < n; c++) y[c] = 0;
    for (long j = 0; j < k; j++) {
        const float *row = w + j * ldw;
        float xj = x[j];
        for (long c = 0; c < n; c++) y[c] += xj * row[c];
    }
}

/* ---- AVX2 and FMA (output-major rows) ---- */

/* One row at a time, four chains of 256-bit loads. On this project's Zen 5 VM the same loop with 512-bit loads read
   GPT-2 124M's matrices as output-major rows at a median 78 % of the streaming-read probe while the VM had 55–65 GB/s
   to give (145 rounds of scripts/kernel-harness/run-decode), this one at 90 %; the LM head 82 → 97 %; and at about
   34 GB/s 93 → 96 % and 94 → 98 % (455 rounds). The probe itself reads 11–13 % less with 512-bit loads there. */
__attribute__((target("avx2,fma")))
static void rows_avx2(const float *w, long ldw, const float *x, float *y, long n, long k, int accumulate) {
    long main = k / 32 * 32;
    for (long r = 0; r < n; r++) {
        const float *row = w + r * ldw;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        long j = 0;
        for (; j < main; j += 32) {
            /* Two lines into L2 4 KiB ahead every 64 floats: the matrix's rows follow each other, so this runs ahead
               of the hardware's own prefetch. */
            if ((j & 63) == 0) {
                _mm_prefetch((const char *)(row + j) + 4096, _MM_HINT_T1);
                _mm_prefetch((const char *)(row + j) + 4096 + 64, _MM_HINT_T1);
            }
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(x + j), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(row + j + 8), _mm256_loadu_ps(x + j + 8), a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(row + j + 16), _mm256_loadu_ps(x + j + 16), a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(row + j + 24), _mm256_loadu_ps(x + j + 24), a3);
        }
        for (; j + 8 <= k; j += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(x + j), a0);
        __m256 sum8 = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
        __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(sum8), _mm256_extractf128_ps(sum8, 1));
        sum4 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
        float s = _mm_cvtss_f32(_mm_add_ss(sum4, _mm_movehdup_ps(sum4)));
        for (; j < k; j++) s += row[j] * x[j];
        y[r] = accumulate ? y[r] + s : s;
    }
}

/* ---- AVX-512F (input-major columns) ---- */

/* One 16-column block (`m` masks a tail) of eight input rows into y: two chains of four, so a pass's latency is half
   that of one chain of eight. */
__attribute__((target("avx512f"), always_inline))
static inline void columns_block8(const float *p, long ldw, const __m512 *xs, float *y, __mmask16 m) {
    __m512 a = _mm512_maskz_loadu_ps(m, y), b = _mm512_mul_ps(xs[4], _mm512_maskz_loadu_ps(m, p + 4 * ldw));
    a = _mm512_fmadd_ps(xs[0], _mm512_maskz_loadu_ps(m, p), a);
    b = _mm512_fmadd_ps(xs[5], _mm512_maskz_loadu_ps(m, p + 5 * ldw), b);
    a = _mm512_fmadd_ps(xs[1], _mm512_maskz_loadu_ps(m, p + ldw), a);
    b = _mm512_fmadd_ps(xs[6], _mm512_maskz_loadu_ps(m, p + 6 * ldw), b);
    a = _mm512_fmadd_ps(xs[2], _mm512_maskz_loadu_ps(m, p + 2 * ldw), a);
    b = _mm512_fmadd_ps(xs[7], _mm512_maskz_loadu_ps(m, p + 7 * ldw), b);
    a = _mm512_fmadd_ps(xs[3], _mm512_maskz_loadu_ps(m, p + 3 * ldw), a);
    _mm512_mask_storeu_ps(y, m, _mm512_add_ps(a, b));
}

/* y[c] (+)= Σ_j x[j]·w[j, c]: eight input rows at a time into y, so the matrix streams row after row; y stays in L1
   up to about ten thousand outputs (GPT-2's are at most 3072). Eight rather than four halve y's loads and stores per weight: with 768 outputs a stored y vector is loaded again
   while the store is still in flight, and four rows a pass read GPT-2's 768-wide products at a median 84 % of the
   streaming-read rate against 93 % with eight (a C loop over the 124M model's matrices, this development VM). */
__attribute__((target("avx512f")))
static void columns_avx512(const float *w, long ldw, const float *x, float *y, long n, long k, int accumulate) {
    long j = 0;
    if (!accumulate) {
        for (long c = 0; c < n; c += 16) {
            __mmask16 m = n - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - c)) - 1);
            _mm512_mask_storeu_ps(y + c, m, _mm512_setzero_ps());
        }
    }
    for (; j + 8 <= k; j += 8) {
        const float *r = w + j * ldw;
        /* The next pass's eight rows, contiguous when the matrix is whole (ldw = n): while this pass reads its 16
           columns of eight rows, eight lines of the next pass go into L2 in address order, the whole next pass by the
           end of this one. In a C loop over GPT-2's block matrices this took the products from 90 to 97 % of the
           streaming-read probe while the VM had about 34 GB/s to give, and from 75 to 85 % at about 55 (82 and 8
           rounds); prefetching each row's own stream ahead instead gave 95 and 80 %. */
        const char *next = ldw == n ? (const char *)(r + 8 * ldw) : 0;
        __m512 xs[8];
        for (int i = 0; i < 8; i++) xs[i] = _mm512_set1_ps(x[j + i]);
        long c = 0;
        for (; c + 16 <= n; c += 16) {
            if (next)
                for (int i = 0; i < 8; i++) _mm_prefetch(next + (c / 16 * 8 + i) * 64, _MM_HINT_T1);
            columns_block8(r + c, ldw, xs, y + c, (__mmask16)0xFFFF);
        }
        if (c < n) columns_block8(r + c, ldw, xs, y + c, (__mmask16)((1u << (n - c)) - 1));
    }
    for (; j + 4 <= k; j += 4) {
        const float *r0 = w + j * ldw, *r1 = r0 + ldw, *r2 = r1 + ldw, *r3 = r2 + ldw;
        __m512 x0 = _mm512_set1_ps(x[j]), x1 = _mm512_set1_ps(x[j + 1]), x2 = _mm512_set1_ps(x[j + 2]), x3 = _mm512_set1_ps(x[j + 3]);
        long c = 0;
        for (; c + 16 <= n; c += 16) {
            __m512 acc = _mm512_loadu_ps(y + c);
            acc = _mm512_fmadd_ps(x0, _mm512_loadu_ps(r0 + c), acc);
            acc = _mm512_fmadd_ps(x1, _mm512_loadu_ps(r1 + c), acc);
            acc = _mm512_fmadd_ps(x2, _mm512_loadu_ps(r2 + c), acc);
            acc = _mm512_fmadd_ps(x3, _mm512_loadu_ps(r3 + c), acc);
            _mm512_storeu_ps(y + c, acc);
        }
        if (c < n) {
            __mmask16 m = (__mmask16)((1u << (n - c)) - 1);
            __m512 acc = _mm512_maskz_loadu_ps(m, y + c);
            acc = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m, r0 + c), acc);
            acc = _mm512_fmadd_ps(x1, _mm512_maskz_loadu_ps(m, r1 + c), acc);
            acc = _mm512_fmadd_ps(x2, _mm512_maskz_loadu_ps(m, r2 + c), acc);
            acc = _mm512_fmadd_ps(x3, _mm512_maskz_loadu_ps(m, r3 + c), acc);
            _mm512_mask_storeu_ps(y + c, m, acc);
        }
    }
    for (; j < k; j++) {
        const float *row = w + j * ldw;
        __m512 xj = _mm512_set1_ps(x[j]);
        for (long c = 0; c < n; c += 16) {
            __mmask16 m = n - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - c)) - 1);
            _mm512_mask_storeu_ps(y + c, m, _mm512_fmadd_ps(xj, _mm512_maskz_loadu_ps(m, row + c), _mm512_maskz_loadu_ps(m, y + c)));
        }
    }
}

void wp_gemv_f32_rows(const float *w, long ldw, const float *x, float *y, long n, long k, int accumulate) {
    if (wp_quant_kernel() >= 1) rows_avx2(w, ldw, x, y, n, k, accumulate);
    else rows_c(w, ldw, x, y, n, k, accumulate);
}

void wp_gemv_f32_columns(const float *w, long ldw, const float *x, float *y, long n, long k, int accumulate) {
    if (wp_quant_kernel() >= 2) columns_avx512(w, ldw, x, y, n, k, accumulate);
    else columns_c(w, ldw, x, y, n, k, accumulate);
}
