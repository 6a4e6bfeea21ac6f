#include "wp_kernels.h"
#include "exp512.h"
#include <immintrin.h>

/* GELU with GPT-2's tanh approximation, written as 0.5·x·(1 + tanh(u)) = x / (1 + e^(−2u)), u = √(2/π)·(x + 0.044715·x³):
   one exponential and one division per element. e^z: z = n·ln 2 + r with n = round(z·log₂e), |r| ≤ ln2/2, a degree-6
   Taylor polynomial for e^r, and 2^n applied with vscalefps (the tests hold the result within 2e-6 of the reference). In Swift (Float8, the
   SSE2 baseline) this took 5 % of a GPT-2 prefill (perf); with this kernel the prefill ran 9 % faster (1914–1945 →
   2111–2140 tokens/s, GPT-2 124M, 256 tokens). */

__attribute__((target("avx512f")))
static void gelu_avx512(const float *x, float *y, long n) {
    const __m512 scale = _mm512_set1_ps(-2.0f * 0.79788456f), cubic = _mm512_set1_ps(0.044715f), one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        __m512 inner = _mm512_fmadd_ps(_mm512_mul_ps(cubic, v), _mm512_mul_ps(v, v), v);
        __m512 e = exp512(_mm512_mul_ps(scale, inner));
        _mm512_mask_storeu_ps(y + i, m, _mm512_div_ps(v, _mm512_add_ps(one, e)));
    }
}

/* d/dx GELU = σ + 2·x·σ·(1 − σ)·u′ with σ = 1 / (1 + e^(−2u)) (= 0.5·(1 + tanh u)) and u′ = √(2/π)·(1 + 3·0.044715·x²). */
__attribute__((target("avx512f")))
static void gelu_backward_avx512(const float *x, const float *dy, float *dx, long n) {
    const __m512 s = _mm512_set1_ps(0.79788456f), minus2s = _mm512_set1_ps(-2.0f * 0.79788456f), cubic = _mm512_set1_ps(0.044715f);
    const __m512 cubic3 = _mm512_set1_ps(3.0f * 0.044715f), one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
    for (long i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i), v2 = _mm512_mul_ps(v, v);
        __m512 inner = _mm512_fmadd_ps(_mm512_mul_ps(cubic, v), v2, v);
        __m512 sigma = _mm512_div_ps(one, _mm512_add_ps(one, exp512(_mm512_mul_ps(minus2s, inner))));
        __m512 slope = _mm512_mul_ps(s, _mm512_fmadd_ps(cubic3, v2, one));
        __m512 spread = _mm512_mul_ps(_mm512_mul_ps(two, v), _mm512_mul_ps(sigma, _mm512_sub_ps(one, sigma)));
        __m512 local = _mm512_fmadd_ps(spread, slope, sigma);
        _mm512_mask_storeu_ps(dx + i, m, _mm512_mul_ps(local, _mm512_maskz_loadu_ps(m, dy + i)));
    }
}

int wp_gelu_backward(const float *x, const float *dy, float *dx, long n) {
    if (wp_quant_kernel() < 2) return 0;
    gelu_backward_avx512(x, dy, dx, n);
    return 1;
}

int wp_gelu_forward(const float *x, float *y, long n) {
    if (wp_quant_kernel() < 2) return 0;
    gelu_avx512(x, y, n);
    return 1;
}
