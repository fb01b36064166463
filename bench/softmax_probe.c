#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
/* softmax_probe: a standalone timing of opk_softmax against a STREAM-triad
 * reference measured in the same run (not part of the test suite; `opk
 * bench` is the real benchmark). Build: cmake --build build --target
 * softmax_probe. Usage:
 *   softmax_probe [-r reps] [-n passes] [-s RxC[,RxC...]]
 *                 [-b scalar,avx2,avx512] [-t 1,2] [-a rows|cols|both] [-l] [-H]
 * -l: log-softmax, -H: madvise(MADV_HUGEPAGE) the matrices.
 * Softmax traffic counts one read and one write of the matrix; triad
 * counts 3 arrays (a = b + s * c, STREAM convention), >= 256 MiB in all.
 * -n passes: each pass times the triad and then the kernel (median of
 * reps calls) back to back, with the same threads; printed: the medians over
 * passes of the kernel's GB/s, the triad's, and their ratio, with the
 * ratio's range (the machine is shared: ratios within a pass are what
 * compare); then the best call of all passes, the best triad rep and their
 * ratio (the least disturbed figures on a busy machine). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "opk.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *alloc_floats(size_t n, int huge)
{
    size_t bytes = (n * sizeof(float) + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
    float *p = aligned_alloc(2u << 20, bytes);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    if (huge)
        madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

/* Triad GB/s with nt threads (median of reps, after a warm-up); *best:
 * the fastest rep. */
static double triad(int nt, int reps, double *best)
{
    const size_t n = (size_t)24 << 20; /* 3 x 96 MiB */
    static float *a, *b, *c;
    if (!a) {
        a = alloc_floats(n, 0), b = alloc_floats(n, 0), c = alloc_floats(n, 0);
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t i = 0; i < n; i++)
            a[i] = 0.0f, b[i] = 1.0f, c[i] = 2.0f;
    }
    double t[64];
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] + 3.0f * c[i];
        t[r] = now() - t0;
    }
    if (a[n / 2] != 7.0f)
        printf("triad went wrong\n");
    qsort(t + 1, (size_t)reps, sizeof(double), cmp_d); /* t[0]: warm-up */
    *best = 3.0 * (double)n * 4 / t[1] / 1e9;
    return 3.0 * (double)n * 4 / t[1 + reps / 2] / 1e9;
}

static int parse_list(const char *s, char out[][16], int max)
{
    int n = 0;
    while (*s && n < max) {
        size_t l = strcspn(s, ",");
        snprintf(out[n++], 16, "%.*s", (int)l, s);
        s += l + (s[l] == ',');
    }
    return n;
}

/* One softmax timing: median GB/s of reps calls (after a warm-up); *best:
 * the fastest call. */
static double time_softmax(opk_ctx *ctx, const float *x, float *y, size_t rows,
                           size_t cols, int axis, int log, int reps, double *best)
{
    double tm[64];
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
        opk_softmax(ctx, (opk_cmat){x, rows, cols, cols},
                    (opk_mat){y, rows, cols, cols}, 1.0f,
                    axis ? OPK_COLS : OPK_ROWS, log ? OPK_LOG : 0);
        tm[r] = now() - t0;
    }
    qsort(tm + 1, (size_t)reps, sizeof(double), cmp_d);
    *best = 2.0 * (double)(rows * cols) * 4 / tm[1] / 1e9;
    return 2.0 * (double)(rows * cols) * 4 / tm[1 + reps / 2] / 1e9;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    const char *shapes = "4096x4096,16384x1024,1024x65536";
    const char *backs = "scalar,avx2,avx512", *thr = "1,2", *axes = "rows";
    int reps = 5, passes = 3, log = 0, huge = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-r") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc) passes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) shapes = argv[++i];
        else if (!strcmp(argv[i], "-b") && i + 1 < argc) backs = argv[++i];
        else if (!strcmp(argv[i], "-t") && i + 1 < argc) thr = argv[++i];
        else if (!strcmp(argv[i], "-a") && i + 1 < argc) axes = argv[++i];
        else if (!strcmp(argv[i], "-l")) log = 1;
        else if (!strcmp(argv[i], "-H")) huge = 1;
        else {
            fprintf(stderr, "usage: see the comment at the top of %s\n", __FILE__);
            return 2;
        }
    }
    if (reps < 1 || reps > 63)
        reps = 5;
    if (passes < 1 || passes > 64)
        passes = 3;
    char sh[16][16], bk[8][16], th[8][16];
    int nsh = parse_list(shapes, sh, 16), nbk = parse_list(backs, bk, 8),
        nth = parse_list(thr, th, 8);
    printf("%-12s %-4s %-7s %3s %7s %7s %7s %9s | %7s %7s %7s\n", "shape",
           "axis", "backend", "thr", "GB/s", "triad", "%triad", "spread",
           "best", "triad", "%triad");
    for (int s = 0; s < nsh; s++) {
        size_t rows = 0, cols = 0;
        if (sscanf(sh[s], "%zux%zu", &rows, &cols) != 2)
            continue;
        float *x = alloc_floats(rows * cols, huge), *y = alloc_floats(rows * cols, huge);
        opk_fill(42, -20.0f, 15.0f, (opk_mat){x, rows, cols, cols});
        memset(y, 0, rows * cols * sizeof(float));
        for (int ax = 0; ax < 2; ax++) {
            if ((ax == 0 && !strcmp(axes, "cols")) || (ax == 1 && !strcmp(axes, "rows")))
                continue;
            for (int b = 0; b < nbk; b++)
                for (int t = 0; t < nth; t++) {
                    opk_config cfg = opk_config_default();
                    if (opk_backend_parse(bk[b], &cfg.backend, NULL, NULL))
                        continue;
                    cfg.num_threads = atoi(th[t]);
                    opk_ctx *ctx;
                    if (opk_ctx_create(&cfg, &ctx)) {
                        printf("%s: %s\n", bk[b], opk_ctx_last_error(NULL));
                        continue;
                    }
                    /* Each pass: the triad, then the kernel, back to back,
                     * so both see the same load of the shared machine. */
                    double g[64], tr[64], ratio[64], gb = 0, tb = 0;
                    for (int p = 0; p < passes; p++) {
                        double b1, b2;
                        tr[p] = triad(cfg.num_threads, 3, &b1);
                        g[p] = time_softmax(ctx, x, y, rows, cols, ax, log, reps, &b2);
                        ratio[p] = g[p] / tr[p];
                        tb = b1 > tb ? b1 : tb, gb = b2 > gb ? b2 : gb;
                    }
                    opk_ctx_destroy(ctx);
                    double lo = 1e30, hi = 0;
                    for (int p = 0; p < passes; p++)
                        lo = ratio[p] < lo ? ratio[p] : lo, hi = ratio[p] > hi ? ratio[p] : hi;
                    printf("%-12s %-4s %-7s %3d %7.2f %7.2f %6.0f%% %4.0f-%3.0f%% | %7.2f "
                           "%7.2f %6.0f%%\n", sh[s], ax ? "cols" : "rows", bk[b],
                           cfg.num_threads, median(g, passes), median(tr, passes),
                           100 * median(ratio, passes), 100 * lo, 100 * hi, gb, tb,
                           100 * gb / tb);
                    fflush(stdout);
                }
        }
        free(x), free(y);
    }
    return 0;
}
