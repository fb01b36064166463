/* A probe for tuning the attention kernels (not the bench driver: that is
 * `opk bench`). Prints the best and median time of a few repetitions and
 * GFLOP/s counted as 4 n m d (softmax convention, for every mode) for the
 * quadratic modes, and GB/s of compulsory traffic (Q, K, V, H read, O
 * written) plus GFLOP/s (4 n d dv) for linear mode.
 * usage: attention_probe BACKEND THREADS NORM N M D DV [REPS] [H=0|1] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "opk.h"

static double clk(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static double now(void) { return clk(CLOCK_MONOTONIC); }
static double cpu(void) { return clk(CLOCK_PROCESS_CPUTIME_ID); }

#ifdef __AVX512F__
#include <immintrin.h>
#endif
/* FP32 FMA peak of one core: 12 independent chains of 16-lane fmas (built
 * with -mavx512f for this probe only). GFLOP/s per CPU-second. */
static double fma_peak(void)
{
#ifdef __AVX512F__
    __m512 a[12], x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-3f);
    for (int i = 0; i < 12; i++)
        a[i] = _mm512_set1_ps((float)i);
    long iters = 20000000;
    double c0 = cpu();
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < 12; i++)
            a[i] = _mm512_fmadd_ps(a[i], x, y);
    double c1 = cpu();
    float s = 0;
    for (int i = 0; i < 12; i++)
        s += _mm512_reduce_add_ps(a[i]);
    if (s == 12345.0f)
        printf("!");
    return (double)iters * 12 * 32 / (c1 - c0) * 1e-9;
#else
    return 0.0;
#endif
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "peak")) {
        printf("FMA peak, one core: %.1f GFLOP/s per CPU-second\n", fma_peak());
        return 0;
    }
    if (argc < 8) {
        fprintf(stderr, "usage: %s BACKEND THREADS softmax|sigmoid|sinkhorn|"
                        "linear N M D DV [REPS] [H]\n", argv[0]);
        return 2;
    }
    opk_config cfg = opk_config_default();
    if (opk_backend_parse(argv[1], &cfg.backend, NULL, NULL))
        return fprintf(stderr, "%s\n", opk_ctx_last_error(NULL)), 2;
    cfg.num_threads = atoi(argv[2]);
    opk_attention_opts op = opk_attention_opts_default();
    const char *names[] = {"softmax", "sinkhorn", "linear", "sigmoid"};
    int norm = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(argv[3], names[i]))
            norm = i;
    if (norm < 0)
        return fprintf(stderr, "unknown norm %s\n", argv[3]), 2;
    op.norm = (opk_norm)norm;
    size_t n = strtoul(argv[4], 0, 10), m = strtoul(argv[5], 0, 10);
    size_t d = strtoul(argv[6], 0, 10), dv = strtoul(argv[7], 0, 10);
    int reps = argc > 8 ? atoi(argv[8]) : 5, hasH = argc > 9 ? atoi(argv[9]) : 1;
    opk_ctx *ctx;
    if (opk_ctx_create(&cfg, &ctx))
        return fprintf(stderr, "%s\n", opk_ctx_last_error(NULL)), 1;
    float *q = malloc(n * d * 4), *k = malloc(m * d * 4), *v = malloc(m * dv * 4);
    float *h = malloc(n * dv * 4), *o = malloc(n * dv * 4);
    opk_fill(1, -1, 2, (opk_mat){q, n, d, d});
    opk_fill(2, -1, 2, (opk_mat){k, m, d, d});
    opk_fill(3, -1.5f, 1, (opk_mat){v, m, dv, dv});
    opk_fill(4, -0.5f, 2, (opk_mat){h, n, dv, dv});
    memset(o, 0, n * dv * 4);
    opk_cmat H = {h, n, dv, dv};
    double t[64], c[64];
    if (reps > 64)
        reps = 64;
    for (int r = -1; r < reps; r++) {
        double t0 = now(), c0 = cpu();
        opk_status st = opk_attention(ctx, (opk_cmat){q, n, d, d},
                                      (opk_cmat){k, m, d, d},
                                      (opk_cmat){v, m, dv, dv},
                                      hasH ? &H : NULL, &op,
                                      (opk_mat){o, n, dv, dv});
        if (st)
            return fprintf(stderr, "%s\n", opk_ctx_last_error(ctx)), 1;
        if (r >= 0)
            t[r] = now() - t0, c[r] = cpu() - c0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp);
    qsort(c, (size_t)reps, sizeof c[0], cmp);
    /* CPU time per thread: what the run costs on cores of its own (the
     * machine is shared; wall time includes waiting for a core). */
    double cbest = c[0] / (cfg.num_threads > 0 ? cfg.num_threads : 1);
    double best = t[0], med = t[reps / 2];
    uint64_t hash;
    opk_hash((opk_cmat){o, n, dv, dv}, &hash);
    if (norm == 2) {
        double bytes = 4.0 * ((double)(n + m) * d + (double)m * dv +
                              2.0 * (double)n * dv);
        double fl = 2.0 * (double)(n + m) * (double)d * (double)dv;
        printf("%s %s t=%d n=%zu m=%zu d=%zu dv=%zu: best %.3f ms median %.3f "
               "ms  %.1f GB/s  %.1f GFLOP/s  (CPU time: %.1f GB/s)  hash "
               "%016llx\n",
               argv[1], argv[3], cfg.num_threads, n, m, d, dv, best * 1e3,
               med * 1e3, bytes / best * 1e-9, fl / best * 1e-9,
               bytes / cbest * 1e-9, (unsigned long long)hash);
    } else {
        double fl = 4.0 * (double)n * (double)m * (double)d;
        printf("%s %s t=%d n=%zu m=%zu d=%zu dv=%zu: best %.3f ms median %.3f "
               "ms  %.1f GFLOP/s (best) %.1f (median) %.1f (CPU time)  hash "
               "%016llx\n",
               argv[1], argv[3], cfg.num_threads, n, m, d, dv, best * 1e3,
               med * 1e3, fl / best * 1e-9, fl / med * 1e-9,
               fl / cbest * 1e-9, (unsigned long long)hash);
    }
    opk_ctx_destroy(ctx);
    free(q), free(k), free(v), free(h), free(o);
    return 0;
}
