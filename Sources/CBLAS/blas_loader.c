/* OpenBLAS is opened on first use instead of being linked. Loading it starts its thread pool, and those threads
   spin (sched_yield) before they sleep: every wattprint command would pay that at start, and `wattprint run` would
   count it into the first instants of the program it measures. Only the engine multiplies matrices, so only it
   loads the library. */
#define _GNU_SOURCE
#include "shim.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* libopenblas.so.0 is the LP64 build: its integers are int. */
typedef void (*sgemm_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int, float,
                         const float *, int, const float *, int, float, float *, int);
typedef void (*sgemv_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, int, int, float, const float *, int,
                         const float *, int, float, float *, int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_fn sgemm;
static sgemv_fn sgemv;
static void (*set_threads)(int);
static int (*get_threads)(void);
static char *(*get_corename)(void);
static char load_error[512];

static void load(void) {
    /* OpenBLAS's idle threads call sched_yield for 2^28 cycles (about 0.1 s) after each call before they sleep. On
       every core the engine's own element-wise kernels then run beside a yielding thread (perf showed the switches;
       a GPT-2 prefill ran 2–14 % faster with the threads sleeping). 2^12 cycles lets them sleep within a microsecond;
       waking them costs far less than an sgemm, and one-row decode products run on our own pool (gemv_pool.c), not
       OpenBLAS's threads. Read when the library starts its threads, hence set before dlopen; a user's value is kept. */
    setenv("OPENBLAS_THREAD_TIMEOUT", "12", 0);
    void *lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        /* The soname's error is the one that explains (a broken install, a missing dependency); the unversioned
           name, from the -dev package, is only a fallback. */
        char why[384];
        const char *error = dlerror();
        snprintf(why, sizeof why, "%s", error ? error : "not found");
        lib = dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            snprintf(load_error, sizeof load_error,
                     "OpenBLAS could not be loaded (%s); install it (Debian/Ubuntu: apt install libopenblas0)", why);
            return;
        }
    }
    sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
    sgemv = (sgemv_fn)dlsym(lib, "cblas_sgemv");
    set_threads = (void (*)(int))dlsym(lib, "openblas_set_num_threads");
    get_threads = (int (*)(void))dlsym(lib, "openblas_get_num_threads");
    get_corename = (char *(*)(void))dlsym(lib, "openblas_get_corename");
    if (!sgemm || !sgemv) snprintf(load_error, sizeof load_error, "the OpenBLAS found lacks cblas_sgemm or cblas_sgemv");
}

const char *wp_blas_load_error(void) {
    pthread_once(&once, load);
    return load_error[0] ? load_error : NULL;
}

static void require(void) {
    const char *error = wp_blas_load_error();
    if (error) {
        fprintf(stderr, "wattprint: %s\n", error);
        abort();
    }
}

/* Every call goes through pthread_once (an acquire load once loaded), so the pointers are never read unsynchronised. */
void wp_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB, int m, int n, int k,
              float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    require();
    sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void wp_sgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans, int m, int n, float alpha, const float *a, int lda,
              const float *x, int incx, float beta, float *y, int incy) {
    require();
    sgemv(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

void wp_blas_set_threads(int threads) {
    require();
    if (set_threads) set_threads(threads);
}

int wp_blas_get_threads(void) {
    require();
    return get_threads ? get_threads() : 1;
}

const char *wp_blas_core_name(void) {
    require();
    return get_corename ? get_corename() : NULL;
}
