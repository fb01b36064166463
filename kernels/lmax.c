/* An upper bound of the spectrum of a sparse operator (SPEC 3.3): Lanczos
 * in double for symmetric L, capped by the Gershgorin bound, which is also
 * the answer for non-symmetric L. Host code, deterministic for a given
 * build: products are per row in stored order, dot products serial. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../dispatch/ctx.h"
#include "common.h"
#include "csr.h"

#define LANCZOS_STEPS 100
/* Full reorthogonalization while the basis takes at most this many
 * doubles (16 MiB); beyond, plain Lanczos, whose largest Ritz value still
 * converges to lambda_max (lost orthogonality only adds copies). */
#define REORTH_DOUBLES ((size_t)2 << 20)

static void spmv(opk_csr L, const double *x, double *y, int nt)
{
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t i = 0; i < L.rows; i++) {
        double s = 0.0;
        for (int64_t q = L.row_ptr[i]; q < L.row_ptr[i + 1]; q++)
            s += (double)L.val[q] * x[L.col_idx[q]];
        y[i] = s;
    }
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static void axpy(double a, const double *x, double *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] -= a * x[i];
}

/* Number of eigenvalues of the tridiagonal (d, e) below x (Sturm count). */
static size_t sturm(const double *d, const double *e, size_t m, double x)
{
    size_t cnt = 0;
    double q = 1.0;
    for (size_t i = 0; i < m; i++) {
        double off = i ? e[i] * e[i] / q : 0.0;
        q = d[i] - x - off;
        if (q == 0.0)
            q = -1e-300;
        cnt += q < 0;
    }
    return cnt;
}

/* Largest eigenvalue of the symmetric tridiagonal (d[0..m), e[1..m)). */
static double tridiag_max(const double *d, const double *e, size_t m)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < m; i++) {
        double r = (i ? fabs(e[i]) : 0.0) + (i + 1 < m ? fabs(e[i + 1]) : 0.0);
        lo = fmin(lo, d[i] - r);
        hi = fmax(hi, d[i] + r);
    }
    for (int it = 0; it < 200 && hi - lo > 1e-15 * fmax(fabs(lo), fabs(hi));
         it++) {
        double mid = 0.5 * (lo + hi);
        if (sturm(d, e, m, mid) == m) /* all below mid */
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* Largest Ritz value after min(n, LANCZOS_STEPS) steps from a fixed
 * pseudo-random start (any fixed vector orthogonal to no eigenvector would
 * do; the constant vector would not: it is the kernel of D - A). */
static opk_status lanczos(opk_ctx *ctx, opk_csr L, double scale, double *theta)
{
    const size_t n = (size_t)L.rows;
    const size_t m = n < LANCZOS_STEPS ? n : LANCZOS_STEPS;
    const int reorth = n * m <= REORTH_DOUBLES;
    const size_t nbasis = reorth ? m + 1 : 2;
    double *V = opk_calloc(nbasis * n, sizeof *V);
    double *w = opk_calloc(n, sizeof *w);
    double *al = opk_calloc(m, sizeof *al), *be = opk_calloc(m + 1, sizeof *be);
    if (!V || !w || !al || !be) {
        opk_free(V), opk_free(w), opk_free(al), opk_free(be);
        return opk_fail(ctx, OPK_ERR_NOMEM, "lmax: cannot allocate the "
                        "Lanczos basis (%zu x %zu doubles)", nbasis, n);
    }
    for (size_t i = 0; i < n; i++)
        V[i] = (double)(opk_rand(0x6c6d6178u, i) >> 11) * 0x1p-53 - 0.5;
    double nr = sqrt(dot(V, V, n));
    for (size_t i = 0; i < n; i++)
        V[i] /= nr;
    int nt = opk_threads_for(ctx, n, 64);
    size_t steps = 0;
    be[0] = 0.0;
    for (size_t j = 0; j < m; j++) {
        double *v = V + (reorth ? j : j % 2) * n;
        double *vp = V + (reorth ? j - (j > 0) : (j + 1) % 2) * n;
        spmv(L, v, w, nt);
        al[j] = dot(w, v, n);
        axpy(al[j], v, w, n);
        if (j > 0)
            axpy(be[j], vp, w, n);
        if (reorth) /* twice is enough (Giraud et al.) */
            for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i <= j; i++)
                    axpy(dot(w, V + i * n, n), V + i * n, w, n);
        steps = j + 1;
        be[j + 1] = sqrt(dot(w, w, n));
        if (be[j + 1] <= 1e-12 * scale) /* invariant subspace: exact */
            break;
        double *vn = reorth ? V + (j + 1) * n : vp;
        for (size_t i = 0; i < n; i++)
            vn[i] = w[i] / be[j + 1];
    }
    *theta = tridiag_max(al, be, steps);
    opk_free(V), opk_free(w), opk_free(al), opk_free(be);
    return OPK_OK;
}

opk_status opk_lmax(opk_ctx *ctx, opk_csr L, float *lmax)
{
    if (!ctx)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "lmax: ctx is NULL");
    if (!lmax)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG, "lmax: lmax is NULL");
    opk_status st;
    if ((st = opk_check_csr(ctx, "lmax: L", L, ctx->num_threads)))
        return st;
    if (L.rows != L.cols)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "lmax: L is %lldx%lld, must be square",
                        (long long)L.rows, (long long)L.cols);
    if ((st = opk_check_csr_values(ctx, "lmax: L", L, 0)))
        return st;
    if (L.rows == 0) {
        *lmax = 0.0f;
        return OPK_OK;
    }
    /* Gershgorin: every eigenvalue has real part <= L_ii + sum |L_ij|. */
    double g = -INFINITY, scale = 0.0;
    for (int64_t i = 0; i < L.rows; i++) {
        double c = 0.0, r = 0.0;
        for (int64_t q = L.row_ptr[i]; q < L.row_ptr[i + 1]; q++) {
            if (L.col_idx[q] == i)
                c += L.val[q];
            else
                r += fabs((double)L.val[q]);
            scale = fmax(scale, fabs((double)L.val[q]));
        }
        g = fmax(g, c + r);
    }
    double est = g;
    opk_canon C;
    if ((st = opk_canon_of(ctx, L, &C)))
        return st;
    int64_t bi, bj;
    int sym = opk_canon_symmetric(&C, 1e-6, &bi, &bj);
    opk_canon_free(&C);
    if (sym && scale > 0) {
        double theta = 0.0;
        if ((st = lanczos(ctx, L, scale, &theta)))
            return st;
        est = fmin(theta + 0.01 * fabs(theta), g);
    }
    float f = (float)est;
    if ((double)f < est)
        f = nextafterf(f, INFINITY);
    if (isinf(f))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "lmax: the bound (%g) is past the float range (L's "
                        "values are too large)",
                        est);
    *lmax = f;
    return OPK_OK;
}
