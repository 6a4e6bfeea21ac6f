#include "wp_kernels.h"
#include "exp512.h"
#include <immintrin.h>

/* One row of the cross-entropy's softmax over GPT-2's 50257 logits, sixteen lanes at a time with `exp512` (the Swift
   kernel it replaces ran eight, with a polynomial of the same degree): under perf the Swift pass took 1.2 % of a GPT-2
   124M training step's samples on each core. */

__attribute__((target("avx512f")))
static float row_max(const float *row, long n) {
    __m512 m0 = _mm512_set1_ps(-__builtin_inff()), m1 = m0;
    long j = 0;
    for (; j + 32 <= n; j += 32) {
        m0 = _mm512_max_ps(m0, _mm512_loadu_ps(row + j));
        m1 = _mm512_max_ps(m1, _mm512_loadu_ps(row + j + 16));
    }
    for (; j < n; j += 16) {
        __mmask16 mask = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
        m0 = _mm512_mask_max_ps(m0, mask, m0, _mm512_maskz_loadu_ps(mask, row + j));
    }
    return _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
}

/* Σ e^(row[j] − max), writing each term back when `store` is set. */
__attribute__((target("avx512f"), always_inline))
static inline float exp_sum(float *row, long n, float max, int store) {
    const __m512 mb = _mm512_set1_ps(max);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    long j = 0;
    for (; j + 32 <= n; j += 32) {
        __m512 e0 = exp512(_mm512_sub_ps(_mm512_loadu_ps(row + j), mb));
        __m512 e1 = exp512(_mm512_sub_ps(_mm512_loadu_ps(row + j + 16), mb));
        if (store) {
            _mm512_storeu_ps(row + j, e0);
            _mm512_storeu_ps(row + j + 16, e1);
        }
        s0 = _mm512_add_ps(s0, e0);
        s1 = _mm512_add_ps(s1, e1);
    }
    for (; j < n; j += 16) {
        __mmask16 mask = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
        __m512 e = _mm512_maskz_mov_ps(mask, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, row + j), mb)));
        if (store) _mm512_mask_storeu_ps(row + j, mask, e);
        s0 = _mm512_add_ps(s0, e);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f")))
static void softmax_row(float *row, long n, float scale, float *max, float *sum) {
    float m = row_max(row, n), s = exp_sum(row, n, m, 1);
    const __m512 factor = _mm512_set1_ps(scale / s);
    long j = 0;
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(row + j, _mm512_mul_ps(_mm512_loadu_ps(row + j), factor));
    for (; j < n; j++) row[j] *= scale / s;
    *max = m;
    *sum = s;
}

__attribute__((target("avx512f")))
static void max_sum(float *row, long n, float *max, float *sum) {
    float m = row_max(row, n);
    *max = m;
    *sum = exp_sum(row, n, m, 0);
}

int wp_softmax_row(float *row, long n, float scale, float *max, float *sum) {
    if (n <= 0 || wp_quant_kernel() < 2) return 0;
    softmax_row(row, n, scale, max, sum);
    return 1;
}

int wp_softmax_max_sum(const float *row, long n, float *max, float *sum) {
    if (n <= 0 || wp_quant_kernel() < 2) return 0;
    max_sum((float *)row, n, max, sum);
    return 1;
}
