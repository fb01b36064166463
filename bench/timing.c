/* Timing loop of `opk bench` (see timing.h). */
#include "timing.h"

#include <stdlib.h>
#include <time.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    if (n <= 0)
        return 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return (n & 1) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int bench_time(bench_call_fn fn, void *arg, double min_time, int max_reps,
               bench_stats *st)
{
    if (max_reps < 1)
        max_reps = 1;
    /* Warm-up: page faults, caches, clock ramp; not timed. */
    double warm_budget = 0.05 * min_time < 0.05 ? 0.05 * min_time : 0.05;
    double w0 = bench_now();
    int r;
    do {
        if ((r = fn(arg)) != 0)
            return r;
    } while (bench_now() - w0 < warm_budget);

    double *t = malloc((size_t)max_reps * sizeof *t);
    if (!t)
        return -1;
    int min_reps = max_reps < BENCH_MIN_REPS ? max_reps : BENCH_MIN_REPS;
    double total = 0.0, best = 0.0;
    int n = 0;
    while (n < max_reps && (n < min_reps || total < min_time)) {
        double t0 = bench_now();
        r = fn(arg);
        double dt = bench_now() - t0;
        if (r) {
            free(t);
            return r;
        }
        t[n++] = dt;
        total += dt;
        best = (n == 1 || dt < best) ? dt : best;
    }
    st->reps = n;
    st->min_s = best;
    st->median_s = bench_median(t, n);
    free(t);
    return 0;
}
