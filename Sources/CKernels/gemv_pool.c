#include "wp_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <immintrin.h>

/* Decode calls a product about fifty times a token, each a few tens of microseconds on two cores: waking a sleeping
   thread each time (a futex, several microseconds, more on a VM) costs a large share. These workers spin on a
   generation counter for a while after each product, as OpenBLAS's threads do, and sleep on a condition variable
   only after `spin_limit` pauses without work. The same workers run any caller's function (`wp_pool_run`): training's
   and prefill's matrix kernel and element-wise passes, hundreds of short parallel steps a training step, where
   GCD's wake-ups left the two cores 1.91–1.94 busy of 2 (`perf stat`) and cost a GPT-2 124M step 11–20 ms. */

#define MAX_WORKERS 15

typedef struct {
    int kind; /* 0 bf16, 1 q8, 2 fp32 output-major rows, 3 fp32 input-major (columns), 4 a caller's function */
    const void *w;
    const float *scales;
    const float *x;
    float *y;
    long n, k; /* kind 4: n is the number of parts `function` runs */
    int parts;
    int accumulate; /* fp32 only: y += W·x instead of y = W·x */
    float *partials; /* kind 3: parts 1… write their sums here, `stride` floats apart, for the caller to add to y */
    long stride;
    wp_pool_function function;
    void *context;
} job_t;

/* Kind 4's next part to claim: each thread takes parts until none is left, so a slow thread takes fewer. */
static atomic_long next_part;

static job_t job;
static atomic_long generation;
static atomic_int remaining;
static int workers_started;
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t caller = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static atomic_int sleepers;
/* Kind 3's partial sums, grown under `caller` and kept between products. */
static float *partials;
static long partials_capacity;
/* Pauses, about 0.5–2 ms: longer than the gaps in a decode step, short enough not to hold a core through the sgemm
   that follows a prefill's last-row logits (at 2–8 ms the spinning took 1.5 % of a prefill's samples, perf). */
static const long spin_limit = 50000;

static void run_part(const job_t *j, int part) {
    if (j->kind == 4) {
        for (long p = atomic_fetch_add(&next_part, 1); p < j->n; p = atomic_fetch_add(&next_part, 1)) j->function(j->context, p);
        return;
    }
    if (j->kind == 3) {
        /* Input-major W [k, n]: each thread takes whole rows, a contiguous slice of the matrix, and sums them into its
           own n outputs. Split by columns instead, each thread read a part of every row, and GPT-2's products streamed
           at 24–27 GB/s against 40–43 split by rows while the streaming-read probe read 52–56 (two threads, this
           development VM); the extra adds are n floats a thread. */
        long first = j->k * part / j->parts, last = j->k * (part + 1) / j->parts;
        float *y = part == 0 ? j->y : j->partials + (part - 1) * j->stride;
        wp_gemv_f32_columns((const float *)j->w + first * j->n, j->n, j->x + first, y, j->n, last - first, part == 0 && j->accumulate);
        return;
    }
    long first = j->n * part / j->parts, last = j->n * (part + 1) / j->parts;
    if (last <= first) return;
    if (j->kind == 2) {
        wp_gemv_f32_rows((const float *)j->w + first * j->k, j->k, j->x, j->y + first, last - first, j->k, j->accumulate);
    } else if (j->kind == 0) {
        wp_gemv_bf16((const uint16_t *)j->w + first * j->k, j->x, j->y + first, last - first, j->k);
    } else {
        long groups = j->k / 32;
        wp_gemv_q8((const int8_t *)j->w + first * j->k, j->scales + first * groups, j->x, j->y + first, last - first, j->k);
    }
}

typedef struct {
    int index;
    long seen;
} start_t;

static void *worker(void *arg) {
    start_t start = *(start_t *)arg;
    free(arg);
    int index = start.index;
    /* The generation when it was created: the caller holds `caller` and has not yet published the job it was created
       for, so the next generation is that job (starting from 0 would take an older generation for new work). */
    long seen = start.seen;
    for (;;) {
        long spins = 0, g;
        while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            if (++spins < spin_limit) {
                _mm_pause();
                continue;
            }
            pthread_mutex_lock(&sleep_lock);
            atomic_fetch_add(&sleepers, 1);
            while (atomic_load_explicit(&generation, memory_order_acquire) == seen) pthread_cond_wait(&wake, &sleep_lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleep_lock);
            spins = 0;
        }
        seen = g;
        job_t local = job;
        if (index < local.parts) run_part(&local, index);
        atomic_fetch_sub_explicit(&remaining, 1, memory_order_release);
    }
    return 0;
}

static void run_job(job_t j, int threads);

void wp_gemv_parallel(int kind, const void *w, const float *scales, const float *x, float *y, long n, long k, int threads) {
    wp_gemv_parallel_into(kind, w, scales, x, y, n, k, threads, 0);
}

void wp_gemv_parallel_into(int kind, const void *w, const float *scales, const float *x, float *y, long n, long k, int threads,
                           int accumulate) {
    run_job((job_t){kind, w, scales, x, y, n, k, 1, accumulate, 0, 0, 0, 0}, threads);
}

void wp_pool_run(long parts, wp_pool_function function, void *context, int threads) {
    if (parts <= 0) return;
    run_job((job_t){4, 0, 0, 0, 0, parts, 0, 1, 0, 0, 0, function, context}, threads < parts ? threads : (int)parts);
}

/* `j` over `threads` threads (its `parts` is set here): the caller and the workers. */
static void run_job(job_t j, int threads) {
    if (threads > MAX_WORKERS + 1) threads = MAX_WORKERS + 1;
    /* One caller at a time (decode is one thread); a second, concurrent caller, or a part that itself asks for the
       pool, computes its job alone. */
    if (threads <= 1 || pthread_mutex_trylock(&caller) != 0) {
        j.parts = 1;
        if (j.kind == 4) {
            for (long p = 0; p < j.n; p++) j.function(j.context, p);
        } else {
            run_part(&j, 0);
        }
        return;
    }
    /* Workers are started once, `threads - 1` of them, and kept; if one cannot be started, fewer parts are used. */
    while (workers_started < threads - 1) {
        pthread_t t;
        start_t *start = malloc(sizeof *start);
        if (!start) break;
        *start = (start_t){workers_started + 1, atomic_load(&generation)};
        if (pthread_create(&t, 0, worker, start) != 0) {
            free(start);
            break;
        }
        pthread_detach(t);
        workers_started++;
    }
    j.parts = workers_started + 1 < threads ? workers_started + 1 : threads;
    if (j.kind == 3 && j.parts > 1) {
        /* Each part's sums start on a cache line (64-byte aligned, a stride of whole lines), so no part's vectors split
           a line or share one with another part's. */
        long stride = (j.n + 15) / 16 * 16, needed = (j.parts - 1) * stride;
        if (needed > partials_capacity) {
            free(partials);
            partials = aligned_alloc(64, needed * sizeof *partials);
            partials_capacity = partials ? needed : 0;
        }
        if (!partials) {
            /* No memory for the partial sums: the whole product on this thread, still correct. */
            pthread_mutex_unlock(&caller);
            j.parts = 1;
            run_part(&j, 0);
            return;
        }
        j.stride = stride;
        j.partials = partials;
    }
    job = j;
    atomic_store_explicit(&next_part, 0, memory_order_relaxed);
    atomic_store_explicit(&remaining, workers_started, memory_order_relaxed);
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    run_part(&job, 0);
    while (atomic_load_explicit(&remaining, memory_order_acquire) > 0) _mm_pause();
    if (j.kind == 3)
        for (int p = 1; p < j.parts; p++)
            for (long c = 0; c < j.n; c++) j.y[c] += j.partials[(p - 1) * j.stride + c];
    pthread_mutex_unlock(&caller);
}
