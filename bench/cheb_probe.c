/* cheb_probe: a standalone timing of opk_cheb against a STREAM-triad
 * reference measured in the same run (not a test; `opk bench` is the real
 * benchmark). Build: cmake --build build --target cheb_probe. Usage:
 *   cheb_probe [-r reps] [-g rows,cols,extra] [-K K] [-f 1,16,64]
 *              [-b scalar,avx2,avx512] [-t 1,2] [-S]
 * X and Y are backed by transparent huge pages (as opk_cheb does for its
 * own blocks: random row reads of a large X otherwise miss the TLB); -S
 * keeps them on small pages.
 * Default graph (issue 5): opk_graph_grid(1000, 1000, 3000000, 7), its
 * symmetric normalized Laplacian, K = 20. Bytes per order (issue 5):
 * nnz*8 + rows*8 + 3*n*F*4. Prints medians (and min) of reps runs and the
 * ratio to the triad of the same thread count and of 2 threads. */
#define _DEFAULT_SOURCE /* madvise */
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

/* Triad GB/s with nt threads (median of reps), 3 x 96 MiB. */
static double triad(int nt, int reps)
{
    const size_t n = (size_t)24 << 20;
    float *a = malloc(n * 4), *b = malloc(n * 4), *c = malloc(n * 4);
    if (!a || !b || !c)
        exit(1);
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
    if (a[12345] != 7.0f)
        printf("?");
    free(a), free(b), free(c);
    qsort(t + 1, (size_t)reps, sizeof(double), cmp_d);
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
    const char *backs = "scalar,avx2,avx512", *thr = "1,2", *fs = "1,16,64";
    size_t gr = 1000, gc = 1000, ge = 3000000, K = 20;
    int reps = 5, huge = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-r") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-g") && i + 1 < argc)
            sscanf(argv[++i], "%zu,%zu,%zu", &gr, &gc, &ge);
        else if (!strcmp(argv[i], "-K") && i + 1 < argc) K = (size_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "-f") && i + 1 < argc) fs = argv[++i];
        else if (!strcmp(argv[i], "-b") && i + 1 < argc) backs = argv[++i];
        else if (!strcmp(argv[i], "-t") && i + 1 < argc) thr = argv[++i];
        else if (!strcmp(argv[i], "-S")) huge = 0;
        else {
            fprintf(stderr, "usage: see the comment at the top of %s\n", __FILE__);
            return 2;
        }
    }
    if (reps < 1 || reps > 63)
        reps = 5;
    char bk[8][16], th[8][16], ff[8][16];
    int nbk = parse_list(backs, bk, 8), nth = parse_list(thr, th, 8),
        nf = parse_list(fs, ff, 8);
    opk_csr A, L;
    if (opk_graph_grid(gr, gc, ge, 7, &A) ||
        opk_laplacian(A, OPK_LAPLACIAN_SYMMETRIC, &L)) {
        fprintf(stderr, "graph: %s\n", opk_ctx_last_error(NULL));
        return 1;
    }
    opk_csr_free(&A);
    const size_t n = (size_t)L.rows;
    double tri[9] = {0};
    for (int t = 0; t < nth; t++) {
        int k = atoi(th[t]);
        if (k >= 1 && k <= 8)
            tri[k] = triad(k, reps);
    }
    if (!tri[2])
        tri[2] = triad(2, reps);
    printf("graph grid %zux%zu + %zu extra: n %zu, nnz %lld; K %zu; X, Y on %s "
           "pages\ntriad GB/s:",
           gr, gc, ge, n, (long long)L.nnz, K, huge ? "huge" : "small");
    for (int k = 1; k <= 8; k++)
        if (tri[k])
            printf("  %d thr %.2f", k, tri[k]);
    printf("\n%4s %-7s %3s %9s %9s %7s %7s %7s\n", "F", "backend", "thr",
           "med ms", "min ms", "GB/s", "%triad", "%tri2");
    float *c = malloc((K + 1) * sizeof *c);
    opk_fill(3, -1.0f, 0.5f, (opk_mat){c, 1, K + 1, K + 1});
    for (int f = 0; f < nf; f++) {
        size_t F = (size_t)atoi(ff[f]);
        float *x = alloc_floats(n * F, huge), *y = alloc_floats(n * F, huge);
        opk_fill(1, -1.0f, 2.0f, (opk_mat){x, n, F, F});
        memset(y, 0, n * F * 4);
        double bytes = (double)K * ((double)L.nnz * 8 + (double)n * 8 +
                                    3.0 * (double)n * (double)F * 4);
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
                    if (opk_cheb(ctx, L, 0.0f, 2.0f, c, K,
                                 (opk_cmat){x, n, F, F}, (opk_mat){y, n, F, F})) {
                        printf("cheb: %s\n", opk_ctx_last_error(ctx));
                        return 1;
                    }
                    tm[r] = now() - t0;
                }
                opk_ctx_destroy(ctx);
                qsort(tm + 1, (size_t)reps, sizeof(double), cmp_d);
                double med = tm[1 + reps / 2], gbs = bytes / med / 1e9;
                int k = cfg.num_threads;
                printf("%4zu %-7s %3d %9.1f %9.1f %7.2f %6.0f%% %6.0f%%\n", F,
                       bk[b], k, med * 1e3, tm[1] * 1e3, gbs,
                       k <= 8 && tri[k] ? 100 * gbs / tri[k] : 0.0,
                       100 * gbs / tri[2]);
                fflush(stdout);
            }
        free(x), free(y);
    }
    opk_csr_free(&L);
    free(c);
    return 0;
}
