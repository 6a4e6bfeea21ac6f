/* The matrix–vector products of one GPT-2 124M decode step, batch 1, on the engine's pool (Sources/CKernels/gemv_pool.c,
   gemv_f32.c): the 48 block matrices in GPT-2's input-major layout (Conv1D, W [k, n]) as the engine runs them (kind 3),
   the same bytes read as output-major matrices (kind 2, W [n, k]: what a plain transposed copy would stream), the copy
   decoding reads (`DecodeRows`: transposed, and the MLP projection's rows of 3,072 cut into blocks of 768:
   `wp_pack_rows_blocked`, `wp_gemv_rows_blocked_into`), and the tied LM head (kind 2, 50257 × 768). Each round is held to the better of two passes of a streaming read over 256 MiB, one
   before and one after it, since a shared VM's memory bandwidth moves between about 34 and 55–65 GB/s over seconds.
   The read is the one `model bench` measures (256-bit loads: on this project's Zen 5 VM a pass of 512-bit loads read
   12–13 % less while the VM had 55–65 GB/s to give), and the matrices lie on huge pages as the engine's weights do
   (`FloatStorage`): on 4 KiB pages the layouts ranked differently.

   What it leaves out: attention over the cache, norms, GELU, biases and residuals, and the Swift around them; the
   weights hold arbitrary values.

   Usage: scripts/kernel-harness/run-decode [rounds] */
#include "wp_kernels.h"
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

enum { layers = 12, width = 768, vocabulary = 50257, threads = 2 };
static const long probe_floats = (256L << 20) / 4;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* 2 MiB aligned and advised as huge pages, as `FloatStorage` allocates the engine's weights. */
static float *matrix(long floats) {
    long bytes = (floats * 4 + (2L << 20) - 1) / (2L << 20) * (2L << 20);
    float *m = aligned_alloc(2L << 20, bytes);
    if (!m) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    madvise(m, bytes, MADV_HUGEPAGE);
    for (long i = 0; i < floats; i++) m[i] = 0.001f * (float)(i % 7);
    return m;
}

static float *probe;

__attribute__((target("avx2")))
static void read_part(void *sums, long part) {
    long first = probe_floats * part / threads, last = probe_floats * (part + 1) / threads;
    __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
    for (long i = first; i + 32 <= last; i += 32) {
        a = _mm256_add_ps(a, _mm256_load_ps(probe + i));
        b = _mm256_add_ps(b, _mm256_load_ps(probe + i + 8));
        c = _mm256_add_ps(c, _mm256_load_ps(probe + i + 16));
        d = _mm256_add_ps(d, _mm256_load_ps(probe + i + 24));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d));
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    ((float *)sums)[part] = lanes[0] + lanes[7];
}

/* One pass of the streaming read: GB/s. */
static double read_bandwidth(void) {
    float sums[threads];
    double start = now();
    wp_pool_run(threads, read_part, sums, threads);
    return probe_floats * 4.0 / (now() - start) / 1e9;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    if (wp_quant_best_kernel() < 2) {
        fprintf(stderr, "this harness needs AVX-512F\n");
        return 1;
    }
    /* Per layer: c_attn [768, 2304], attention's c_proj [768, 768], c_fc [768, 3072], the MLP's c_proj [3072, 768]. */
    const long k[4] = {width, width, width, 4 * width}, n[4] = {3 * width, width, 4 * width, width};
    float *weights[layers][4];
    double block_bytes = 0;
    for (int l = 0; l < layers; l++)
        for (int m = 0; m < 4; m++) {
            weights[l][m] = matrix(k[m] * n[m]);
            block_bytes += k[m] * n[m] * 4.0;
        }
    /* The copies decoding reads, laid out in rows (and blocks) from the input-major matrices. */
    float *rows[layers][4];
    for (int l = 0; l < layers; l++)
        for (int m = 0; m < 4; m++) {
            rows[l][m] = matrix(k[m] * n[m]);
            wp_pack_rows_blocked(weights[l][m], 1, n[m], k[m], wp_rows_block(k[m]), 0, n[m], rows[l][m]);
        }
    float *head = matrix((long)vocabulary * width);
    probe = matrix(probe_floats);
    static float x[4 * width], y[vocabulary];
    for (int i = 0; i < 4 * width; i++) x[i] = 1;

    printf("round  probe GB/s  input-major (stored)  as output-major  decode copy      LM head   (GB/s, %% of the better probe "
           "around the round)\n");
    double sum[4] = {0};
    for (int r = 0; r < rounds; r++) {
        double before = read_bandwidth(), rate[4];
        for (int kind = 0; kind < 3; kind++) {
            double start = now();
            for (int l = 0; l < layers; l++)
                for (int m = 0; m < 4; m++)
                    if (kind == 0) wp_gemv_parallel_into(3, weights[l][m], 0, x, y, n[m], k[m], threads, 0);
                    else if (kind == 1) wp_gemv_parallel_into(2, weights[l][m], 0, x, y, n[m], k[m], threads, 0);
                    else wp_gemv_rows_blocked_into(rows[l][m], x, y, n[m], k[m], wp_rows_block(k[m]), threads, 0);
            rate[kind] = block_bytes / (now() - start) / 1e9;
        }
        double start = now();
        wp_gemv_parallel_into(2, head, 0, x, y, vocabulary, width, threads, 0);
        rate[3] = (double)vocabulary * width * 4 / (now() - start) / 1e9;
        double after = read_bandwidth(), bound = before > after ? before : after;
        printf("%5d  %10.1f  %8.1f (%5.1f %%)  %6.1f (%5.1f %%)  %6.1f (%5.1f %%)  %5.1f (%5.1f %%)\n", r + 1, bound, rate[0],
               100 * rate[0] / bound, rate[1], 100 * rate[1] / bound, rate[2], 100 * rate[2] / bound, rate[3], 100 * rate[3] / bound);
        for (int i = 0; i < 4; i++) sum[i] += rate[i] / bound;
    }
    printf("mean share of the probe: input-major %.1f %%, as output-major %.1f %%, decode copy %.1f %%, LM head %.1f %%\n",
           100 * sum[0] / rounds, 100 * sum[1] / rounds, 100 * sum[2] / rounds, 100 * sum[3] / rounds);
    return 0;
}
