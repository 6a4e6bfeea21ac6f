#ifndef WP_CBLAS_SHIM_H
#define WP_CBLAS_SHIM_H

/* Debian ships OpenBLAS's cblas.h at /usr/include/x86_64-linux-gnu/cblas.h (on the default include path). */
#include <cblas.h>

/* Debian's OpenBLAS cblas.h declares these; other cblas.h builds (reference CBLAS, Netlib) do not,
   so they are declared again here. Repeating an identical prototype is valid C. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

/* Imported into Swift as SIMD8<Float>. */
typedef float wp_float8 __attribute__((ext_vector_type(8)));

/* Lane-wise square root. Swift's Float.squareRoot() keeps libm's errno path, so even in a SIMD8 it
   becomes eight scalar sqrtss with branches; this builtin lowers to sqrtps and inlines into Swift. */
static inline wp_float8 wp_sqrt8(wp_float8 x) {
    return __builtin_elementwise_sqrt(x);
}

#endif
