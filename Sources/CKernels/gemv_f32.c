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

/* ---- blocked output-major rows (decode copies) ---- */

/* Rows longer than 1,024 inputs are cut into blocks of at most 768: each block is [n, width] output-major and the blocks
   follow each other, so a product reads every block's rows with its slice of x held in L1. On this project's Zen 5 VM,
   while it had 55–65 GB/s to give, 24 copies of GPT-2 124M's MLP projection (768 rows of 3,072) read as whole rows
   streamed at 63–82 % of the streaming-read probe; the same memory read as 3,072 rows of 768 at 94 %, and as four blocks
   of 768 inputs at 89 % (interleaved rounds of a C loop). The 124M model's block matrices and LM head together read at
   83 % as stored (input-major), 86 % as plain output-major rows, and 94 % with 768 or 1,024 inputs a block (443 rounds).
   Hence one block up to 1,024 inputs, and blocks of at most 768 beyond: k split evenly into ⌈k/768⌉ blocks, the width
   rounded up to 16 (so never above 768). */
long wp_rows_block(long k) {
    if (k <= 1024) return k;
    long blocks = (k + 767) / 768, width = (k + blocks - 1) / blocks;
    return (width + 15) / 16 * 16;
}

/* Rows first..<last of one block's copy of an input-major W [k, n]: inputs c0..<c0+16 of each output row in one gather
   from 16 source rows (the 16 lines stay in L1 for the next 15 outputs). Gather indices are 32-bit: the caller checks
   that 16·n fits. */
__attribute__((target("avx512f")))
static void transpose_block_avx512(const float *w, long n, long b0, long width, long first, long last, float *dst) {
    const __m512i index =
        _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32((int)n));
    long c0 = 0;
    for (; c0 + 16 <= width; c0 += 16) {
        const float *source = w + (b0 + c0) * n;
        for (long r = first; r < last; r++) _mm512_storeu_ps(dst + r * width + c0, _mm512_i32gather_ps(index, source + r, 4));
    }
    for (; c0 < width; c0++)
        for (long r = first; r < last; r++) dst[r * width + c0] = w[(b0 + c0) * n + r];
}

void wp_pack_rows_blocked(const float *w, int input_major, long n, long k, long block, long first, long count, float *out) {
    long last = first + count;
    if (block <= 0) block = k > 0 ? k : 1;
    for (long b0 = 0; b0 < k; b0 += block) {
        long width = k - b0 < block ? k - b0 : block;
        float *dst = out + b0 * n;
        if (!input_major) {
            for (long r = first; r < last; r++)
                for (long c = 0; c < width; c++) dst[r * width + c] = w[r * k + b0 + c];
            continue;
        }
        /* Transposed 16 inputs at a time: 16 source rows read side by side along this range of outputs, each destination
           line (16 inputs of one output row) written whole. Walking the outputs in tiles instead, the reads jumped from
           source row to source row and GPT-2 124M's copy took 190 ms; with scalar moves, 145–160 ms; with the gather,
           about 100 ms. */
        if (wp_quant_kernel() >= 2 && 16 * n < 0x7fffffffL) {
            transpose_block_avx512(w, n, b0, width, first, last, dst);
            continue;
        }
        for (long c0 = 0; c0 < width; c0 += 16) {
            long c1 = c0 + 16 < width ? c0 + 16 : width;
            for (long r = first; r < last; r++)
                for (long c = c0; c < c1; c++) dst[r * width + c] = w[(b0 + c) * n + r];
        }
    }
}
