/* A timing probe for opk_sinkhorn (not the benchmark suite: `opk bench`
 * is). For each backend and thread count: the median over repetitions of
 *   - ms per iteration of a full call with max_iter = K (tol 0, one check at
 *     the end): includes the validation pass and the final check pass;
 *   - the marginal ms per iteration, (T(K) - T(K/10)) / (K - K/10), which
 *     leaves those fixed passes out;
 *   - GB/s of S traffic: 2 passes of n*m*4 bytes per iteration / marginal;
 * and, since a shared machine preempts threads, the process CPU time per
 * iteration of the full call (with 1 thread: the compute cost on a quiet
 * machine; with more it includes spinning at barriers); and the machine's
 * read bandwidth with the same threads (a plain sum over
 * S), with the time to stream S twice at that bandwidth.
 * EVERY is check_every (0: only the check after the last iteration).
 * usage: sinkhorn_probe N [M] [ITERS] [REPS] [EVERY] [THREADS...] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include "opk.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int every;
static double last_cpu; /* process CPU seconds of the last run_once */

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double run_once(opk_ctx *ctx, opk_cmat S, int iters, float *f, float *g)
{
    opk_sinkhorn_opts o = {iters, 0.0f, every > 0 ? every : iters};
    opk_sinkhorn_info info;
    double c0 = cpu_now(), t0 = now();
    opk_status st = opk_sinkhorn(ctx, S, 1.0f, NULL, NULL, &o, f, g, NULL, &info);
    double t1 = now();
    last_cpu = cpu_now() - c0;
    if (st || info.iterations != iters) {
        fprintf(stderr, "sinkhorn: %s %s\n", opk_status_str(st),
                opk_ctx_last_error(ctx));
        exit(1);
    }
    return t1 - t0;
}

/* Read bandwidth: a sum over S with nt threads (8 independent sums). */
static double read_gbs(const float *s, size_t len, int nt, int reps)
{
    double best[32];
    volatile float sink = 0;
    for (int r = 0; r < reps && r < 32; r++) {
        double t0 = now();
        float total = 0;
#pragma omp parallel for num_threads(nt) reduction(+ : total) schedule(static)
        for (size_t b = 0; b < len; b += 4096) {
            float acc[16] = {0};
            size_t e = b + 4096 < len ? b + 4096 : len;
            for (size_t k = b; k + 16 <= e; k += 16)
                for (int l = 0; l < 16; l++)
                    acc[l] += s[k + l];
            for (int l = 0; l < 16; l++)
                total += acc[l];
        }
        sink += total;
        best[r] = (double)len * 4 / (now() - t0) * 1e-9;
    }
    (void)sink;
    return median(best, reps < 32 ? reps : 32);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sinkhorn_probe N [M] [ITERS] [REPS] [EVERY] "
                        "[THREADS...]\n");
        return 2;
    }
    size_t n = strtoul(argv[1], NULL, 10);
    size_t m = argc > 2 ? strtoul(argv[2], NULL, 10) : n;
    int iters = argc > 3 ? atoi(argv[3]) : 100, reps = argc > 4 ? atoi(argv[4]) : 5;
    every = argc > 5 ? atoi(argv[5]) : 0;
    int threads[8] = {1, 2}, nth = 2;
    if (argc > 6)
        for (nth = 0; nth < 8 && 6 + nth < argc; nth++)
            threads[nth] = atoi(argv[6 + nth]);
    float *s = malloc(n * m * sizeof(float)), *f = malloc(n * 4), *g = malloc(m * 4);
    opk_fill(1, -3.0f, 2.0f, (opk_mat){s, n, m, m});
    opk_cmat S = {s, n, m, m};
    const double bytes = (double)n * (double)m * 4.0;
    printf("%zux%zu, %d iterations, check every %d, median of %d\n", n, m,
           iters, every, reps);
    for (int t = 0; t < nth; t++) {
        double bw = read_gbs(s, n * m, threads[t], 7);
        printf("threads %d: read bandwidth %.1f GB/s, S twice %.2f ms\n",
               threads[t], bw, 2 * bytes / bw * 1e-6);
        for (int b = OPK_BACKEND_SCALAR; b <= OPK_BACKEND_AVX512; b++) {
            if (!opk_backend_available((opk_backend)b))
                continue;
            opk_config cfg = opk_config_default();
            cfg.backend = (opk_backend)b;
            cfg.num_threads = threads[t];
            opk_ctx *ctx;
            if (opk_ctx_create(&cfg, &ctx))
                continue;
            /* The scalar reference is slow: fewer iterations. */
            int cap = bytes > 1e8 ? 4 : 20;
            int it = b == OPK_BACKEND_SCALAR && iters > cap ? cap : iters;
            int kk = it / 10 > 0 ? it / 10 : 1;
            double full[64], marg[64], cpu[64];
            run_once(ctx, S, 1, f, g); /* warm-up: pages, threads */
            for (int r = 0; r < reps && r < 64; r++) {
                double tk = run_once(ctx, S, it, f, g);
                cpu[r] = last_cpu / it;
                double t0 = run_once(ctx, S, kk, f, g);
                full[r] = tk / it;
                marg[r] = (tk - t0) / (it - kk > 0 ? it - kk : 1);
            }
            int nr = reps < 64 ? reps : 64;
            double fm = median(full, nr), mm = median(marg, nr), cm = median(cpu, nr);
            printf("  %-7s %3d it: %7.2f ms/it (full call), %7.2f marginal, "
                   "%5.1f GB/s of S, %.2fx the S-twice time; CPU %7.2f ms/it\n",
                   opk_backend_name((opk_backend)b), it, fm * 1e3, mm * 1e3,
                   2 * bytes / mm * 1e-9, mm / (2 * bytes / bw * 1e-9), cm * 1e3);
            opk_ctx_destroy(ctx);
        }
    }
    free(s), free(f), free(g);
    return 0;
}
