#include "wp_kernels.h"
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Read by every thread (GELU's chunks, the pool's parts): atomic, so the first reads and `wp_quant_set_kernel` race
   with nothing. */
static _Atomic int chosen = -1;

int wp_quant_best_kernel(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
        if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bf16")) return 3;
        return 2;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
}

int wp_quant_kernel(void) {
    if (chosen < 0) {
        /* WATTPRINT_QUANT_KERNEL=0…3 forces a narrower kernel, for comparisons (clamped to what the CPU runs). */
        const char *forced = getenv("WATTPRINT_QUANT_KERNEL");
        if (forced && *forced >= '0' && *forced <= '3') wp_quant_set_kernel(*forced - '0');
        else chosen = wp_quant_best_kernel();
    }
    return chosen;
}

void wp_quant_set_kernel(int kernel) {
    int best = wp_quant_best_kernel();
    chosen = kernel < 0 ? 0 : (kernel > best ? best : kernel);
}

/* ---- portable ---- */

static float bf16_to_float(uint16_t v) {
    uint32_t bits = (uint32_t)v << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void gemv_bf16_c(const uint16_t *w, const float *x, float *y, long n, long k) {
    for (long r = 0; r < n; r++) {
        const uint16_t *row = w + r * k;
        float s = 0;
        for (long j = 0; j < k; j++) s += bf16_to_float(row[j]) * x[j];
        y[r] = s;
    }
}

static void gemv_q8_c(const int8_t *w, const float *scales, const float *x, float *y, long n, long k) {
    long groups = k / 32;
    for (long r = 0; r < n; r++) {
        float s = 0;
        for (long g = 0; g < groups; g++) {
            const int8_t *q = w + r * k + g * 32;
            float part = 0;
            for (int j = 0; j < 32; j++) part += (float)q[j] * x[g * 32 + j];
            s += part * scales[r * groups + g];
        }
        y[r] = s;
    }
}

/* ---- AVX2 + FMA: widen to fp32 ---- */

__attribute__((target("avx2,fma")))
static float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}

__attribute__((target("avx2,fma")))
static void gemv_bf16_avx2(const uint16_t *w, const float *x, float *y, long n, long k) {
    for (long r = 0; r < n; r++) {
        const uint16_t *row = w + r * k;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        long j = 0;
        for (; j + 16 <= k; j += 16) {
            __m256i h = _mm256_loadu_si256((const __m256i *)(row + j));
            __m256 lo = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(h)), 16));
            __m256 hi = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(h, 1)), 16));
            a0 = _mm256_fmadd_ps(lo, _mm256_loadu_ps(x + j), a0);
            a1 = _mm256_fmadd_ps(hi, _mm256_loadu_ps(x + j + 8), a1);
        }
        float s = hsum256(_mm256_add_ps(a0, a1));
        for (; j < k; j++) s += bf16_to_float(row[j]) * x[j];
        y[r] = s;
    }
}

__attribute__((target("avx2,fma")))
static void gemv_q8_avx2(const int8_t *w, const float *scales, const float *x, float *y, long n, long k) {
    long groups = k / 32;
    for (long r = 0; r < n; r++) {
        __m256 acc = _mm256_setzero_ps();
        for (long g = 0; g < groups; g++) {
            const int8_t *q = w + r * k + g * 32;
            const float *xs = x + g * 32;
            __m256 part = _mm256_setzero_ps();
            for (int j = 0; j < 32; j += 8) {
                __m256 wv = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(q + j))));
                part = _mm256_fmadd_ps(wv, _mm256_loadu_ps(xs + j), part);
            }
            acc = _mm256_fmadd_ps(part, _mm256_set1_ps(scales[r * groups + g]), acc);
        }
        y[r] = hsum256(acc);
    }
}

/* ---- AVX-512F: widen to fp32 ---- */

__attribute__((target("avx512f,avx512bw")))
static void gemv_bf16_avx512(const uint16_t *w, const float *x, float *y, long n, long k) {
    for (long r = 0; r < n; r++) {
        const uint16_t *row = w + r * k;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        long j = 0;
        for (; j + 32 <= k; j += 32) {
            __m512i h = _mm512_loadu_si512((const void *)(row + j));
            __m512 lo = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(h)), 16));
            __m512 hi = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1)), 16));
            a0 = _mm512_fmadd_ps(lo, _mm512_loadu_ps(x + j), a0);
            a1 = _mm512_fmadd_ps(hi, _mm512_loadu_ps(x + j + 16), a1);
        }
        float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
        for (; j < k; j++) s += bf16_to_float(row[j]) * x[j];
        y[r] = s;
    }
}

__attribute__((target("avx512f,avx512bw")))
static void gemv_q8_avx512(const int8_t *w, const float *scales, const float *x, float *y, long n, long k) {
    long groups = k / 32;
    for (long r = 0; r < n; r++) {
        __m512 acc = _mm512_setzero_ps();
        for (long g = 0; g < groups; g++) {
            const int8_t *q = w + r * k + g * 32;
            __m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)q)));
            __m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 16))));
            __m512 part = _mm512_mul_ps(w0, _mm512_loadu_ps(x + g * 32));
            part = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + g * 32 + 16), part);
            acc = _mm512_fmadd_ps(part, _mm512_set1_ps(scales[r * groups + g]), acc);
        }
        y[r] = _mm512_reduce_add_ps(acc);
    }
}

/* ---- AVX-512 BF16: dot products of bf16 pairs (activations rounded to bf16 once per call, fp32 accumulation). One
   row at a time: four rows at once measured slower here (124–129 against 135 tokens/s, GPT-2 124M decode). ---- */

__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void gemv_bf16_dp(const uint16_t *w, const float *x, float *y, long n, long k) {
    long main = k / 32 * 32;
    __m512bh xb[main / 32 > 0 ? main / 32 : 1];
    for (long j = 0; j < main; j += 32) xb[j / 32] = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + j + 16), _mm512_loadu_ps(x + j));
    for (long r = 0; r < n; r++) {
        const uint16_t *row = w + r * k;
        /* Two chains, so each dot product's latency overlaps the other's. */
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        long j = 0;
        for (; j + 64 <= main; j += 64) {
            a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_loadu_si512((const void *)(row + j)), xb[j / 32]);
            a1 = _mm512_dpbf16_ps(a1, (__m512bh)_mm512_loadu_si512((const void *)(row + j + 32)), xb[j / 32 + 1]);
        }
        for (; j < main; j += 32) a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_loadu_si512((const void *)(row + j)), xb[j / 32]);
        float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
        for (j = main; j < k; j++) s += bf16_to_float(row[j]) * x[j];
        y[r] = s;
    }
}

/* ---- AVX-512 VNNI: int8 × int8 dot products. x is quantised per group of 32 to int8 (scale max|x|/127) and offset by
   128 to unsigned (vpdpbusd multiplies unsigned by signed); the offset's contribution, 128·Σ q, is subtracted. One
   row at a time, each group's integer sums scaled in fp32 lanes: four rows sharing the activations measured slower
   (139 against 222 tokens/s). ---- */

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static void gemv_q8_vnni(const int8_t *w, const float *scales, const float *x, float *y, long n, long k) {
    long groups = k / 32;
    uint8_t xu[k > 0 ? k : 1];
    float xscale[groups > 0 ? groups : 1];
    for (long g = 0; g < groups; g++) {
        float m = 0;
        for (int j = 0; j < 32; j++) m = fmaxf(m, fabsf(x[g * 32 + j]));
        float inv = m > 0 ? 127.0f / m : 0;
        xscale[g] = m / 127.0f;
        for (int j = 0; j < 32; j++) xu[g * 32 + j] = (uint8_t)(lrintf(x[g * 32 + j] * inv) + 128);
    }
    const __m512i ones = _mm512_set1_epi8(1);
    for (long r = 0; r < n; r++) {
        const int8_t *row = w + r * k;
        const float *rs = scales + r * groups;
        /* Two groups a vector (lanes 0–7 the first, 8–15 the second): their integer sums are scaled into fp32 lanes
           and added up there, one horizontal sum a row. A scalar sum per group, with its horizontal adds and a serial
           float chain, kept the int8 products at 72–75 % of the streaming-read bound. */
        __m512 acc = _mm512_setzero_ps();
        long g = 0;
        for (; g + 2 <= groups; g += 2) {
            __m512i q = _mm512_loadu_si512((const void *)(row + g * 32));
            __m512i a = _mm512_loadu_si512((const void *)(xu + g * 32));
            __m512i d = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), a, q),
                                         _mm512_slli_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, q), 7));
            __m512 scale = _mm512_mask_mov_ps(_mm512_set1_ps(xscale[g] * rs[g]), (__mmask16)0xFF00, _mm512_set1_ps(xscale[g + 1] * rs[g + 1]));
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), scale, acc);
        }
        float s = _mm512_reduce_add_ps(acc);
        for (; g < groups; g++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(row + g * 32));
            __m256i a = _mm256_loadu_si256((const __m256i *)(xu + g * 32));
            __m256i d = _mm256_sub_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), a, q),
                                         _mm256_slli_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm512_castsi512_si256(ones), q), 7));
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(d), _mm256_extracti128_si256(d, 1));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
            s += (float)_mm_cvtsi128_si32(h) * xscale[g] * rs[g];
        }
        y[r] = s;
    }
}

void wp_gemv_bf16(const uint16_t *w, const float *x, float *y, long n, long k) {
    switch (wp_quant_kernel()) {
    case 3: gemv_bf16_dp(w, x, y, n, k); break;
    case 2: gemv_bf16_avx512(w, x, y, n, k); break;
    case 1: gemv_bf16_avx2(w, x, y, n, k); break;
    default: gemv_bf16_c(w, x, y, n, k);
    }
}

void wp_gemv_q8(const int8_t *w, const float *scales, const float *x, float *y, long n, long k) {
    switch (wp_quant_kernel()) {
    case 3: gemv_q8_vnni(w, scales, x, y, n, k); break;
    case 2: gemv_q8_avx512(w, scales, x, y, n, k); break;
    case 1: gemv_q8_avx2(w, scales, x, y, n, k); break;
    default: gemv_q8_c(w, scales, x, y, n, k);
    }
}
