/* The matrix products of one GPT-2 124M training step at batch 4 × 64 (256 rows), run on the engine's fp32 kernels
   (Sources/CKernels/gemm_f32.c) by two threads taking each product's groups from a shared cursor, with the shapes,
   slices and row blocks `PanelKernel` gives them: the forward products, the input gradients and the overwritten weight
   gradients, in the order a step meets them, each weight matrix distinct. Unlike the engine, both threads wait at the
   end of every product, slice and row block (the engine runs a layer's input and weight gradients, and the LM head's
   weight-gradient blocks, as one job each), and no bias, residual or sum of squares is taken. Prints each shape's time and GFLOP/s and the step's best and mean over the steps run.

   What it leaves out: everything but the products (attention's small products, norms, GELU, the softmax, the
   optimizer), the Swift pool (a spin barrier stands in for it) and the engine's CPU check (it exits without AVX-512F).
   With `--optimizer` the main thread runs an untimed pass after each step standing in for AdamW's memory traffic
   (reads four and writes three floats for each of the model's 124 M parameters; no square root or division), so the
   products meet caches and memory as a step leaves them.

   Usage: scripts/kernel-harness/run [steps] [--optimizer] */
#include "wp_kernels.h"
#include <immintrin.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The kernels check this before running; the harness checks the CPU itself in main. */
int wp_quant_best_kernel(void) { return 3; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* One product for both threads: rows (C = A·W, W input- or output-major) or a weight gradient (C = Aᵀ·W). */
struct product {
    int weight_gradient;
    const float *a;
    long lda, m, k;
    const float *w;
    int input_major;
    long n;
    float *c;
    const float *residual;
    long cursor;
};

static struct product *current;
static atomic_long generation;
static atomic_int finished;

static void compute(struct product *p) {
    long groups = wp_f32_gemm_groups(p->n);
    if (p->weight_gradient)
        wp_f32_gemm_transposed_unpacked(p->a, p->lda, p->m, p->k, p->w, p->n, 0, groups, &p->cursor, p->c, p->n, 0, 0);
    else
        wp_f32_gemm_unpacked(p->a, p->lda, p->m, p->k, p->w, p->input_major, p->n, 0, groups, &p->cursor, p->c, p->n, 0, p->residual);
}

static void *helper(void *unused) {
    (void)unused;
    long seen = 0;
    for (;;) {
        long g;
        while ((g = atomic_load(&generation)) == seen) _mm_pause();
        seen = g;
        compute(current);
        atomic_fetch_add(&finished, 1);
    }
    return 0;
}

/* Both threads on one product; returns when both are done. */
static void run(struct product p) {
    p.cursor = 0;
    current = &p;
    int before = atomic_load(&finished);
    atomic_fetch_add(&generation, 1);
    compute(&p);
    while (atomic_load(&finished) == before) _mm_pause();
}

struct shape_time {
    const char *kind;
    long k, n;
    double seconds, flops;
};
static struct shape_time shapes[32];
static int shape_count;

static void account(const char *kind, long k, long n, double seconds, double flops) {
    for (int i = 0; i < shape_count; i++)
        if (shapes[i].kind == kind && shapes[i].k == k && shapes[i].n == n) {
            shapes[i].seconds += seconds;
            shapes[i].flops += flops;
            return;
        }
    shapes[shape_count++] = (struct shape_time){kind, k, n, seconds, flops};
}

static double step_flops;

/* out[M, N] = inp[M, K]·W, W [K, N] input-major or [N, K] output-major; input-major inputs past 4096 in slices (as
   PanelKernel; it leaves wider output-major products to sgemm, and so does this harness: it has none). */
static void multiply(const char *kind, float *out, const float *inp, const float *w, int input_major, long M, long K, long N) {
    if (!input_major && K > 4096) { fprintf(stderr, "output-major products wider than 4096 inputs run sgemm in the engine\n"); exit(2); }
    double start = now();
    long slices = (K + 4095) / 4096;
    for (long s = 0; s < slices; s++) {
        long first = K * s / slices, width = K * (s + 1) / slices - first;
        run((struct product){0, inp + first, K, M, width, input_major ? w + first * N : w + first, input_major, N, out, s ? out : 0, 0});
    }
    account(kind, K, N, now() - start, 2.0 * M * N * K);
    step_flops += 2.0 * M * N * K;
}

/* out[R, N] = Aᵀ·W, A [M, R], W [M, N]; output rows in blocks of at most 4096 (as PanelKernel). */
static void weight_gradient(float *out, const float *a, const float *w, long M, long R, long N) {
    double start = now();
    long blocks = (R + 4095) / 4096;
    for (long b = 0; b < blocks; b++) {
        long first = R * b / blocks / 8 * 8, end = b + 1 == blocks ? R : R * (b + 1) / blocks / 8 * 8;
        run((struct product){1, a + first, R, end - first, M, w, 1, N, out + first * N, 0, 0});
    }
    account("dW", R, N, now() - start, 2.0 * M * N * R);
    step_flops += 2.0 * M * N * R;
}

static float *filled(long n, unsigned *seed) {
    float *p = aligned_alloc(64, ((4 * n + 63) / 64) * 64);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (long i = 0; i < n; i++) p[i] = (float)(rand_r(seed) % 2001 - 1000) / 10000.0f;
    return p;
}

int main(int argc, char **argv) {
    if (!__builtin_cpu_supports("avx512f")) { fprintf(stderr, "the engine's fp32 kernels need AVX-512F\n"); return 1; }
    int steps = 6, optimizer = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--optimizer")) optimizer = 1;
        else if (atoi(argv[i]) > 0) steps = atoi(argv[i]);
        else { fprintf(stderr, "usage: %s [steps] [--optimizer]\n", argv[0]); return 2; }
    }
    pthread_t thread;
    pthread_create(&thread, 0, helper, 0);
    const long M = 256, C = 768, H = 3072, V = 50304, L = 12;
    unsigned seed = 1;
    float *qkvw[12], *projw[12], *fcw[12], *fcprojw[12], *dqkvw[12], *dprojw[12], *dfcw[12], *dfcprojw[12];
    float *ln1[12], *atty[12], *ln2[12], *fchGelu[12], *qkv[12], *fch[12];
    for (int l = 0; l < L; l++) {
        qkvw[l] = filled(C * 3 * C, &seed), projw[l] = filled(C * C, &seed), fcw[l] = filled(C * H, &seed), fcprojw[l] = filled(H * C, &seed);
        dqkvw[l] = filled(C * 3 * C, &seed), dprojw[l] = filled(C * C, &seed), dfcw[l] = filled(C * H, &seed), dfcprojw[l] = filled(H * C, &seed);
        ln1[l] = filled(M * C, &seed), atty[l] = filled(M * C, &seed), ln2[l] = filled(M * C, &seed), fchGelu[l] = filled(M * H, &seed);
        qkv[l] = filled(M * 3 * C, &seed), fch[l] = filled(M * H, &seed);
    }
    float *wte = filled(V * C, &seed), *dwte = filled(V * C, &seed), *logits = filled(M * V, &seed), *lnf = filled(M * C, &seed);
    float *residual = filled(M * C, &seed), *dinp = filled(M * C, &seed), *dfch = filled(M * H, &seed), *dqkv = filled(M * 3 * C, &seed);
    float *dresidual = filled(M * C, &seed);
    long parameters = 124475904;
    float *state[4] = {0};
    if (optimizer)
        for (int i = 0; i < 4; i++) state[i] = filled(parameters, &seed);
    double best = 1e9, total = 0;
    for (int s = 0; s < steps; s++) {
        step_flops = 0;
        double start = now();
        for (int l = 0; l < L; l++) {
            multiply("forward", qkv[l], ln1[l], qkvw[l], 1, M, C, 3 * C);
            multiply("forward", residual, atty[l], projw[l], 1, M, C, C);
            multiply("forward", fch[l], ln2[l], fcw[l], 1, M, C, H);
            multiply("forward", residual, fchGelu[l], fcprojw[l], 1, M, H, C);
        }
        multiply("forward", logits, lnf, wte, 0, M, C, V);
        multiply("dinp", dinp, logits, wte, 1, M, V, C);
        weight_gradient(dwte, logits, lnf, M, V, C);
        for (int l = L - 1; l >= 0; l--) {
            multiply("dinp", dfch, dresidual, fcprojw[l], 0, M, C, H);
            weight_gradient(dfcprojw[l], fchGelu[l], dresidual, M, H, C);
            multiply("dinp", dinp, dfch, fcw[l], 0, M, H, C);
            weight_gradient(dfcw[l], ln2[l], dfch, M, C, H);
            multiply("dinp", dinp, dresidual, projw[l], 0, M, C, C);
            weight_gradient(dprojw[l], atty[l], dresidual, M, C, C);
            multiply("dinp", dinp, dqkv, qkvw[l], 0, M, 3 * C, C);
            weight_gradient(dqkvw[l], ln1[l], dqkv, M, C, 3 * C);
        }
        double elapsed = now() - start;
        if (elapsed < best) best = elapsed;
        total += elapsed;
        if (optimizer) /* the stand-in for AdamW's traffic: p, m, v updated from g, on this thread alone */
            for (long i = 0; i < parameters; i++) {
                float g = state[1][i];
                state[2][i] = 0.9f * state[2][i] + 0.1f * g;
                state[3][i] = 0.95f * state[3][i] + 0.05f * g * g;
                state[0][i] -= 1e-4f * state[2][i];
            }
    }
    for (int i = 0; i < shape_count; i++)
        printf("%-8s %s %5ld  N %5ld  %6.1f ms/step  %4.0f GFLOP/s\n", shapes[i].kind, strcmp(shapes[i].kind, "dW") ? "K" : "R",
               shapes[i].k, shapes[i].n, shapes[i].seconds * 1e3 / steps, shapes[i].flops / shapes[i].seconds / 1e9);
    printf("%.1f GFLOP a step; best %.1f ms (%.0f GFLOP/s), mean %.1f ms over %d steps\n", step_flops / 1e9, best * 1e3, step_flops / best / 1e9,
           total / steps * 1e3, steps);
    return 0;
}
