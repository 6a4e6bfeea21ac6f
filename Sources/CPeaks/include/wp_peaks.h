#ifndef WP_PEAKS_H
#define WP_PEAKS_H

/* The widest fused multiply-add the CPU runs, for the FMA-peak microbenchmark:
   3 = AVX-512F (16 floats), 2 = AVX2 + FMA3 (8 floats), 1 = SSE2 without FMA (4 floats, a multiply and an add). */
int wp_fma_isa(void);

/* Runs `iterations` rounds of 12 independent vector multiply-add chains with the given ISA on this thread and returns
   the FLOPs done (2 per lane per multiply-add). The chains outnumber FMA latency × ports on current x86 cores, so
   the loop runs at the core's peak. `seed` keeps the compiler from folding the loop. */
double wp_fma_run(int isa, long iterations, float seed);

#endif
