/* Timing of one benchmark: warm-up, then repetitions until a minimum time
 * or a repetition cap, with CLOCK_MONOTONIC; median and minimum. */
#ifndef OPK_BENCH_TIMING_H
#define OPK_BENCH_TIMING_H

#include "opk.h"

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* Repetitions: at least BENCH_MIN_REPS (or max_reps if smaller), then until
 * min_time seconds of timed calls have passed or max_reps were made. */
#define BENCH_MIN_REPS 3
#define BENCH_MAX_REPS_DEFAULT 1000
#define BENCH_MIN_TIME_DEFAULT 0.5

typedef struct bench_stats {
    int reps;
    double median_s, min_s;
} bench_stats;

/* One call of the thing measured; returns 0, or nonzero on failure. */
typedef int (*bench_call_fn)(void *arg);

/* Warm-up (one call, more while they total under 5% of min_time, at most
 * 50 ms), then the timed repetitions. Returns the first failing call's
 * status (nonzero), else 0. */
int bench_time(bench_call_fn fn, void *arg, double min_time, int max_reps,
               bench_stats *st);

/* Device-side split of one call on the OpenCL backend, from its profiling
 * events: host-to-device copies, kernels, device-to-host copies (each the
 * median over the profiled calls; summed within a call). valid is 0 on
 * other backends, where nothing is measured. */
typedef struct bench_device_stats {
    int valid;
    double write_s, kernel_s, read_s;
} bench_device_stats;

#define BENCH_DEVICE_REPS 9

/* On an OpenCL context: reps (at most BENCH_DEVICE_REPS) more calls with
 * event profiling on, filling *d. Elsewhere: nothing. Returns the first
 * failing call's status (nonzero), else 0. */
int bench_device_times(opk_ctx *ctx, bench_call_fn fn, void *arg, int reps,
                       bench_device_stats *d);

/* Median of v[0..n) (sorts v; the mean of the middle two when n is even). */
double bench_median(double *v, int n);

#endif
