/* opk_cheb on every usable backend: the SPEC 3.3 formulas written out
 * naively (bitwise; oracle_cheb in spec_oracle.c), bit identity across
 * backends and thread counts on random graphs, shapes and values, dense
 * double-precision evaluation (heat filter through the eigendecomposition,
 * the recurrence in double), Jackson damping against Gibbs overshoot, and
 * every argument error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "check.h"
#include "grid.h"
#include "refdouble.h"
#include "spec_oracle.h"

static opk_backend backends[OPK_BACKEND_COUNT];
static int nbackends;

/* ---- inputs ------------------------------------------------------------------ */

/* An owned CSR built by the test (never through opk, so that shapes opk
 * would not produce are covered: unsorted rows, duplicates, empty rows). */
typedef struct tcsr {
    opk_csr A;
    int64_t *rp;
    int32_t *ci;
    float *v;
} tcsr;

static void tcsr_free(tcsr *t)
{
    free(t->rp), free(t->ci), free(t->v);
}

static float unit(uint64_t seed, uint64_t k)
{
    return (float)(opk_rand(seed, k) >> 40) * 0x1p-24f;
}

/* Random square CSR: row i has R(seed, i) mod (2 deg + 1) entries, a few
 * rows are dense (up to n entries), some empty; columns random (so
 * unsorted, with duplicates); values in [-0.6, 0.6] scaled by 1/deg so the
 * spectrum of L~ stays moderate. */
static tcsr random_csr(size_t n, size_t deg, uint64_t seed, int dense)
{
    tcsr t;
    t.rp = malloc((n + 1) * sizeof *t.rp);
    t.rp[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = (size_t)(opk_rand(seed, i) % (2 * deg + 1));
        if (dense && opk_rand(seed + 1, i) % 97 == 0)
            len = n + (size_t)(opk_rand(seed + 2, i) % 7); /* with duplicates */
        if (opk_rand(seed + 3, i) % 13 == 0)
            len = 0;
        t.rp[i + 1] = t.rp[i] + (int64_t)len;
    }
    size_t nnz = (size_t)t.rp[n];
    t.ci = malloc((nnz ? nnz : 1) * sizeof *t.ci);
    t.v = malloc((nnz ? nnz : 1) * sizeof *t.v);
    float scale = 1.2f / (float)(deg ? deg : 1);
    for (size_t q = 0; q < nnz; q++) {
        t.ci[q] = (int32_t)(opk_rand(seed + 4, q) % n);
        t.v[q] = (unit(seed + 5, q) - 0.5f) * scale;
    }
    opk_csr A = {(int64_t)n, (int64_t)n, (int64_t)nnz, t.rp, t.ci, t.v};
    t.A = A;
    return t;
}

static float *fill_buf(size_t rows, size_t cols, size_t ld, size_t off,
                       uint64_t seed, float lo, float hi)
{
    float *b = malloc((rows * ld + off + 1) * sizeof *b);
    for (size_t i = 0; i < rows * ld + off + 1; i++)
        b[i] = NAN;
    opk_mat M = {b + off, rows, cols, ld};
    opk_fill(seed, lo, hi, M);
    return b;
}

/* Marks an output before a call: a huge value that fails every tolerance
 * check below (fmax would skip a NaN), so a call that writes nothing
 * cannot pass on what an earlier call left there. */
static void poison(float *y, size_t count)
{
    for (size_t i = 0; i < count; i++)
        y[i] = 3e38f;
}

/* ---- bitwise: SPEC, backends, threads ------------------------------------------ */

typedef struct bcase {
    const char *what;
    opk_csr L;
    size_t F, K, pad, off;
    float lmin, lmax;
    uint64_t seed;
    int special; /* X holds NaN, inf, subnormals and huge values */
} bcase;

static void run_bcase(const bcase *bc, int check_spec)
{
    const size_t n = (size_t)bc->L.rows, F = bc->F, K = bc->K;
    const size_t ld = F + bc->pad;
    float *xb = fill_buf(n, F, ld, bc->off, bc->seed, -1.0f, 2.0f);
    float *x = xb + bc->off;
    if (bc->special)
        for (size_t k = 0; k < n * F; k += 1 + (size_t)(opk_rand(bc->seed, k) % 5)) {
            static const float sv[] = {NAN, INFINITY, -INFINITY, 1e-40f, -3e-42f,
                                       3e38f, -2e38f, 0.0f, -0.0f};
            x[(k / F) * ld + k % F] = sv[opk_rand(bc->seed + 7, k) % 9];
        }
    float *c = malloc((K + 1) * sizeof *c);
    opk_mat C = {c, 1, K + 1, K + 1};
    opk_fill(bc->seed + 2, -1.0f, 0.5f, C);
    float *ref = malloc((n * F + 1) * sizeof *ref);
    float *yb = malloc((n * ld + bc->off + 1) * sizeof *yb);
    float *y = yb + bc->off;
    opk_cmat X = {x, n, F, ld};
    opk_mat Y = {y, n, F, ld};
    if (check_spec) {
        oracle_cheb(bc->L, bc->lmin, bc->lmax, c, K, x, ld, F, ref);
    } else { /* the scalar backend, one thread, is the reference */
        opk_ctx *ctx = test_ctx(OPK_BACKEND_SCALAR, 1);
        CHECK_ST(opk_cheb(ctx, bc->L, bc->lmin, bc->lmax, c, K, X, Y), OPK_OK);
        for (size_t i = 0; i < n; i++)
            memcpy(ref + i * F, y + i * ld, F * sizeof(float));
        opk_ctx_destroy(ctx);
    }
    static const int threads[] = {1, 2, 3, 7};
    for (int b = 0; b < nbackends; b++)
        for (int t = 0; t < 4; t++) {
            if (check_spec && t > 0 && n < 64)
                continue;
            opk_ctx *ctx = test_ctx(backends[b], threads[t]);
            for (size_t i = 0; i < n * ld + bc->off + 1; i++)
                yb[i] = -12345.0f;
            opk_status st = opk_cheb(ctx, bc->L, bc->lmin, bc->lmax, c, K, X, Y);
            CHECK(st == OPK_OK, "%s: %s", bc->what, opk_ctx_last_error(ctx));
            long d = oracle_first_diff(ref, F, y, ld, n, F);
            CHECK(d < 0,
                  "%s (n %zu F %zu K %zu pad %zu off %zu) on %s, %d threads: "
                  "element %ld (row %ld col %ld) is %.9g, %s gives %.9g",
                  bc->what, n, F, K, bc->pad, bc->off,
                  opk_backend_name(backends[b]), threads[t], d,
                  d < 0 ? 0 : d / (long)F, d < 0 ? 0 : d % (long)F,
                  d < 0 ? 0.0 : (double)y[(size_t)(d / (long)F) * ld + (size_t)d % F],
                  check_spec ? "the SPEC formulas" : "scalar",
                  d < 0 ? 0.0 : (double)ref[d]);
            /* Padding and the words around Y are not written. */
            int clean = yb[0] == -12345.0f || bc->off == 0;
            for (size_t i = 0; i < n && clean; i++)
                for (size_t f = F; f < ld; f++)
                    clean &= y[i * ld + f] == -12345.0f;
            clean &= yb[n * ld + bc->off] == -12345.0f || n == 0;
            CHECK(clean, "%s: padding written", bc->what);
            opk_ctx_destroy(ctx);
        }
    free(xb), free(yb), free(c), free(ref);
}

static void test_spec_bitwise(void)
{
    /* Small graphs with every structural oddity, against the SPEC. */
    static const size_t Fs[] = {1, 2, 3, 5, 7, 8, 9, 16, 17, 33, 64, 70};
    for (size_t fi = 0; fi < sizeof Fs / sizeof Fs[0]; fi++)
        for (size_t K = 0; K <= 6; K += 1 + (K >= 3) * 2) {
            tcsr t = random_csr(45 + fi, 4, 100 + fi * 10 + K, 1);
            bcase bc = {"random vs SPEC", t.A, Fs[fi], K, fi % 3, fi % 2,
                        -1.5f, 2.25f, 300 + fi * 10 + K, 0};
            run_bcase(&bc, 1);
            tcsr_free(&t);
        }
    opk_csr L = grid_laplacian(9, 11, 30, 5, OPK_LAPLACIAN_SYMMETRIC);
    bcase bc = {"grid vs SPEC", L, 6, 20, 1, 1, 0.0f, 2.0f, 77, 0};
    run_bcase(&bc, 1);
    bc.F = 19;
    run_bcase(&bc, 1);
    opk_csr_free(&L);
}

static void test_backends_threads(void)
{
    struct {
        size_t n, deg, F, K;
        int dense;
        const char *what;
    } cases[] = {
        {1, 1, 1, 3, 0, "one node"},
        {2, 1, 9, 2, 0, "two nodes"},
        {37, 3, 1, 5, 1, "F=1 dense rows"},
        {37, 3, 4, 5, 1, "F=4 dense rows"},
        {37, 3, 8, 5, 1, "F=8 dense rows"},
        {37, 3, 15, 4, 1, "F=15"},
        {37, 3, 31, 3, 1, "F=31"},
        {37, 3, 65, 3, 1, "F=65"},
        {300, 12, 1, 7, 1, "F=1 long rows"},
        {300, 12, 7, 7, 1, "F=7 long rows"},
        {300, 2, 24, 7, 1, "F=24 short rows"},
        {1001, 5, 2, 6, 1, "F=2"},
        {20000, 6, 1, 5, 1, "F=1 threaded"},
        {20000, 6, 3, 3, 0, "F=3 threaded"},
        {3000, 8, 16, 4, 1, "F=16 threaded"},
        {1500, 8, 64, 3, 1, "F=64 threaded"},
        {2000, 5, 17, 3, 1, "F=17 threaded"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tcsr t = random_csr(cases[k].n, cases[k].deg, 900 + k, cases[k].dense);
        bcase bc = {cases[k].what, t.A, cases[k].F, cases[k].K, k % 4, (k + 1) % 2,
                    -1.0f, 1.0f, 1000 + k, 0};
        run_bcase(&bc, 0);
        bc.special = 1, bc.what = "special values";
        if (cases[k].n < 5000)
            run_bcase(&bc, 0);
        tcsr_free(&t);
    }
    /* Power-law Laplacian (very dense rows) and isolated nodes. */
    opk_csr A, L;
    int32_t u[6000], v[6000];
    for (int e = 0; e < 6000; e++) {
        double x = (double)(opk_rand(5, 2 * e) >> 11) * 0x1p-53;
        u[e] = (int32_t)(3000.0 * (x * x) * (x * x));
        v[e] = (int32_t)(opk_rand(5, 2 * e + 1) % 3000);
    }
    opk_graph_from_edges(4000, 6000, u, v, &A); /* nodes >= 3000 isolated */
    opk_laplacian(A, OPK_LAPLACIAN_SYMMETRIC, &L);
    static const size_t Fs[] = {1, 3, 8, 16, 40};
    for (int f = 0; f < 5; f++) {
        bcase bc = {"power law", L, Fs[f], 9, (size_t)f % 2, 0, 0.0f, 2.0f,
                    (uint64_t)(60 + f), 0};
        run_bcase(&bc, 0);
    }
    opk_csr_free(&A), opk_csr_free(&L);
}

/* ---- against double precision ------------------------------------------------------ */

/* Heat filter with K = 30 against exp(-tL) X from the eigendecomposition.
 * Tolerance: the series truncation is below 1e-12 here (coefficients decay
 * like I_k(t lmax/2)), so the error is float rounding: coefficients
 * (sum |c_k| u) and the recurrence (at most 2.2 K^2 u per unit of |X| in
 * the worst case of refdouble.h; in practice about K u: independent
 * roundings add like a random walk and sum |c_k| ~ 1 for a heat filter).
 * We state max |Y - exp(-tL) X| <= 4 K u max|X|, 1.4e-5 for K = 30. */
static void test_heat_vs_eig(void)
{
    for (int g = 0; g < 4; g++) {
        opk_csr L;
        float lmax = 2.0f;
        if (g == 0)
            L = grid_laplacian(6, 7, 10, 3, OPK_LAPLACIAN_SYMMETRIC);
        else if (g == 1)
            L = grid_laplacian(5, 8, 6, 4, OPK_LAPLACIAN_COMBINATORIAL);
        else {
            char path[600];
            opk_csr A;
            snprintf(path, sizeof path, "%s/tests/data/cheb_weighted.mtx",
                     OPK_SOURCE_DIR);
            CHECK_ST(opk_mtx_read(path, &A), OPK_OK);
            if (!A.row_ptr)
                continue;
            opk_laplacian(A, g == 2 ? OPK_LAPLACIAN_SYMMETRIC
                                    : OPK_LAPLACIAN_COMBINATORIAL, &L);
            opk_csr_free(&A);
        }
        opk_ctx *c0 = test_ctx(OPK_BACKEND_SCALAR, 1);
        if (g == 1 || g == 3)
            CHECK_ST(opk_lmax(c0, L, &lmax), OPK_OK);
        opk_ctx_destroy(c0);
        const size_t n = (size_t)L.rows, F = 4, K = 30;
        const float t = g == 1 || g == 3 ? 0.5f : 5.0f;
        double *M = calloc(n * n, sizeof *M), *w = malloc(n * sizeof *w),
               *V = malloc(n * n * sizeof *V);
        for (size_t i = 0; i < n; i++)
            for (int64_t q = L.row_ptr[i]; q < L.row_ptr[i + 1]; q++)
                M[i * n + (size_t)L.col_idx[q]] += L.val[q];
        CHECK(ref_sym_eig(n, M, w, V) >= 0, "Jacobi failed");
        CHECK(w[0] > -1e-6 && w[n - 1] <= lmax, "spectrum [%g, %g] outside [0, %g]",
              w[0], w[n - 1], lmax);
        float *x = malloc(n * F * sizeof *x), *y = malloc(n * F * sizeof *y);
        opk_mat X = {x, n, F, F}, Y = {y, n, F, F};
        opk_fill(40 + (uint64_t)g, -1.0f, 2.0f, X);
        /* exact = V diag(exp(-t w)) V^T X */
        double *ex = calloc(n * F, sizeof *ex), *tmp = calloc(n * F, sizeof *tmp);
        for (size_t j = 0; j < n; j++)
            for (size_t f = 0; f < F; f++) {
                double s = 0.0;
                for (size_t i = 0; i < n; i++)
                    s += V[i * n + j] * x[i * F + f];
                tmp[j * F + f] = s * exp(-(double)t * w[j]);
            }
        for (size_t i = 0; i < n; i++)
            for (size_t f = 0; f < F; f++)
                for (size_t j = 0; j < n; j++)
                    ex[i * F + f] += V[i * n + j] * tmp[j * F + f];
        float c[31];
        CHECK_ST(opk_cheb_coeffs(OPK_FILTER_HEAT, t, K, 0.0f, lmax,
                                 OPK_DAMPING_NONE, c), OPK_OK);
        const double tol = 4.0 * K * 0x1p-24 * 2.0; /* max|X| <= 2 */
        for (int b = 0; b < nbackends; b++) {
            opk_ctx *ctx = test_ctx(backends[b], 2);
            poison(y, n * F);
            CHECK_ST(opk_cheb(ctx, L, 0.0f, lmax, c, K, opk_cmat_of(X), Y), OPK_OK);
            double err = 0.0;
            for (size_t i = 0; i < n * F; i++)
                err = fmax(err, fabs((double)y[i] - ex[i]));
            CHECK(err <= tol, "graph %d on %s: heat error %.3g above %.3g", g,
                  opk_backend_name(backends[b]), err, tol);
            if (b == 0)
                printf("heat K=30 graph %d (n %zu, t %g, lmax %g): max error "
                       "%.3g (tolerance %.3g)\n", g, n, (double)t, (double)lmax,
                       err, tol);
            opk_ctx_destroy(ctx);
        }
        free(M), free(w), free(V), free(x), free(y), free(ex), free(tmp);
        opk_csr_free(&L);
    }
}

/* The recurrence in double (same float alpha, gamma, L): within the proven
 * bound of refdouble.h, and, tighter, a normwise relative error
 * ||Y - Yd||_inf / (sum_k |c_k| ||T_k||_inf) <= 4 u sqrt(K+1) sqrt(mmax):
 * rounding errors of independent terms add like a random walk; a kernel
 * that dropped an fma or summed in another order still passes this, but a
 * wrong coefficient, sign or missed term does not. */
static void test_vs_double(void)
{
    for (int g = 0; g < 3; g++) {
        opk_csr L = g == 0 ? grid_laplacian(20, 25, 80, 9, OPK_LAPLACIAN_SYMMETRIC)
                    : g == 1 ? grid_laplacian(12, 12, 30, 10,
                                              OPK_LAPLACIAN_COMBINATORIAL)
                             : grid_laplacian(30, 30, 400, 11,
                                              OPK_LAPLACIAN_SYMMETRIC);
        float lmax = 2.0f;
        opk_ctx *c0 = test_ctx(OPK_BACKEND_SCALAR, 1);
        if (g == 1)
            opk_lmax(c0, L, &lmax);
        opk_ctx_destroy(c0);
        const size_t n = (size_t)L.rows, F = g == 2 ? 16 : 3, K = g == 2 ? 40 : 20;
        int64_t mmax = 0;
        for (size_t i = 0; i < n; i++)
            if (L.row_ptr[i + 1] - L.row_ptr[i] > mmax)
                mmax = L.row_ptr[i + 1] - L.row_ptr[i];
        float *x = malloc(n * F * sizeof *x), *y = malloc(n * F * sizeof *y),
              *c = malloc((K + 1) * sizeof *c);
        opk_mat X = {x, n, F, F}, Y = {y, n, F, F}, C = {c, 1, K + 1, K + 1};
        opk_fill(20 + (uint64_t)g, -1.0f, 2.0f, X);
        opk_fill(30 + (uint64_t)g, -1.0f, 0.5f, C);
        /* sum_k |c_k| ||T_k X||_inf, each T_k X from the double recurrence
         * with a unit coefficient vector. */
        double *yd = malloc(n * F * sizeof *yd), scale = 0.0;
        float *e = calloc(K + 1, sizeof *e);
        for (size_t k = 0; k <= K; k++) {
            e[k] = 1.0f; /* T_k X alone */
            ref_cheb(L.row_ptr, L.col_idx, L.val, n, 0.0f, lmax, e, k, x, F, F, yd);
            double m = 0.0;
            for (size_t i = 0; i < n * F; i++)
                m = fmax(m, fabs(yd[i]));
            scale += fabs(c[k]) * m;
            e[k] = 0.0f;
        }
        ref_cheb(L.row_ptr, L.col_idx, L.val, n, 0.0f, lmax, c, K, x, F, F, yd);
        const double tight = 4.0 * 0x1p-24 * sqrt(K + 1.0) * sqrt((double)mmax);
        for (int b = 0; b < nbackends; b++) {
            opk_ctx *ctx = test_ctx(backends[b], 2);
            poison(y, n * F);
            CHECK_ST(opk_cheb(ctx, L, 0.0f, lmax, c, K, opk_cmat_of(X), Y), OPK_OK);
            double tol, r = ref_cheb_error(L.row_ptr, L.col_idx, L.val, n, 0.0f,
                                           lmax, c, K, x, F, y, F, F, &tol);
            CHECK(r <= tol, "graph %d on %s: error/bound %.3g", g,
                  opk_backend_name(backends[b]), r);
            double err = 0.0;
            for (size_t i = 0; i < n * F; i++)
                err = fmax(err, fabs((double)y[i] - yd[i]));
            CHECK(err / scale <= tight, "graph %d on %s: relative error %.3g above "
                  "%.3g", g, opk_backend_name(backends[b]), err / scale, tight);
            if (b == 0)
                printf("double recurrence graph %d (n %zu F %zu K %zu): error/proven "
                       "bound %.3g, relative %.3g (tight bound %.3g)\n",
                       g, n, F, K, r, err / scale, tight);
            opk_ctx_destroy(ctx);
        }
        free(x), free(y), free(c), free(yd), free(e);
        opk_csr_free(&L);
    }
}

/* A low-pass step through opk_cheb on a diagonal L whose entries sweep
 * [0, 2]: Y_i = p(lambda_i). Undamped, Gibbs overshoots by ~9%; Jackson's
 * positive kernel keeps p in [0, 1] (up to float rounding); Lanczos sigma
 * lies between. */
static void test_jackson(void)
{
    const size_t n = 2001, K = 40;
    int64_t *rp = malloc((n + 1) * sizeof *rp);
    int32_t *ci = malloc(n * sizeof *ci);
    float *v = malloc(n * sizeof *v), *x = malloc(n * sizeof *x),
          *y = malloc(n * sizeof *y);
    for (size_t i = 0; i <= n; i++)
        rp[i] = (int64_t)i;
    for (size_t i = 0; i < n; i++)
        ci[i] = (int32_t)i, v[i] = (float)(2.0 * i / (n - 1)), x[i] = 1.0f;
    opk_csr L = {(int64_t)n, (int64_t)n, (int64_t)n, rp, ci, v};
    opk_cmat X = {x, n, 1, 1};
    opk_mat Y = {y, n, 1, 1};
    for (int b = 0; b < nbackends; b++) {
        opk_ctx *ctx = test_ctx(backends[b], 2);
        double over[3];
        for (int d = 0; d < 3; d++) {
            float c[41];
            CHECK_ST(opk_cheb_coeffs(OPK_FILTER_LOWPASS, 1.0f, K, 0.0f, 2.0f,
                                     (opk_damping)d, c), OPK_OK);
            poison(y, n);
            CHECK_ST(opk_cheb(ctx, L, 0.0f, 2.0f, c, K, X, Y), OPK_OK);
            over[d] = 0.0;
            for (size_t i = 0; i < n; i++)
                over[d] = fmax(over[d], fmax(y[i] - 1.0, -(double)y[i]));
        }
        CHECK(over[0] > 0.05 && over[1] < 1e-4 && over[1] < over[0] / 5 &&
                  over[2] < over[0],
              "%s: overshoot none %.3g jackson %.3g lanczos %.3g",
              opk_backend_name(backends[b]), over[0], over[1], over[2]);
        if (b == 0)
            printf("step filter K=40 overshoot: none %.3g, jackson %.3g, lanczos "
                   "%.3g\n", over[0], over[1], over[2]);
        opk_ctx_destroy(ctx);
    }
    free(rp), free(ci), free(v), free(x), free(y);
}

/* ---- small cases and errors --------------------------------------------------------- */

static void test_small(void)
{
    opk_csr L = grid_laplacian(3, 3, 2, 1, OPK_LAPLACIAN_SYMMETRIC);
    float x[27], y[27], c[3] = {0.75f, -0.5f, 0.25f};
    opk_mat Xm = {x, 9, 3, 3};
    opk_fill(1, -1.0f, 2.0f, Xm);
    opk_cmat X = {x, 9, 3, 3};
    opk_mat Y = {y, 9, 3, 3};
    for (int b = 0; b < nbackends; b++) {
        opk_ctx *ctx = test_ctx(backends[b], 2);
        /* K = 0 is fl(c0 X). */
        CHECK_ST(opk_cheb(ctx, L, 0.0f, 2.0f, c, 0, X, Y), OPK_OK);
        int ok = 1;
        for (int i = 0; i < 27; i++)
            ok &= oracle_same_bits(y[i], c[0] * x[i]);
        CHECK(ok, "%s: K = 0 is not c0 X", opk_backend_name(backends[b]));
        /* Zero sizes do nothing and succeed. */
        for (int i = 0; i < 27; i++)
            y[i] = 7.0f;
        opk_cmat X0 = {x, 9, 0, 0};
        opk_mat Y0 = {y, 9, 0, 0};
        CHECK_ST(opk_cheb(ctx, L, 0.0f, 2.0f, c, 2, X0, Y0), OPK_OK);
        opk_csr E = {0, 0, 0, NULL, NULL, NULL};
        opk_cmat Xe = {NULL, 0, 3, 3};
        opk_mat Ye = {NULL, 0, 3, 3};
        CHECK_ST(opk_cheb(ctx, E, 0.0f, 2.0f, c, 2, Xe, Ye), OPK_OK);
        CHECK(y[0] == 7.0f, "zero size wrote");
        /* Coefficients inside Y are read before Y is written. */
        float yc[28], yr[27];
        CHECK_ST(opk_cheb(ctx, L, 0.0f, 2.0f, c, 2, X, Y), OPK_OK);
        memcpy(yr, y, sizeof yr);
        memcpy(yc, c, sizeof c);
        opk_mat Yc = {yc, 9, 3, 3};
        CHECK_ST(opk_cheb(ctx, L, 0.0f, 2.0f, yc, 2, X, Yc), OPK_OK);
        CHECK(oracle_first_diff(yr, 3, yc, 3, 9, 3) < 0, "c inside Y changed the result");
        opk_ctx_destroy(ctx);
    }
    opk_csr_free(&L);
}

static void test_errors(void)
{
    opk_ctx *ctx = test_ctx(OPK_BACKEND_SCALAR, 2);
    static const int64_t rp[] = {0, 2, 3, 4}, rp_mono[] = {0, 3, 2, 4},
                         rp_nnz[] = {0, 2, 3, 3}, rp_first[] = {2, 2, 3, 4};
    static const int32_t ci[] = {0, 1, 2, 0}, ci_bad[] = {0, 1, 3, 0};
    static float v[] = {1, 2, 3, 4};
    float x[12], y[12], c[4] = {1, 2, 3, 4};
    for (int i = 0; i < 9; i++)
        x[i] = (float)i;
    opk_csr L = {3, 3, 4, rp, ci, v};
    opk_cmat X = {x, 3, 3, 3};
    opk_mat Y = {y, 3, 3, 3};
    float cn[4] = {1, 2, NAN, 4};
    float vy[16];
    for (int i = 0; i < 4; i++)
        vy[i] = v[i];
    opk_csr Lv = {3, 3, 4, rp, ci, vy};
    opk_mat Yv = {vy + 2, 3, 3, 3};
    struct {
        opk_csr L;
        float lmin, lmax;
        const float *c;
        size_t K;
        opk_cmat X;
        opk_mat Y;
        const char *msg;
    } bad[] = {
        {{3, 3, 4, rp_mono, ci, v}, 0, 2, c, 3, X, Y,
         "cheb: L: row_ptr is not monotone: row_ptr[2] = 2 < row_ptr[1] = 3"},
        {{3, 3, 4, rp_nnz, ci, v}, 0, 2, c, 3, X, Y,
         "cheb: L: row_ptr[3] (rows) is 3 but nnz is 4"},
        {{3, 3, 4, rp_first, ci, v}, 0, 2, c, 3, X, Y,
         "cheb: L: row_ptr[0] is 2"},
        {{3, 3, 4, rp, ci_bad, v}, 0, 2, c, 3, X, Y,
         "cheb: L: col_idx[2] = 3 (row 1) is out of range [0, 3)"},
        {{3, 3, 4, rp, NULL, v}, 0, 2, c, 3, X, Y, "cheb: L: col_idx is NULL"},
        {{3, 3, 4, NULL, ci, v}, 0, 2, c, 3, X, Y, "cheb: L: row_ptr is NULL"},
        {{3, 3, (int64_t)1 << 62, rp, ci, v}, 0, 2, c, 3, X, Y, "overflow"},
        {{3, 4, 4, rp, ci, v}, 0, 2, c, 3, X, Y, "cheb: L is 3x4, must be square"},
        {L, 0, 2, c, 3, (opk_cmat){x, 2, 3, 3}, Y, "cheb: X is 2x3, expected 3x3"},
        {L, 0, 2, c, 3, X, (opk_mat){y, 3, 2, 3}, "cheb: Y is 3x2, expected 3x3"},
        {L, 0, 2, c, 3, (opk_cmat){x, 3, 3, 2}, Y, "cheb: X: ld (2) is smaller"},
        {L, 0, 2, c, 3, (opk_cmat){NULL, 3, 3, 3}, Y, "cheb: X: data is NULL"},
        {L, 0, 2, c, 3, X, (opk_mat){NULL, 3, 3, 3}, "cheb: Y: data is NULL"},
        {L, 0, 2, c, 3, X, (opk_mat){x + 1, 3, 3, 3}, "X and Y overlap"},
        {Lv, 0, 2, c, 3, X, Yv, "Y overlaps L's arrays"},
        {L, 2, 2, c, 3, X, Y, "need finite lmin < lmax (got lmin 2, lmax 2)"},
        {L, NAN, 2, c, 3, X, Y, "need finite lmin < lmax"},
        {L, 0, INFINITY, c, 3, X, Y, "need finite lmin < lmax"},
        {L, -3e38f, 3e38f, c, 3, X, Y, "give no finite nonzero"},
        {L, 0, 2, NULL, 3, X, Y, "cheb: c is NULL (K + 1 = 4 coefficients"},
        {L, 0, 2, cn, 3, X, Y, "cheb: c[2] is nan, must be finite"},
        {L, 0, 2, c, SIZE_MAX, X, Y, "K (18446744073709551615) is too large"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        for (int i = 0; i < 12; i++)
            y[i] = -7.0f;
        for (int i = 4; i < 16; i++)
            vy[i] = -7.0f;
        opk_status st = opk_cheb(ctx, bad[k].L, bad[k].lmin, bad[k].lmax, bad[k].c,
                                 bad[k].K, bad[k].X, bad[k].Y);
        CHECK(st == OPK_ERR_INVALID_ARG, "case %zu: %s", k, opk_status_str(st));
        CHECK(strstr(opk_ctx_last_error(ctx), bad[k].msg) != NULL,
              "case %zu: '%s' lacks '%s'", k, opk_ctx_last_error(ctx), bad[k].msg);
        int untouched = 1;
        for (int i = 0; i < 12; i++)
            untouched &= y[i] == -7.0f;
        for (int i = 4; i < 16; i++)
            untouched &= vy[i] == -7.0f;
        CHECK(untouched, "case %zu: output written on error", k);
    }
    CHECK_ST(opk_cheb(NULL, L, 0, 2, c, 3, X, Y), OPK_ERR_INVALID_ARG);
    CHECK(strstr(opk_ctx_last_error(NULL), "ctx is NULL") != NULL, "%s",
          opk_ctx_last_error(NULL));
    CHECK_ST(opk_cheb(ctx, L, 0, 2, c, 3, X, Y), OPK_OK);
    opk_ctx_destroy(ctx);
}

/* F = 1 with X padded (X.ld = 3) and Y packed (Y.ld = 1): the strides of
 * v, w, t, y differ, so the kernels' all-strides-1 shortcut must not be
 * taken for the k = 2 order, whose w is X. Bitwise equal to the packed X. */
static void test_f1_mixed_ld(void)
{
    const size_t n = 97, K = 4, ldx = 3;
    tcsr t = random_csr(n, 4, 77, 0);
    float c[5] = {0.5f, -0.25f, 0.125f, 0.75f, -0.5f};
    float *xp = malloc(n * ldx * sizeof *xp), *x1 = malloc(n * sizeof *x1);
    float *ya = malloc(n * sizeof *ya), *yb = malloc(n * sizeof *yb);
    for (size_t i = 0; i < n; i++) {
        x1[i] = (float)(opk_rand(78, i) >> 40) * 0x1p-24f - 0.5f;
        xp[i * ldx] = x1[i], xp[i * ldx + 1] = xp[i * ldx + 2] = 1e30f;
    }
    for (int b = 0; b < nbackends; b++) {
        opk_ctx *ctx = test_ctx(backends[b], 1);
        CHECK_ST(opk_cheb(ctx, t.A, 0.0f, 2.0f, c, K, (opk_cmat){x1, n, 1, 1},
                          (opk_mat){ya, n, 1, 1}), OPK_OK);
        CHECK_ST(opk_cheb(ctx, t.A, 0.0f, 2.0f, c, K, (opk_cmat){xp, n, 1, ldx},
                          (opk_mat){yb, n, 1, 1}), OPK_OK);
        CHECK(memcmp(ya, yb, n * sizeof *ya) == 0,
              "%s: F = 1, X.ld 3 and Y.ld 1 differ from packed X",
              opk_backend_name(backends[b]));
        opk_ctx_destroy(ctx);
    }
    free(xp), free(x1), free(ya), free(yb);
    tcsr_free(&t);
}

int main(void)
{
    nbackends = test_backends_for(OPK_KERNEL_CHEB, backends);
    CHECK(nbackends > 0 && backends[0] == OPK_BACKEND_SCALAR, "no scalar backend");
    test_small();
    test_errors();
    test_spec_bitwise();
    test_backends_threads();
    test_heat_vs_eig();
    test_vs_double();
    test_jackson();
    test_f1_mixed_ld();
    return check_summary("test_cheb");
}
