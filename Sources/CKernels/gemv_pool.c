#include "wp_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <immintrin.h>

/* Decode calls a product about fifty times a token, each a few tens of microseconds on two cores: waking a sleeping
   thread each time (a futex, several microseconds, more on a VM) costs a large share. These workers spin on the
   claim word (below) for a while after each product, as OpenBLAS's threads do, and sleep on a condition variable
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
    long block; /* kind 2: inputs per block of a blocked matrix (`wp_gemv_rows_blocked_into`); 0 for one block of k */
} job_t;

/* The current job and the claim on its units, one 64-bit word: the job's generation in the high 32 bits, the next
   unclaimed unit in the low 32 (all ones once the job is done: closed). A unit is a part (kinds 0–3) or one of
   `function`'s parts (kind 4), and any thread may run any unit: a worker the scheduler has not run yet (another
   process holds its core) leaves its unit to the caller, which used to wait for it until the scheduler's tick (a GPT-2
   124M decode step beside a second decode took 157–175 ms instead of 15). A worker that sees a new generation copies
   `job`, then claims with a compare-and-swap: the caller closes the word before it writes the next job, so a claim
   that succeeds proves the copy it made was whole (a seqlock's check; without the closing, a copy mixing two jobs
   once claimed a unit twice under contention). */
static job_t job;
static _Alignas(64) atomic_ulong claim;
/* Units finished in this generation, each thread adding its count when none is left to claim: the caller returns
   when it reaches the job's unit count. On its own cache line, away from the claims. */
static _Alignas(64) atomic_long done;
static _Alignas(64) int workers_started;
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t caller = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static atomic_int sleepers;
/* The caller sleeps here when its wait for another thread's unit outlasts `spin_limit` (that thread lost its core). */
static pthread_mutex_t finish_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;
static atomic_int caller_sleeping;
/* Kind 3's partial sums, grown under `caller` and kept between products. */
static float *partials;
static long partials_capacity;
/* Pauses, about 0.5–2 ms, before a waiting thread sleeps: longer than the gaps in a decode step, short enough not to
   hold a core through the sgemm that follows a prefill's last-row logits (at 2–8 ms the spinning took 1.5 % of a
   prefill's samples, perf). The caller waits as long for another thread's unit: with 4,096 pauses it slept on
   prefill's uneven halves and prefill measured 2–3 % slower in two of three interleaved sets. */
static const long spin_limit = 50000;

/* Backing off when another process holds a core. With more runnable threads than cores, the scheduler shares them by
   time slices (about 4 ms here) against steps of 0.1–30 ms: a worker that loses its core while it runs a unit leaves
   the caller waiting for it, and a spinning worker takes turns with the caller itself. Beside one shell busy loop on two
   cores, 9 % of a 0.86 M-parameter GPT-2's decode steps took 3–8 ms and two threads decoded 2.5× slower than one
   (which has a core to itself beside the loop); GPT-2 124M's steps took 31 ms against 22 on one thread. So a job asking
   for two threads runs on the caller alone (nothing published: the worker sleeps once its spin ends), for
   `backoff_first`, doubling up to `backoff_last` while it recurs within a period of coming back, when either
   - the caller waits for another thread's unit past the spin limit and longer than twice the time it worked itself plus
     `stall_margin` (that thread lost its core: a stall), or
   - over a window of at least `window_ns`, the caller waited for a core more than `delay_share` of the time (its run
     delay in /proc/thread-self/schedstat, Linux's scheduler statistics).
   Jobs keep their split into parts, so the results do not change bit for bit. Jobs on more threads never back off: a
   worker left out would keep spinning for the next job, so one thread fewer would free no core (not measured: this
   project's machine has two). WATTPRINT_POOL_BACKOFF=off turns it off. State under `caller`; `wp_pool_backoff_counts`
   reads the counters. */
static const long long stall_margin = 1000000, backoff_first = 25000000, backoff_last = 1000000000, window_ns = 10000000;
static const double delay_share = 0.15;
static int backoff_enabled = -1;
static long long backoff_until, backoff_period = 0, backoff_resumed;
static atomic_long backoffs_begun, jobs_backed_off, jobs_run;
/* The caller's scheduler statistics: its file, the thread it describes, and the window's start. */
static int schedstat_fd = -1;
static long schedstat_thread;
static long long window_start, window_delay;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

void wp_pool_backoff_counts(long *jobs, long *backed_off, long *backoffs) {
    *jobs = atomic_load(&jobs_run);
    *backed_off = atomic_load(&jobs_backed_off);
    *backoffs = atomic_load(&backoffs_begun);
}

/* Backs off from two-thread jobs, at `now`. */
static void backoff_begin(long long now) {
    atomic_fetch_add(&backoffs_begun, 1);
    /* Back again and held up within a period: the other process is still there, so stay away longer. */
    int recurring = backoff_period > 0 && now - backoff_resumed < backoff_period;
    backoff_period = recurring ? (backoff_period * 2 < backoff_last ? backoff_period * 2 : backoff_last) : backoff_first;
    backoff_until = now + backoff_period;
}

/* The calling thread's run delay (ns waiting for a core), or -1 where the statistics cannot be read. */
static long long caller_run_delay(void) {
    long thread = syscall(SYS_gettid);
    if (thread != schedstat_thread) {
        if (schedstat_fd >= 0) close(schedstat_fd);
        schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
        schedstat_thread = thread;
        window_start = 0;
    }
    if (schedstat_fd < 0) return -1;
    char text[96];
    ssize_t n = pread(schedstat_fd, text, sizeof text - 1, 0);
    if (n <= 0) {
        /* Opened again at the next window. */
        close(schedstat_fd);
        schedstat_fd = -1;
        schedstat_thread = 0;
        return -1;
    }
    text[n] = 0;
    unsigned long long running, waiting;
    return sscanf(text, "%llu %llu", &running, &waiting) == 2 ? (long long)waiting : -1;
}

void wp_pool_set_backoff(int enabled) {
    pthread_mutex_lock(&caller);
    backoff_enabled = enabled != 0;
    backoff_until = 0;
    backoff_period = 0;
    window_start = 0;
    pthread_mutex_unlock(&caller);
}

/* Whether a job asking for `threads` runs on the caller alone, at `now`. */
static int backing_off(int threads, long long now) {
    if (backoff_enabled < 0) {
        const char *setting = getenv("WATTPRINT_POOL_BACKOFF");
        backoff_enabled = !(setting && strcmp(setting, "off") == 0);
    }
    /* On more threads a worker left out of a job keeps spinning for the next one, so one thread fewer frees no core:
       only two threads back off (to the caller alone, when nothing is published and the worker sleeps). */
    if (!backoff_enabled || threads != 2) return 0;
    if (backoff_until != 0) {
        if (now < backoff_until) return 1;
        backoff_until = 0;
        backoff_resumed = now;
        window_start = 0;
    }
    if (window_start == 0 || now - window_start >= window_ns) {
        long long delay = caller_run_delay();
        int held_up = window_start != 0 && delay >= 0 && delay - window_delay > delay_share * (double)(now - window_start);
        window_start = delay >= 0 ? now : 0;
        window_delay = delay;
        if (held_up) {
            backoff_begin(now);
            return 1;
        }
    }
    return 0;
}

static unsigned long generation_of(unsigned long word) { return word >> 32; }
static long units_of(const job_t *j) { return j->kind == 4 ? j->n : j->parts; }

/* Unit `part` of `j`: kind 4's function part, or the part-th slice of a product over `j->parts`. */
static void run_part(const job_t *j, long part) {
    if (j->kind == 4) {
        j->function(j->context, part);
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
        /* Each block [n, block] in turn, this part's rows of it: a contiguous stretch of each block. */
        long block = j->block > 0 ? j->block : j->k, b0 = 0;
        /* At least once, so a product over no inputs still writes its zeros. */
        do {
            long width = j->k - b0 < block ? j->k - b0 : block;
            wp_gemv_f32_rows((const float *)j->w + b0 * j->n + first * width, width, j->x + b0, j->y + first, last - first, width,
                             j->accumulate || b0 > 0);
            b0 += block;
        } while (b0 < j->k);
    } else if (j->kind == 0) {
        wp_gemv_bf16((const uint16_t *)j->w + first * j->k, j->x, j->y + first, last - first, j->k);
    } else {
        long groups = j->k / 32;
        wp_gemv_q8((const int8_t *)j->w + first * j->k, j->scales + first * groups, j->x, j->y + first, last - first, j->k);
    }
}

/* Claims and runs units of the job of generation `g` (whose copy is `*local`, read after seeing `g`) until none is
   left, then counts them done and signals the caller if it sleeps and they were the last. */
static void work(job_t *local, unsigned long g) {
    long units = units_of(local), finished_here = 0;
    unsigned long word = atomic_load_explicit(&claim, memory_order_acquire);
    /* A closed word's index (all ones) is never claimed, whatever count a torn copy holds. */
    while (generation_of(word) == g && (word & 0xffffffffUL) != 0xffffffffUL && (long)(word & 0xffffffffUL) < units) {
        if (!atomic_compare_exchange_weak_explicit(&claim, &word, word + 1, memory_order_acquire, memory_order_acquire)) continue;
        run_part(local, (long)(word & 0xffffffffUL));
        finished_here++;
        word++;
    }
    if (finished_here == 0) return;
    if (atomic_fetch_add(&done, finished_here) + finished_here == units && atomic_load(&caller_sleeping)) {
        pthread_mutex_lock(&finish_lock);
        pthread_cond_signal(&finished);
        pthread_mutex_unlock(&finish_lock);
    }
}

typedef struct {
    int index;
    unsigned long seen;
} start_t;

static void *worker(void *arg) {
    start_t start = *(start_t *)arg;
    free(arg);
    int index = start.index;
    /* The generation when it was created: the caller holds `caller` and has not yet published the job it was created
       for, so the next generation is that job (starting from 0 would take an older generation for new work). */
    unsigned long seen = start.seen, g;
    for (;;) {
        long spins = 0;
        while ((g = generation_of(atomic_load_explicit(&claim, memory_order_acquire))) == seen) {
            if (++spins < spin_limit) {
                _mm_pause();
                continue;
            }
            pthread_mutex_lock(&sleep_lock);
            atomic_fetch_add(&sleepers, 1);
            /* Sequentially consistent, like the count above and the caller's publish and its look at `sleepers`: either
               this sees the new job or the caller sees this thread asleep and wakes it. */
            while (generation_of(atomic_load(&claim)) == seen) pthread_cond_wait(&wake, &sleep_lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleep_lock);
            spins = 0;
        }
        seen = g;
        /* A late worker may copy a job the caller is replacing; the claim word is closed by then, so its claim fails
           and the copy goes unused. The fence keeps the copy before `work`'s load of the word. */
        job_t local = job;
        atomic_thread_fence(memory_order_acquire);
        if (index < local.parts) work(&local, g);
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

void wp_gemv_rows_blocked_into(const float *w, const float *x, float *y, long n, long k, long block, int threads, int accumulate) {
    run_job((job_t){2, w, 0, x, y, n, k, 1, accumulate, 0, 0, 0, 0, block}, threads);
}

void wp_pool_run(long parts, wp_pool_function function, void *context, int threads) {
    if (parts <= 0) return;
    /* Unit indices are 32 bits, the top one marking a closed job. */
    if (parts >= 0xffffffffL) threads = 1;
    run_job((job_t){4, 0, 0, 0, 0, parts, 0, 1, 0, 0, 0, function, context}, threads < parts ? threads : (int)parts);
}

/* Adds kind 3's partial sums into y and lets the next caller in. */
static void finish(const job_t *j) {
    if (j->kind == 3)
        for (int p = 1; p < j->parts; p++)
            for (long c = 0; c < j->n; c++) j->y[c] += j->partials[(p - 1) * j->stride + c];
    pthread_mutex_unlock(&caller);
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
    unsigned long previous = generation_of(atomic_load_explicit(&claim, memory_order_relaxed)), g = (previous + 1) & 0xffffffffUL;
    /* Workers are started once, `threads - 1` of them, and kept; if one cannot be started, fewer parts are used. */
    while (workers_started < threads - 1) {
        pthread_t t;
        start_t *start = malloc(sizeof *start);
        if (!start) break;
        *start = (start_t){workers_started + 1, previous};
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
    long long start = now_ns();
    int alone = backing_off(j.parts, start);
    long units = units_of(&j);
    atomic_fetch_add_explicit(&jobs_run, 1, memory_order_relaxed);
    if (alone) {
        atomic_fetch_add_explicit(&jobs_backed_off, 1, memory_order_relaxed);
        /* The caller alone: nothing is published, so the workers sleep once their spin ends. */
        for (long u = 0; u < units; u++) run_part(&j, u);
        finish(&j);
        return;
    }
    job = j;
    atomic_store_explicit(&done, 0, memory_order_relaxed);
    /* Sequentially consistent, as is the load of `sleepers` after it: a worker going to sleep counts itself, then
       looks at the word, so either it sees this job or this thread sees it asleep and wakes it. */
    atomic_store(&claim, g << 32);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    work(&j, g);
    long long worked = now_ns();
    long spins = 0;
    while (atomic_load_explicit(&done, memory_order_acquire) < units) {
        if (++spins < spin_limit) {
            _mm_pause();
            continue;
        }
        pthread_mutex_lock(&finish_lock);
        atomic_store(&caller_sleeping, 1);
        while (atomic_load(&done) < units) pthread_cond_wait(&finished, &finish_lock);
        atomic_store(&caller_sleeping, 0);
        pthread_mutex_unlock(&finish_lock);
        long long woken = now_ns();
        if (backoff_enabled && j.parts == 2 && woken - worked > 2 * (worked - start) + stall_margin) backoff_begin(woken);
    }
    /* Closed: no unit index is below a job's count, so a worker that copied this job and has yet to claim cannot
       claim once the next job is being written (with a copy mixing the two jobs, a larger count would have let it). */
    atomic_store_explicit(&claim, (g << 32) | 0xffffffffUL, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    finish(&j);
}
