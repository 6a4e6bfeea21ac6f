#ifndef WP_KERNELS_H
#define WP_KERNELS_H

#include <stdint.h>

/* The engine's own C kernels, each x86 version chosen at run time from the CPU's flags beside a portable one:
   matrix–vector products for decoding (fp32, and weight-only bf16 and int8), a pool of workers that runs them over
   the cores, and GPT-2's GELU.

   Reduced-precision products: y[n] = W[n, k] · x[k], W row-major, x and y fp32, accumulation in fp32.
   Single-threaded: the caller splits the rows over cores (or uses `wp_gemv_parallel`).

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

/* The same products split over `threads` (the caller and persistent workers that spin between products, so a decode
   step's fifty products do not each wake a sleeping thread): output rows for kinds 0–2; for kind 3 input rows, each
   thread summing its contiguous slice of W and the caller adding the sums. kind 0: bf16 (`scales` unused), 1: q8,
   2: fp32 rows (`wp_gemv_f32_rows`, w [n, k]), 3: fp32 columns (`wp_gemv_f32_columns`, w [k, n]). Any thread runs any
   share, so a share whose worker has not started (another process holds its core) is run by a thread that is free.
   One caller at a time uses the workers; a concurrent second caller computes its product on its own thread. */
void wp_gemv_parallel(int kind, const void *w, const float *scales, const float *x, float *y, long n, long k, int threads);
/* The same workers for any work: `function(context, part)` for every part in 0..<parts, on up to `threads` threads (the
   caller among them), each taking the next part left until none is; returns when all have run. A part that itself
   calls the pool, or a second caller while one holds it, runs its parts on its own thread in order. */
typedef void (*wp_pool_function)(void *context, long part);
void wp_pool_run(long parts, wp_pool_function function, void *context, int threads);
/* Jobs that used the workers since the process started, how many of them ran on the caller alone because the pool was
   backing off (a worker lost its core mid-job, or the caller waited for one: gemv_pool.c), and the times it began. */
void wp_pool_backoff_counts(long *jobs, long *backed_off, long *backoffs);
/* Turns the backing off on (1) or off (0) for the rest of the process, over WATTPRINT_POOL_BACKOFF, ending any under way:
   for tests that need every thread to take part under contention. Not from inside a part (it takes the caller's lock). */
void wp_pool_set_backoff(int enabled);
/* The same, with `accumulate` 1 adding the product to y (fp32 kinds only; the others always overwrite). */
void wp_gemv_parallel_into(int kind, const void *w, const float *scales, const float *x, float *y, long n, long k, int threads,
                           int accumulate);

/* fp32 products, single-threaded, y (+)= W·x (`accumulate` 1 adds to y): `rows` for an output-major W [n, k] whose rows
   are `ldw` floats apart; `columns` for an input-major W [k, n] whose rows are `ldw` floats apart (the pool hands each thread a
   slice of the rows). x and y must not overlap. `rows` runs 256-bit AVX2 and FMA where the CPU has them
   (`wp_quant_kernel() >= 1`; it streamed faster than 512-bit loads on a Zen 5 VM, gemv_f32.c), `columns` AVX-512F
   (`>= 2`); else portable C. */
void wp_gemv_f32_rows(const float *w, long ldw, const float *x, float *y, long n, long k, int accumulate);
void wp_gemv_f32_columns(const float *w, long ldw, const float *x, float *y, long n, long k, int accumulate);

/* A matrix laid out for one-row products (decode): output-major rows cut into blocks of `block` inputs (the last may be
   narrower), block after block, each [n, width] row-major: element (r, c) of W [n, k] lies at
   b·n + r·width + (c − b), b the start of c's block and width its width. `wp_rows_block(k)` is the width used: k itself up
   to 1,024 inputs (one block: plain output-major rows), else k split evenly into ⌈k/768⌉ blocks, the width rounded up
   to 16, so never above 768 (gemv_f32.c says why); a `block` of 0 or less means one block of k.
   `wp_pack_rows_blocked` writes rows first..<first+count of every block from W as stored: [k, n] input-major
   (`input_major` 1, transposed) or [n, k] output-major; threads may pack disjoint row ranges at once.
   `wp_gemv_rows_blocked_into` is the product y[n] (+)= W·x[k] on the pool (kind 2's rows, block by block). */
long wp_rows_block(long k);
void wp_pack_rows_blocked(const float *w, int input_major, long n, long k, long block, long first, long count, float *out);
void wp_gemv_rows_blocked_into(const float *w, const float *x, float *y, long n, long k, long block, int threads, int accumulate);

/* Softmax of one row in place (softmax.c): row[j] = scale·e^(row[j] − max)/Σ e^(row[i] − max) over n floats, with the
   row's max and the sum of exponentials written out; `wp_softmax_max_sum` only computes those two. Both return 1 when
   done with AVX-512F, 0 (nothing written) when the CPU lacks it or a narrower kernel is forced (`wp_quant_kernel() < 2`):
   the caller computes. */
int wp_softmax_row(float *row, long n, float scale, float *max, float *sum);
int wp_softmax_max_sum(const float *row, long n, float *max, float *sum);

/* y = GELU(x) (GPT-2's tanh approximation) over n floats; y may be x. Returns 1 when done with AVX-512F, 0 (nothing
   written) when the CPU lacks it or a narrower kernel is forced (`wp_quant_kernel() < 2`): the caller computes. */
int wp_gelu_forward(const float *x, float *y, long n);
/* dx = dy · GELU′(x) over n floats, likewise (dx may be dy). */
int wp_gelu_backward(const float *x, const float *dy, float *dx, long n);

/* Llama's SwiGLU (swiglu.c) over `rows` rows of gate | up (2h floats each): out[r, i] = silu(g)·u; backward
   dgate_up = (dy·u·σ(g)·(1 + g·(1 − σ(g))) | dy·g·σ(g)), overwritten. Return 1 when done with AVX-512F, 0 (nothing
   written) when the CPU lacks it or a narrower kernel is forced (`wp_quant_kernel() < 2`): the caller computes. */
int wp_swiglu_forward(const float *gate_up, float *out, long rows, long h);
int wp_swiglu_backward(const float *gate_up, const float *dout, float *dgate_up, long rows, long h);

/* bf16 matrix products for prefill (gemm_bf16.c), AVX-512 BF16 only: `wp_bf16_round` returns 0 and does nothing unless
   `wp_quant_kernel() == 3`, `wp_bf16_gemm` unless the CPU has AVX-512 BF16 and k is even (the caller then multiplies
   in fp32).
   `wp_bf16_pack_panels`: W [n, k] bf16 row-major (k even) into ceil(n/16) panels of 16 rows × k/2 pairs (32-bit words,
   rows past n zero): ceil(n/16)·16·k/2 words. `wp_bf16_round`: y = bf16(x), round to nearest even.
   `wp_bf16_gemm`: C[m, n] = A[m, k] · Wᵀ (+ bias[n]) (+ residual[m, n], may be C) for output groups `first_group ..<
   first_group + groups` of 64 columns (`wp_bf16_gemm_groups(n)` in all), A bf16 row-major, C and residual rows `ldc`
   floats apart; fp32 accumulation. */
void wp_bf16_pack_panels(const uint16_t *w, long n, long k, uint32_t *out);
int wp_bf16_round(const float *x, uint16_t *y, long count);
long wp_bf16_gemm_groups(long n);
int wp_bf16_gemm(const uint16_t *a, long m, long k, const uint32_t *panels, long n, long first_group, long groups, float *c, long ldc,
                 const float *bias, const float *residual);

/* int8 (Q8_0) matrix products for prefill (gemm_q8.c), on CPUs whose widest kernel is 3 (AVX-512 VNNI and BF16):
   `wp_q8_quantize_rows` and `wp_q8_gemm` return 0 and do nothing otherwise, or when k is not a multiple of 32 (the
   caller, having checked `wp_quant_kernel() == 3` first, then multiplies the dequantised weights in fp32).
   `wp_q8_pack_panels`: W [n, k] int8 row-major with `scales` [n, k/32] into panels of 16 outputs, `wp_q8_gemm_groups(n)`
   · 48 outputs in all (past n zero): `quads` that many · k bytes, `pscales` and `offsets` (128·Σ of each group's
   weights) that many · k/32 each.
   `wp_q8_quantize_rows`: x [m, k] to `xu` [m, k] (int8 per group of 32, offset by 128) and `xscale` [m, k/32].
   `wp_q8_gemm`: C[m, n] = dequantised A · Wᵀ (+ bias[n]) (+ residual[m, n], may be C) for output groups
   `first_group ..< first_group + groups` of 48; C and residual rows `ldc` floats apart. */
long wp_q8_gemm_groups(long n);
void wp_q8_pack_panels(const int8_t *w, const float *scales, long n, long k, int8_t *quads, float *pscales, int32_t *offsets);
int wp_q8_quantize_rows(const float *x, long m, long k, uint8_t *xu, float *xscale);
int wp_q8_gemm(const uint8_t *xu, const float *xscale, long m, long k, const int8_t *quads, const float *pscales, const int32_t *offsets,
               long n, long first_group, long groups, float *c, long ldc, const float *bias, const float *residual);

/* fp32 matrix products of many rows (gemm_f32.c): on weights packed once (prefill) or packed as they go (training),
   AVX-512F only: `wp_f32_gemm` returns 0 and does
   nothing when the CPU lacks it (the caller runs sgemm).
   `wp_f32_pack_panels`: W [n, k] output-major (`input_major` 0) or [k, n] input-major (1) into `wp_f32_gemm_groups(n)`
   groups of 48 outputs × k (48 floats per k, outputs past n zero), `wp_f32_panel_floats(n, k)` floats in all, `out`
   64-byte aligned; groups `first_group ..< first_group + groups` only, so callers may spread the packing over cores.
   Without AVX-512F it writes nothing (`wp_f32_gemm` would not run either).
   `wp_f32_gemm`: C[m, n] = A[m, k] · Wᵀ (+ bias[n]) (+ residual[m, n]) for output groups `first_group ..< first_group +
   groups`, A row-major, C and residual rows `ldc` floats apart; `bias` and `residual` may be NULL, `residual` may be C. */
long wp_f32_gemm_groups(long n);
long wp_f32_panel_floats(long n, long k);
void wp_f32_pack_panels(const float *w, long n, long k, int input_major, long first_group, long groups, float *out);
int wp_f32_gemm(const float *a, long m, long k, const float *panels, long n, long first_group, long groups, float *c, long ldc,
                const float *bias, const float *residual);
/* `wp_f32_gemm` on weights that change between calls (training): each group of 48 outputs is packed into this thread's
   scratch (k × 48 floats, kept for the thread's next call) just before its row tiles, so the packed group is still in
   the core's cache when they read it. A's rows are `lda` floats apart (k, or more for a slice of a wider matrix's
   inputs). W [n, k] output-major (`input_major` 0) or [k, n] input-major (1). Without `cursor` the call computes groups
   `first_group ..< first_group + groups`; with one, shared by every thread running the same product and starting at
   `first_group`, each thread takes the next group no thread has taken until that range is done. Returns 0, having
   written nothing, without AVX-512F; aborts if the scratch (under 1 MiB for k ≤ 4096) cannot be allocated. */
int wp_f32_gemm_unpacked(const float *a, long lda, long m, long k, const float *w, int input_major, long n, long first_group, long groups,
                         long *cursor, float *c, long ldc, const float *bias, const float *residual);
/* Weight gradients, C[m, n] (+)= Aᵀ·W with A stored transposed, `at` [k, m] whose rows are `lda` floats apart (the
   activations or output gradients, k their rows), and W [k, n] input-major (the other side), packed a group at a time
   as `wp_f32_gemm_unpacked` does, with `cursor` as there. `accumulate` 1 adds to C. Where `group_squares` is given (one
   slot for each of the `wp_f32_gemm_groups(n)` groups, indexed by group), `group_squares[g]` is set to the sum of
   squares of the values the call stored in group g's columns (48 outputs from 48·g), for each group it computed: a
   gradient's contribution to clipping's norm, taken as it is stored. Overwritten rows that start on 64-byte lines are
   stored non-temporally, fenced before the call returns. Returns 0, having written nothing, without AVX-512F. */
int wp_f32_gemm_transposed_unpacked(const float *at, long lda, long m, long k, const float *w, long n, long first_group, long groups,
                                    long *cursor, float *c, long ldc, int accumulate, double *group_squares);

#endif
