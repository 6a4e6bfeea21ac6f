/* The engine's pool (Sources/CKernels/gemv_pool.c) with more runnable threads than cores: `rivals` other processes hand
   their own pools tiny two-part jobs without end (as a second `wattprint` run's decode would) while this one times
   `jobs` such jobs, first alone and then beside them. A pool whose waiting threads never give up their core lets a job
   wait for the scheduler's tick whenever the thread it waits for shares that core.

   Usage: scripts/kernel-harness/run-contention [rivals] [jobs] */
#include "wp_kernels.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* A microsecond or so of arithmetic: a job's cost is the handing over, not the work. */
static void part(void *context, long index) {
    (void)context;
    (void)index;
    volatile float sum = 0;
    for (int i = 0; i < 1000; i++) sum += (float)i;
}

/* Microseconds a job, median of `jobs`. */
static double run(int jobs) {
    double *times = malloc(jobs * sizeof *times);
    if (!times) exit(1);
    for (int j = 0; j < jobs; j++) {
        double start = now();
        wp_pool_run(2, part, 0, 2);
        times[j] = now() - start;
    }
    for (int i = 1; i < jobs; i++)
        for (int j = i; j > 0 && times[j] < times[j - 1]; j--) {
            double t = times[j];
            times[j] = times[j - 1];
            times[j - 1] = t;
        }
    double median = times[jobs / 2], total = 0;
    for (int j = 0; j < jobs; j++) total += times[j];
    printf("median %9.1f µs, mean %9.1f µs a job\n", median * 1e6, total / jobs * 1e6);
    free(times);
    return median;
}

int main(int argc, char **argv) {
    int rivals = argc > 1 ? atoi(argv[1]) : 1, jobs = argc > 2 ? atoi(argv[2]) : 20000;
    if (rivals < 0 || rivals > 16 || jobs < 1) {
        fprintf(stderr, "usage: run-contention [rivals 0…16] [jobs ≥ 1]\n");
        return 1;
    }
    wp_pool_run(2, part, 0, 2); /* starts the worker */
    printf("alone:            ");
    run(jobs);
    pid_t children[16];
    for (int i = 0; i < rivals; i++) {
        children[i] = fork();
        if (children[i] == 0)
            for (;;) wp_pool_run(2, part, 0, 2);
    }
    usleep(100000);
    printf("beside %2d rivals: ", rivals);
    run(jobs);
    for (int i = 0; i < rivals; i++) kill(children[i], SIGKILL);
    for (int i = 0; i < rivals; i++) waitpid(children[i], 0, 0);
    return 0;
}
