/* libFuzzer harness: the graph tooling of opk.h (opk_csr_check,
 * opk_graph_from_edges, opk_graph_grid, opk_laplacian, opk_lmax,
 * opk_cheb_coeffs, opk_cheb_coeffs_fn, opk_csr_free). The input gives sizes
 * (hostile ones only where the checks must reject them: a valid huge graph
 * would just take long), edge lists and CSR operands in exact-size buffers,
 * Laplacian kinds, filters, damping, K, lmin/lmax and parameters as raw
 * bits. Each call must return the status the SPEC 7 oracle below predicts
 * (a message when it fails), leave its output untouched on failure, and on
 * success give a result that passes opk_csr_check and is what the SPEC
 * says (a symmetric unit graph; the Laplacian entry by entry, recomputed
 * here in double; lmax between the largest diagonal and the Gershgorin
 * bound). Results are freed: LeakSanitizer sees any leak. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opk.h"

#include "harness.h"

#define MAXN 64 /* rows of make_csr at most: operands checked densely */

static void expect(int ok, const char *what, opk_status st, const opk_ctx *ctx)
{
    if (!ok)
        fail(what, st, (opk_ctx *)ctx);
}

/* The status matches the oracle; a failure has a message. */
static void status_ok(const char *what, opk_status st, int definite,
                      int may_reject, const opk_ctx *ctx)
{
    if (definite)
        expect(st == OPK_ERR_INVALID_ARG, what, st, ctx);
    else
        expect(st == OPK_OK || (may_reject && st == OPK_ERR_INVALID_ARG), what,
               st, ctx);
    if (st != OPK_OK)
        expect(*opk_ctx_last_error(ctx) != 0, "no message", st, ctx);
}

/* Exact-size copies of an fcsr's arrays (ASan: no read past them); hostile
 * sizes keep the original pointers, which the checks must not follow. */
typedef struct xcsr {
    opk_csr A;
    void *p[3];
} xcsr;

static void *dup_or_null(const void *src, size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        abort();
    memcpy(p, src, bytes);
    return p;
}

static xcsr exact(const fcsr *c)
{
    xcsr x = {c->A, {NULL, NULL, NULL}};
    if (x.A.row_ptr && x.A.rows >= 0 && x.A.rows <= 64)
        x.A.row_ptr = x.p[0] = dup_or_null(c->A.row_ptr, ((size_t)x.A.rows + 1) * 8);
    if (x.A.col_idx)
        x.A.col_idx = x.p[1] = dup_or_null(c->A.col_idx, c->m * 4);
    if (x.A.val)
        x.A.val = x.p[2] = dup_or_null(c->A.val, c->m * 4);
    return x;
}

static void xfree(xcsr *x)
{
    free(x->p[0]), free(x->p[1]), free(x->p[2]);
}

/* A[i][j] summed in stored order in double, and which (i, j) are stored. */
typedef struct dense {
    double a[MAXN][MAXN];
    unsigned char present[MAXN][MAXN];
} dense;

static void to_dense(const opk_csr *A, dense *D)
{
    memset(D, 0, sizeof *D);
    for (int64_t i = 0; i < A->rows; i++)
        for (int64_t q = A->row_ptr[i]; q < A->row_ptr[i + 1]; q++) {
            D->a[i][A->col_idx[q]] += (double)A->val[q];
            D->present[i][A->col_idx[q]] = 1;
        }
}

static int values_bad(const opk_csr *A, int nonneg)
{
    for (int64_t q = 0; q < A->nnz; q++)
        if (!isfinite(A->val[q]) || (nonneg && A->val[q] < 0))
            return 1;
    return 0;
}

/* SPEC 3.3's symmetry test (relative 1e-6 on the summed entries). */
static int dense_symmetric(const dense *D, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            double a = D->a[i][j], b = D->a[j][i];
            if (i != j && fabs(a - b) > 1e-6 * fmax(fabs(a), fabs(b)))
                return 0;
        }
    return 1;
}

/* A result: valid, square n, columns strictly ascending in every row. */
static void check_result(const char *what, const opk_csr *A, int64_t n)
{
    expect(opk_csr_check(NULL, *A) == OPK_OK && A->rows == n && A->cols == n,
           what, OPK_OK, NULL);
    for (int64_t i = 0; i < n; i++)
        for (int64_t q = A->row_ptr[i] + 1; q < A->row_ptr[i + 1]; q++)
            expect(A->col_idx[q - 1] < A->col_idx[q], what, OPK_OK, NULL);
}

/* A unit-weight undirected graph: symmetric, no self-loop, values 1. */
static void check_unit_graph(const char *what, const opk_csr *A, int64_t n)
{
    check_result(what, A, n);
    for (int64_t i = 0; i < n; i++)
        for (int64_t q = A->row_ptr[i]; q < A->row_ptr[i + 1]; q++) {
            int32_t j = A->col_idx[q];
            int mirrored = 0;
            for (int64_t t = A->row_ptr[j]; t < A->row_ptr[j + 1]; t++)
                mirrored |= A->col_idx[t] == i;
            expect(j != i && A->val[q] == 1.0f && mirrored, what, OPK_OK, NULL);
        }
}

static int has_edge(const opk_csr *A, int32_t i, int32_t j)
{
    for (int64_t q = A->row_ptr[i]; q < A->row_ptr[i + 1]; q++)
        if (A->col_idx[q] == j)
            return 1;
    return 0;
}

/* The output slot: NULL sometimes, else a view filled with a pattern that
 * a failing call must leave as it is. */
static opk_csr *out_slot(rd *r, opk_csr *slot, opk_csr *copy)
{
    memset(slot, 0xa5, sizeof *slot);
    memcpy(copy, slot, sizeof *slot);
    return (take(r, 1) & 31) == 0 ? NULL : slot;
}

/* ---- opk_graph_from_edges ---- */
static void from_edges(rd *r)
{
    uint8_t nb = (uint8_t)take(r, 1);
    static const int64_t hostile[] = {-1, (int64_t)INT32_MAX + 1, INT64_MAX,
                                      INT64_MIN, -((int64_t)1 << 40)};
    int64_t n = nb < 245 ? nb % 48 : hostile[nb % 5];
    size_t m = (size_t)take(r, 1) % 64;
    int32_t *u = malloc(m ? m * 4 : 1), *v = malloc(m ? m * 4 : 1);
    if (!u || !v)
        abort();
    int range_bad = 0;
    for (size_t e = 0; e < m; e++) {
        for (int k = 0; k < 2; k++) {
            uint8_t b = (uint8_t)take(r, 1);
            int32_t x = b < 248 && n > 0 && n <= 48 ? (int32_t)(b % n)
                        : b % 4 == 0 ? -1 : b % 4 == 1 ? (int32_t)(n > 0 && n <= 48 ? n : 7)
                        : b % 4 == 2 ? INT32_MIN : INT32_MAX;
            (k ? v : u)[e] = x;
            range_bad |= x < 0 || x >= n;
        }
    }
    uint8_t pm = (uint8_t)take(r, 1);
    const int32_t *up = pm % 16 == 1 ? NULL : u, *vp = pm % 16 == 2 ? NULL : v;
    opk_csr slot, copy, *A = out_slot(r, &slot, &copy);
    opk_status st = opk_graph_from_edges(n, m, up, vp, A);
    int definite = !A || n < 0 || n > INT32_MAX || (m && (!up || !vp)) ||
                   (m && range_bad);
    status_ok("graph_from_edges: status differs from the oracle", st, definite,
              0, NULL);
    if (st == OPK_OK) {
        check_unit_graph("graph_from_edges: bad result", A, n);
        int64_t want = 0; /* entries: both directions of each distinct edge */
        for (size_t e = 0; e < m; e++) {
            expect(u[e] == v[e] || has_edge(A, u[e], v[e]),
                   "graph_from_edges: an edge is missing", st, NULL);
            int first = u[e] != v[e];
            for (size_t f = 0; f < e && first; f++)
                first = !((u[f] == u[e] && v[f] == v[e]) ||
                          (u[f] == v[e] && v[f] == u[e]));
            want += 2 * first;
        }
        expect(A->nnz == want, "graph_from_edges: extra entries", st, NULL);
        opk_csr_free(A);
        expect(A->row_ptr == NULL && A->nnz == 0, "csr_free", st, NULL);
    } else {
        expect(!memcmp(&slot, &copy, sizeof slot),
               "graph_from_edges: output written on failure", st, NULL);
    }
    free(u), free(v);
}

/* ---- opk_graph_grid ---- */
static void grid(rd *r)
{
    uint8_t b = (uint8_t)take(r, 1);
    size_t rows = b % 9, cols = (size_t)take(r, 1) % 9, extra = (size_t)take(r, 1) % 40;
    switch (b >> 4) { /* hostile sizes, all to be rejected */
    case 15: rows = cols = (size_t)1 << 32; break;    /* rows * cols overflows */
    case 14: rows = cols = (size_t)1 << 16; break;    /* > 2^31 - 1 nodes */
    case 13: rows = 0, extra = 1 + extra; break;      /* extra edges, no node */
    case 12: extra = SIZE_MAX - (b & 1); break;       /* 2n + extra overflows */
    case 11: extra = SIZE_MAX / 4 + 1; break;         /* entries overflow */
    default: break;
    }
    uint64_t seed = take(r, 8);
    opk_csr slot, copy, *A = out_slot(r, &slot, &copy);
    opk_status st = opk_graph_grid(rows, cols, extra, seed, A);
    size_t n = 0, und = 0, cap = 0;
    int definite = !A || __builtin_mul_overflow(rows, cols, &n) || n > INT32_MAX ||
                   (n == 0 && extra > 0) || __builtin_add_overflow(2 * n, extra, &und) ||
                   __builtin_mul_overflow(und, (size_t)2, &cap) || cap > SIZE_MAX / 4;
    status_ok("graph_grid: status differs from the oracle", st, definite, 0, NULL);
    if (st == OPK_OK) {
        check_unit_graph("graph_grid: bad result", A, (int64_t)n);
        for (size_t i = 0; i < rows; i++) /* the torus links are there */
            for (size_t j = 0; j < cols; j++) {
                int32_t me = (int32_t)(i * cols + j);
                int32_t right = (int32_t)(i * cols + (j + 1) % cols);
                int32_t down = (int32_t)(((i + 1) % rows) * cols + j);
                expect((right == me || has_edge(A, me, right)) &&
                           (down == me || has_edge(A, me, down)),
                       "graph_grid: a torus link is missing", st, NULL);
            }
        opk_csr_free(A);
    } else {
        expect(!memcmp(&slot, &copy, sizeof slot),
               "graph_grid: output written on failure", st, NULL);
    }
}

/* ---- opk_laplacian ---- */
static fcsr Ac;
static dense D;

static void laplacian(rd *r)
{
    make_csr(r, &Ac, (int64_t)(take(r, 1) % 24), NULL);
    xcsr x = exact(&Ac);
    const opk_csr A = x.A;
    int kind = (int)(take(r, 1) % 5) - 1;
    opk_csr slot, copy, *L = out_slot(r, &slot, &copy);
    opk_status st = opk_laplacian(A, (opk_laplacian_kind)kind, L);
    int definite = !L || !Ac.valid || A.rows != A.cols || kind < 0 || kind > 2 ||
                   values_bad(&A, 1);
    if (!definite) {
        to_dense(&A, &D);
        definite = !dense_symmetric(&D, A.rows);
    }
    if (!definite && kind == OPK_LAPLACIAN_COMBINATORIAL) /* past float: error */
        for (int64_t i = 0; i < A.rows; i++) {
            double dg = 0.0;
            for (int64_t j = 0; j < A.rows; j++)
                dg += D.a[i][j];
            for (int64_t j = 0; dg > 0 && j < A.rows; j++)
                definite |= isinf((float)(j == i ? dg - D.a[i][i] : -D.a[i][j]));
        }
    status_ok("laplacian: status differs from the oracle", st, definite, 0, NULL);
    if (st != OPK_OK) {
        expect(!memcmp(&slot, &copy, sizeof slot),
               "laplacian: output written on failure", st, NULL);
        xfree(&x);
        return;
    }
    const int64_t n = A.rows;
    check_result("laplacian: bad result", L, n);
    /* Entry by entry: the SPEC's formulas in double, rounded once. */
    double deg[MAXN];
    for (int64_t i = 0; i < n; i++) {
        deg[i] = 0.0;
        for (int64_t j = 0; j < n; j++)
            deg[i] += D.a[i][j];
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t q = L->row_ptr[i], end = L->row_ptr[i + 1];
        if (!(deg[i] > 0)) {
            expect(q == end, "laplacian: isolated node with entries", st, NULL);
            continue;
        }
        for (int32_t j = 0; j < n; j++) {
            if (j != i && !D.present[i][j])
                continue;
            double a = D.a[i][j], want;
            if (j == i)
                want = kind == OPK_LAPLACIAN_COMBINATORIAL ? deg[i] - a : 1.0 - a / deg[i];
            else if (kind == OPK_LAPLACIAN_COMBINATORIAL)
                want = -a;
            else if (kind == OPK_LAPLACIAN_RANDOM_WALK)
                want = -a / deg[i];
            else
                want = deg[j] > 0 ? -a / sqrt(deg[i] * deg[j]) : -0.0;
            float wf = (float)want;
            expect(q < end && L->col_idx[q] == j && !memcmp(&L->val[q], &wf, 4),
                   "laplacian: an entry differs from the SPEC formula", st, NULL);
            q++;
        }
        expect(q == end, "laplacian: extra entries", st, NULL);
    }
    opk_csr_free(L);
    xfree(&x);
}

/* ---- opk_lmax ---- */
static void lmax(rd *r, opk_ctx *ctx)
{
    make_csr(r, &Ac, (int64_t)(take(r, 1) % 24), NULL);
    xcsr x = exact(&Ac);
    const opk_csr L = x.A;
    uint8_t m = (uint8_t)take(r, 1);
    if (m % 32 == 0)
        ctx = NULL;
    float res = 1234.5f, *out = m % 32 == 1 ? NULL : &res;
    opk_status st = opk_lmax(ctx, L, out);
    int definite = !ctx || !out || !Ac.valid || L.rows != L.cols || values_bad(&L, 0);
    /* A Gershgorin bound past the float range may make the result one. */
    int huge = 0;
    for (int64_t i = 0; !definite && i < L.rows; i++) {
        double g = 0.0;
        for (int64_t q = L.row_ptr[i]; q < L.row_ptr[i + 1]; q++)
            g += L.col_idx[q] == i ? L.val[q] : fabs((double)L.val[q]);
        huge |= g > FLT_MAX;
    }
    status_ok("lmax: status differs from the oracle", st, definite, huge, ctx);
    if (st != OPK_OK) {
        expect(res == 1234.5f, "lmax: output written on failure", st, ctx);
    } else if (L.rows == 0) {
        expect(res == 0.0f, "lmax: empty operator", st, ctx);
    } else {
        /* Gershgorin as the SPEC states it (an upper bound of the result),
         * and the largest diagonal entry (a lower bound of lambda_max, up
         * to the rounding of products over stored entries: scale is the
         * largest row sum of their magnitudes, before any cancellation;
         * e.g. a diagonal stored as 3.25 + 0.75 - 4 may give -3e-19). */
        double g = -INFINITY, dmax = -INFINITY, scale = 0.0;
        for (int64_t i = 0; i < L.rows; i++) {
            double c = 0.0, s = 0.0, mag = 0.0;
            for (int64_t q = L.row_ptr[i]; q < L.row_ptr[i + 1]; q++) {
                if (L.col_idx[q] == i)
                    c += L.val[q];
                else
                    s += fabs((double)L.val[q]);
                mag += fabs((double)L.val[q]);
            }
            g = fmax(g, c + s), dmax = fmax(dmax, c), scale = fmax(scale, mag);
        }
        float gf = (float)g;
        if ((double)gf < g)
            gf = nextafterf(gf, INFINITY);
        expect(!isnan(res) && res <= gf, "lmax: above the Gershgorin bound", st, ctx);
        expect((double)res >= dmax - 1e-5 * scale,
               "lmax: below the largest diagonal entry", st, ctx);
    }
    xfree(&x);
}

/* ---- opk_cheb_coeffs, opk_cheb_coeffs_fn ---- */
typedef struct user_fn {
    int mode; /* 0: a lambda + b; 1: NaN above thr; 2: inf above thr; 3: 1e300 */
    double a, b, thr;
    int calls;
} user_fn;

static double h_user(double lambda, void *p)
{
    user_fn *u = p;
    u->calls++;
    if (u->mode == 1 && lambda > u->thr)
        return NAN;
    if (u->mode == 2 && lambda > u->thr)
        return INFINITY;
    if (u->mode == 3)
        return 1e300;
    return u->a * lambda + u->b;
}

static void coeffs(rd *r)
{
    uint8_t fb = (uint8_t)take(r, 1);
    int use_fn = fb & 1;
    static const int bad_kind[] = {-1, 2, 3, 1000};
    int kind = fb < 240 ? (fb >> 1) % 2 : bad_kind[fb % 4];
    float param = take_param(r);
    uint8_t kb = (uint8_t)take(r, 1);
    size_t K = kb < 250 ? (size_t)kb * 3 / 4 : kb < 253 ? ((size_t)1 << 20) + 1 : SIZE_MAX;
    float lmin, lmax;
    uint8_t bb = (uint8_t)take(r, 1);
    if (bb < 200) {
        lmin = (float)(bb % 5) - 2.0f, lmax = lmin + (float)(bb / 5 % 4);
    } else {
        lmin = take_param(r), lmax = take_param(r);
    }
    int damping = (int)(take(r, 1) % 5) - 1;
    size_t nc = K <= 1000 ? K + 1 : 4;
    float *c = malloc(nc * sizeof *c), *copy = malloc(nc * sizeof *copy);
    if (!c || !copy)
        abort();
    memset(c, 0x5a, nc * sizeof *c);
    memcpy(copy, c, nc * sizeof *c);
    float *cp = (take(r, 1) & 31) == 0 ? NULL : c;
    user_fn u = {(int)(take(r, 1) % 8), (double)((int)take(r, 1) % 17 - 8),
                 (double)((int)take(r, 1) % 17 - 8), (double)lmin + 0.5, 0};
    if (u.mode > 3)
        u.mode = 0;
    int common_bad = !cp || K > ((size_t)1 << 20) || !isfinite(lmin) ||
                     !isfinite(lmax) || !(lmin < lmax) || damping < 0 || damping > 2;
    opk_status st;
    int definite, may_reject;
    if (use_fn) {
        int null_fn = (fb & 0x0e) == 0x0e;
        st = opk_cheb_coeffs_fn(null_fn ? NULL : h_user, &u, K, lmin, lmax,
                                (opk_damping)damping, cp);
        definite = null_fn || common_bad;
        /* A non-finite or huge h is rejected by its values; a small affine
         * h on moderate bounds must give coefficients. */
        may_reject = !(u.mode == 0 && fabs(lmin) <= 1e6 && fabs(lmax) <= 1e6);
    } else {
        st = opk_cheb_coeffs((opk_filter)kind, param, K, lmin, lmax,
                             (opk_damping)damping, cp);
        definite = kind < 0 || kind > 1 || !isfinite(param) || common_bad;
        /* Heat: exp(-param lambda) may overflow on [lmin, lmax]. */
        may_reject = kind == OPK_FILTER_HEAT &&
                     fmax(-(double)param * lmin, -(double)param * lmax) >= 80.0;
    }
    status_ok("cheb_coeffs: status differs from the oracle", st, definite,
              may_reject, NULL);
    if (st != OPK_OK) {
        expect(!memcmp(c, copy, nc * sizeof *c),
               "cheb_coeffs: output written on failure", st, NULL);
    } else {
        for (size_t k = 0; k <= K; k++)
            expect(isfinite(c[k]), "cheb_coeffs: a coefficient is not finite",
                   st, NULL);
        /* Lowpass with the cutoff above lmax is the constant 1: c_0 (the
         * halved one) is exactly 1 whatever the damping. */
        if (!use_fn && kind == OPK_FILTER_LOWPASS && param > lmax)
            expect(c[0] == 1.0f, "cheb_coeffs: constant filter", st, NULL);
    }
    free(c), free(copy);
}

/* ---- opk_csr_check ---- */
static void csr_check(rd *r, opk_ctx *ctx)
{
    make_csr(r, &Ac, (int64_t)(take(r, 1) % 64), NULL);
    xcsr x = exact(&Ac);
    if (take(r, 1) & 1)
        ctx = NULL;
    opk_status st = opk_csr_check(ctx, x.A);
    status_ok("csr_check: status differs from the oracle", st, !Ac.valid, 0, ctx);
    opk_csr_free(NULL); /* a no-op */
    xfree(&x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd r = {data, size};
    opk_ctx *ctx = pick_ctx(&r);
    switch (take(&r, 1) % 6) {
    case 0: from_edges(&r); break;
    case 1: grid(&r); break;
    case 2: laplacian(&r); break;
    case 3: lmax(&r, ctx); break;
    case 4: coeffs(&r); break;
    case 5: csr_check(&r, ctx); break;
    }
    return 0;
}
