/* Measuring this machine's limits (see limits.h); the cache file is
 * limits_cache.c. */
#include "limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

#include "bench.h"
#include "timing.h"

void bench_machine_get(bench_machine *m)
{
    opk_cpu_info ci;
    opk_cpu_describe(&ci);
    snprintf(m->model, sizeof m->model, "%s", ci.model[0] ? ci.model : "unknown");
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    m->cores = n > 0 ? (int)n : 1;
    snprintf(m->version, sizeof m->version, "%s", opk_version());
}

/* ---- memory bandwidth: STREAM triad ------------------------------------ */

#define TRIAD_RUNS 10

/* Best triad rate in GB/s over TRIAD_RUNS passes with `threads` threads. */
static double triad_rate(float *a, const float *b, const float *c, long n,
                         int threads)
{
    double best = 0.0;
    for (int r = 0; r < TRIAD_RUNS; r++) {
        const float s = 0.5f + 0.125f * (float)r;
        double t0 = bench_now();
#pragma omp parallel for schedule(static) num_threads(threads)
        for (long i = 0; i < n; i++)
            a[i] = b[i] + s * c[i];
        double dt = bench_now() - t0;
        double rate = 3.0 * sizeof(float) * (double)n / dt / 1e9;
        best = rate > best ? rate : best;
    }
    return best;
}

static void measure_bandwidth(int mib, int cores, bench_limits *lim)
{
    long n = (long)((size_t)mib * 1024 * 1024 / (3 * sizeof(float)));
    /* Allocated as the kernels' operands are (bench_alloc_floats). */
    float *a = bench_alloc_floats((size_t)n), *b = bench_alloc_floats((size_t)n);
    float *c = bench_alloc_floats((size_t)n);
    if (!a || !b || !c) {
        fprintf(stderr, "opk: bench: cannot allocate %d MiB for the triad\n",
                mib);
        free(a), free(b), free(c);
        return;
    }
    /* First touch with the same static schedule as the triad: each thread
     * owns the pages it streams (matters on NUMA machines). */
#pragma omp parallel for schedule(static) num_threads(cores)
    for (long i = 0; i < n; i++) {
        a[i] = 0.0f;
        b[i] = 1.0f;
        c[i] = 2.0f;
    }
    lim->bw_gbs = triad_rate(a, b, c, n, cores);
    lim->bw1_gbs = cores > 1 ? triad_rate(a, b, c, n, 1) : lim->bw_gbs;
    /* Read a back so no compiler could call the stores dead. */
    volatile float keep = a[n / 2] + a[n - 1];
    (void)keep;
    free(a), free(b), free(c);
}

/* ---- FMA peak ------------------------------------------------------------ */

typedef int (*peak_fn)(long iters, float *sink);

static peak_fn peak_for(opk_backend b)
{
    switch (b) {
    case OPK_BACKEND_SCALAR: return bench_peak_scalar;
#ifdef OPK_BENCH_AVX2
    case OPK_BACKEND_AVX2: return bench_peak_avx2;
#endif
#ifdef OPK_BENCH_AVX512
    case OPK_BACKEND_AVX512: return bench_peak_avx512;
#endif
    default: return NULL;
    }
}

int bench_limits_has_peak(opk_backend b)
{
    return peak_for(b) && opk_backend_available(b);
}

#define PEAK_RUNS 5

/* GFLOP/s of `threads` threads running f for iters iterations, best of
 * PEAK_RUNS. */
static double peak_rate(peak_fn f, long iters, int threads)
{
    double best = 0.0;
    float sink[256] = {0};
    for (int r = 0; r < PEAK_RUNS; r++) {
        int per_iter = 0;
        double t0 = bench_now();
#pragma omp parallel num_threads(threads)
        {
            int id = omp_get_thread_num();
            int k = f(iters, &sink[id & 255]);
            if (id == 0)
                per_iter = k;
        }
        double dt = bench_now() - t0;
        double rate = 2.0 * per_iter * (double)iters * threads / dt / 1e9;
        best = rate > best ? rate : best;
    }
    volatile float keep = sink[0];
    (void)keep;
    return best;
}

static void measure_peak(peak_fn f, double target_s, int cores, double *one,
                         double *all)
{
    float sink;
    long iters = 1L << 14;
    /* Calibrate on one thread: double until one run lasts target_s. */
    for (;;) {
        double t0 = bench_now();
        f(iters, &sink);
        if (bench_now() - t0 >= target_s || iters > (1L << 40))
            break;
        iters *= 2;
    }
    *one = peak_rate(f, iters, 1);
    *all = cores > 1 ? peak_rate(f, iters, cores) : *one;
}

void bench_limits_measure(const bench_machine *m, int triad_mib,
                          bench_limits *lim)
{
    memset(lim, 0, sizeof *lim);
    lim->cores = m->cores;
    lim->triad_mib = triad_mib;
    measure_bandwidth(triad_mib, m->cores, lim);
    /* A small triad means a quick check (tests): shorten the peaks too. */
    double target = triad_mib >= BENCH_TRIAD_MIB_DEFAULT ? 0.025 : 0.004;
    for (int b = 1; b < OPK_BACKEND_COUNT; b++)
        if (bench_limits_has_peak((opk_backend)b))
            measure_peak(peak_for((opk_backend)b), target, m->cores,
                         &lim->fma1_gflops[b], &lim->fman_gflops[b]);
}

double bench_limits_bw(const bench_limits *lim)
{
    return lim->bw_gbs > lim->bw1_gbs ? lim->bw_gbs : lim->bw1_gbs;
}

double bench_limits_fma(const bench_limits *lim, opk_backend b, int threads)
{
    if ((unsigned)b >= OPK_BACKEND_COUNT)
        return 0.0;
    double one = lim->fma1_gflops[b], all = lim->fman_gflops[b];
    all = all > one ? all : one;
    if (threads <= 1)
        return one;
    double v = one * threads;
    return v < all ? v : all;
}
