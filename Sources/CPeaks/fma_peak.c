#include "wp_peaks.h"

#include <immintrin.h>

int wp_fma_isa(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 3;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 2;
    return 1;
}

#define CHAINS 12

__attribute__((target("avx512f"))) static double run512(long n, float seed) {
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_set1_ps(seed + (float)c);
    for (long i = 0; i < n; i++) {
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    }
    __m512 sum = acc[0];
    for (int c = 1; c < CHAINS; c++) sum = _mm512_add_ps(sum, acc[c]);
    volatile float sink = _mm512_reduce_add_ps(sum);
    (void)sink;
    return (double)n * CHAINS * 16 * 2;
}

__attribute__((target("avx2,fma"))) static double run256(long n, float seed) {
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_set1_ps(seed + (float)c);
    for (long i = 0; i < n; i++) {
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    }
    __m256 sum = acc[0];
    for (int c = 1; c < CHAINS; c++) sum = _mm256_add_ps(sum, acc[c]);
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    volatile float sink = lanes[0];
    (void)sink;
    return (double)n * CHAINS * 8 * 2;
}

static double run128(long n, float seed) {
    __m128 acc[CHAINS];
    const __m128 a = _mm_set1_ps(0.999999f), b = _mm_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm_set1_ps(seed + (float)c);
    for (long i = 0; i < n; i++) {
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm_add_ps(_mm_mul_ps(acc[c], a), b);
    }
    __m128 sum = acc[0];
    for (int c = 1; c < CHAINS; c++) sum = _mm_add_ps(sum, acc[c]);
    volatile float sink = _mm_cvtss_f32(sum);
    (void)sink;
    return (double)n * CHAINS * 4 * 2;
}

double wp_fma_run(int isa, long iterations, float seed) {
    switch (isa) {
    case 3: return run512(iterations, seed);
    case 2: return run256(iterations, seed);
    default: return run128(iterations, seed);
    }
}
