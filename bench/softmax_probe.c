#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
/* softmax_probe: a standalone timing of opk_softmax against a STREAM-triad
 * reference measured in the same run (not part of the test suite; `opk
 * bench` is the real benchmark). Build: cmake --build build --target
 * softmax_probe. Usage:
 *   softmax_probe [-r reps] [-s RxC[,RxC...]] [-b scalar,avx2,avx512]
 *                 [-t 1,2] [-a rows|cols|both] [-l] [-H]
 * -l: log-softmax, -H: madvise(MADV_HUGEPAGE) the matrices.
 * Softmax traffic counts one read and one write of the matrix; triad
 * counts 3 arrays (a = b + s * c, STREAM convention), >= 256 MiB in all.
 * Prints medians (and min) of reps runs and the ratio to the triad of the
 * same thread count and to the 2-thread (machine) triad. */
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

/* Triad GB/s with nt threads (median of reps). */
static double triad(int nt, int reps)
{
    const size_t n = (size_t)24 << 20; /* 3 x 96 MiB */
    float *a = alloc_floats(n, 0), *b = alloc_floats(n, 0), *c = alloc_floats(n, 0);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t i = 0; i < n; i++)
        a[i] = 0.0f, b[i] = 1.0f, c[i] = 2.0f;
    double t[64];
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] + 3.0f * c[i];
        t[r] = now() - t0;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i += 4096)
        sum += a[i];
    if (sum < 0)
        printf("?");
    free(a), free(b), free(c);
    qsort(t + 1, (size_t)reps, sizeof(double), cmp_d); /* t[0]: warm-up */
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

int main(int argc, char **argv)
{
    const char *shapes = "4096x4096,16384x1024,1024x65536";
    const char *backs = "scalar,avx2,avx512", *thr = "1,2", *axes = "rows";
    int reps = 7, log = 0, huge = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-r") && i + 1 < argc) reps = atoi(argv[++i]);
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
        reps = 7;
    char sh[16][16], bk[8][16], th[8][16];
    int nsh = parse_list(shapes, sh, 16), nbk = parse_list(backs, bk, 8),
        nth = parse_list(thr, th, 8);

    double tri[9] = {0};
    for (int t = 0; t < nth; t++) {
        int k = atoi(th[t]);
        if (k >= 1 && k <= 8)
            tri[k] = triad(k, reps);
    }
    if (!tri[2])
        tri[2] = triad(2, reps);
    printf("triad GB/s:");
    for (int k = 1; k <= 8; k++)
        if (tri[k])
            printf("  %d thr %.2f", k, tri[k]);
    printf("\n%-12s %-4s %-7s %3s %9s %9s %7s %7s %7s\n", "shape", "axis",
           "backend", "thr", "med ms", "min ms", "GB/s", "%triad", "%tri2");
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
                    double tm[64];
                    for (int r = 0; r <= reps; r++) {
                        double t0 = now();
                        opk_softmax(ctx, (opk_cmat){x, rows, cols, cols},
                                    (opk_mat){y, rows, cols, cols}, 1.0f,
                                    ax ? OPK_COLS : OPK_ROWS, log ? OPK_LOG : 0);
                        tm[r] = now() - t0;
                    }
                    opk_ctx_destroy(ctx);
                    qsort(tm + 1, (size_t)reps, sizeof(double), cmp_d);
                    double med = tm[1 + reps / 2];
                    double gbs = 2.0 * (double)(rows * cols) * 4 / med / 1e9;
                    int k = cfg.num_threads;
                    printf("%-12s %-4s %-7s %3d %9.2f %9.2f %7.2f %6.0f%% %6.0f%%\n",
                           sh[s], ax ? "cols" : "rows", bk[b], k, med * 1e3,
                           tm[1] * 1e3, gbs,
                           k <= 8 && tri[k] ? 100 * gbs / tri[k] : 0.0,
                           100 * gbs / tri[2]);
                    fflush(stdout);
                }
        }
        free(x), free(y);
    }
    return 0;
}
