#ifndef WP_QUANT_H
#define WP_QUANT_H

#include <stdint.h>

/* Weight-only reduced-precision matrix–vector products for decoding: y[n] = W[n, k] · x[k], W row-major, x and y
   fp32, accumulation in fp32. Single-threaded: the caller splits the rows over cores.

   bf16: each weight is the upper 16 bits of an fp32 (round to nearest even when converted).
   q8 (llama.cpp's Q8_0 layout): rows cut into groups of 32 weights, each group int8 values and one fp32 scale
   (scale · q ≈ w); k must be a multiple of 32.

   Each product has a portable C version and x86 versions chosen at run time from the CPU's flags. */

/* Which kernel `wp_gemv_bf16` / `wp_gemv_q8` run: 0 portable C, 1 AVX2+FMA widening to fp32, 2 AVX-512F widening
   to fp32, 3 AVX-512 BF16 dot products (bf16) / AVX-512 VNNI int8 dot products (q8, activations quantised per group
   of 32 to int8). The default is the widest the CPU has; `wp_quant_set_kernel` forces one (clamped to what runs). */
int wp_quant_kernel(void);
void wp_quant_set_kernel(int kernel);
/* The widest kernel this CPU can run. */
int wp_quant_best_kernel(void);

void wp_gemv_bf16(const uint16_t *w, const float *x, float *y, long n, long k);
void wp_gemv_q8(const int8_t *w, const float *scales, const float *x, float *y, long n, long k);

/* The same products with rows split over `threads` (the caller and persistent workers that spin between products, so
   a decode step's fifty products do not each wake a sleeping thread). kind 0: bf16 (`scales` unused), 1: q8. One
   caller at a time uses the workers; a concurrent second caller computes its product on its own thread. */
void wp_gemv_parallel(int kind, const void *w, const float *scales, const float *x, float *y, long n, long k, int threads);

#endif
