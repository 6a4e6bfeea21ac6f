#ifndef WP_CBLAS_SHIM_H
#define WP_CBLAS_SHIM_H

/* Debian ships OpenBLAS's cblas.h at /usr/include/x86_64-linux-gnu/cblas.h (on the default include path); only
   its types and enums are used here. The functions are reached through blas_loader.c. */
#include <cblas.h>

/* OpenBLAS, opened with dlopen on first use (see blas_loader.c). Each aborts with a message naming the missing
   library when OpenBLAS cannot be loaded; wp_blas_load_error() says so beforehand. */
void wp_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB, int m, int n, int k,
              float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
void wp_sgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans, int m, int n, float alpha, const float *a, int lda,
              const float *x, int incx, float beta, float *y, int incy);
/* Thread control; a BLAS without OpenBLAS's extensions counts as single-threaded. */
void wp_blas_set_threads(int threads);
int wp_blas_get_threads(void);
/* The kernel family OpenBLAS chose for this CPU (openblas_get_corename: "Haswell", "SkylakeX", "Zen", …), or NULL for
   a BLAS without it. OPENBLAS_CORETYPE in the environment overrides OpenBLAS's own detection. */
const char *wp_blas_core_name(void);
/* NULL once OpenBLAS is loaded, else why it could not be. */
const char *wp_blas_load_error(void);

/* Imported into Swift as SIMD8<Float>. */
typedef float wp_float8 __attribute__((ext_vector_type(8)));

/* Lane-wise square root. Swift's Float.squareRoot() keeps libm's errno path, so even in a SIMD8 it
   becomes eight scalar sqrtss with branches; this builtin lowers to sqrtps and inlines into Swift. */
static inline wp_float8 wp_sqrt8(wp_float8 x) {
    return __builtin_elementwise_sqrt(x);
}

#endif
