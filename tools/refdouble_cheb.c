/* Double-precision Chebyshev propagation with a rounding-error bound, and a
 * Jacobi eigensolver for dense checks (see refdouble.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "refdouble.h"

typedef struct cheb_run {
    double *yd;   /* n x F result */
    double *sabs; /* n x F: sum_k |c_k| |T_k| */
    double *ek;   /* F: sum_k |c_k| ||e_k||_2 (the propagated error bound) */
} cheb_run;

/* The double recurrence; with `bound`, also the error-bound terms. */
static int run(const int64_t *rp, const int32_t *ci, const float *val,
               size_t n, float lmin, float lmax, const float *c, size_t K,
               const float *x, size_t ldx, size_t F, int bound, cheb_run *R)
{
    const float df = lmax - lmin, sf = lmax + lmin;
    const double alpha = (double)(2.0f / df), gamma = (double)(-sf / df);
    const double u = ldexp(1.0, -24);
    const size_t nf = n * F;
    double *T0 = malloc((nf ? nf : 1) * sizeof(double));
    double *T1 = malloc((nf ? nf : 1) * sizeof(double));
    double *T2 = malloc((nf ? nf : 1) * sizeof(double));
    double *s1 = calloc(F + 1, sizeof(double)), *s2 = calloc(F + 1, sizeof(double));
    double *dsq = calloc(F + 1, sizeof(double));
    if (!T0 || !T1 || !T2 || !s1 || !s2 || !dsq) {
        free(T0), free(T1), free(T2), free(s1), free(s2), free(dsq);
        return -1;
    }
    const double c0 = c[0];
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < F; f++) {
            double v = x[i * ldx + f];
            T1[i * F + f] = v; /* T1 holds T_{k-1}, T0 T_{k-2} */
            R->yd[i * F + f] = c0 * v;
            if (bound)
                R->sabs[i * F + f] = fabs(c0 * v);
        }
    if (bound)
        for (size_t f = 0; f < F; f++)
            R->ek[f] = 0.0;
    for (size_t k = 1; k <= K; k++) {
        const double ck = c[k];
        memset(dsq, 0, F * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            const double m = (double)(rp[i + 1] - rp[i]);
            for (size_t f = 0; f < F; f++) {
                double p = 0.0, pa = 0.0;
                for (int64_t q = rp[i]; q < rp[i + 1]; q++) {
                    double vj = T1[(size_t)ci[q] * F + f];
                    p += (double)val[q] * vj;
                    pa += fabs((double)val[q] * vj);
                }
                double vi = T1[i * F + f];
                double a = alpha * p + gamma * vi;
                double w = k == 1 ? 0.0 : T0[i * F + f];
                double t = k == 1 ? a : 2.0 * a - w;
                T2[i * F + f] = t;
                R->yd[i * F + f] += ck * t;
                if (bound) {
                    double M = fabs(alpha) * pa + fabs(gamma) * fabs(vi);
                    double d = u * ((2.0 * m + 8.0) * M + 2.0 * fabs(w));
                    dsq[f] += d * d;
                    R->sabs[i * F + f] += fabs(ck * t);
                }
            }
        }
        if (bound)
            for (size_t f = 0; f < F; f++) {
                double d = sqrt(dsq[f]);
                s1[f] += d;
                s2[f] += (double)k * d;
                R->ek[f] += fabs(ck) * ((double)(k + 1) * s1[f] - s2[f]);
            }
        double *tmp = T0;
        T0 = T1, T1 = T2, T2 = tmp;
    }
    free(T0), free(T1), free(T2), free(s1), free(s2), free(dsq);
    return 0;
}

int ref_cheb(const int64_t *row_ptr, const int32_t *col_idx,
                const float *val, size_t n, float lmin, float lmax,
                const float *c, size_t K, const float *x, size_t ldx,
                size_t F, double *yd)
{
    cheb_run R = {yd, NULL, NULL};
    return run(row_ptr, col_idx, val, n, lmin, lmax, c, K, x, ldx, F, 0, &R);
}

double ref_cheb_error(const int64_t *row_ptr, const int32_t *col_idx,
                      const float *val, size_t n, float lmin, float lmax,
                      const float *c, size_t K, const float *x, size_t ldx,
                      const float *y, size_t ldy, size_t F, double *tol)
{
    *tol = 1.0;
    const size_t nf = n * F;
    cheb_run R;
    R.yd = malloc((nf ? nf : 1) * sizeof(double));
    R.sabs = malloc((nf ? nf : 1) * sizeof(double));
    R.ek = malloc((F ? F : 1) * sizeof(double));
    if (!R.yd || !R.sabs || !R.ek ||
        run(row_ptr, col_idx, val, n, lmin, lmax, c, K, x, ldx, F, 1, &R)) {
        free(R.yd), free(R.sabs), free(R.ek);
        return INFINITY;
    }
    const double u = ldexp(1.0, -24);
    double worst = 0.0;
    for (size_t f = 0; f < F; f++) {
        double err = 0.0, sa = 0.0;
        for (size_t i = 0; i < n; i++) {
            double d = (double)y[i * ldy + f] - R.yd[i * F + f];
            err += d * d;
            sa += R.sabs[i * F + f] * R.sabs[i * F + f];
        }
        err = sqrt(err);
        double B = 2.2 * (R.ek[f] + u * (double)(K + 2) * sqrt(sa));
        double r = isnan(err) ? INFINITY : err == 0.0 ? 0.0 : err / B;
        if (r > worst || isnan(r))
            worst = r;
    }
    free(R.yd), free(R.sabs), free(R.ek);
    return worst;
}

int ref_sym_eig(size_t n, double *A, double *w, double *V)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            V[i * n + j] = i == j;
    int sweeps = 0;
    for (; sweeps < 100; sweeps++) {
        double off = 0.0, tot = 0.0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                tot += A[i * n + j] * A[i * n + j];
                if (i != j)
                    off += A[i * n + j] * A[i * n + j];
            }
        if (off <= 1e-30 * tot || off == 0.0)
            break;
        for (size_t p = 0; p < n; p++)
            for (size_t q = p + 1; q < n; q++) {
                double apq = A[p * n + q];
                if (apq == 0.0)
                    continue;
                /* Rotation zeroing A[p][q] (Golub & Van Loan 8.5.2). */
                double tau = (A[q * n + q] - A[p * n + p]) / (2.0 * apq);
                double t = (tau >= 0 ? 1.0 : -1.0) /
                           (fabs(tau) + sqrt(1.0 + tau * tau));
                double cs = 1.0 / sqrt(1.0 + t * t), sn = t * cs;
                for (size_t k = 0; k < n; k++) { /* columns p, q */
                    double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = cs * akp - sn * akq;
                    A[k * n + q] = sn * akp + cs * akq;
                }
                for (size_t k = 0; k < n; k++) { /* rows p, q */
                    double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = cs * apk - sn * aqk;
                    A[q * n + k] = sn * apk + cs * aqk;
                }
                for (size_t k = 0; k < n; k++) {
                    double vkp = V[k * n + p], vkq = V[k * n + q];
                    V[k * n + p] = cs * vkp - sn * vkq;
                    V[k * n + q] = sn * vkp + cs * vkq;
                }
            }
    }
    if (sweeps == 100)
        return -1;
    /* Sort ascending, moving eigenvector columns along. */
    for (size_t i = 0; i < n; i++)
        w[i] = A[i * n + i];
    for (size_t i = 0; i < n; i++) {
        size_t m = i;
        for (size_t j = i + 1; j < n; j++)
            if (w[j] < w[m])
                m = j;
        if (m != i) {
            double t = w[i];
            w[i] = w[m], w[m] = t;
            for (size_t k = 0; k < n; k++) {
                t = V[k * n + i];
                V[k * n + i] = V[k * n + m];
                V[k * n + m] = t;
            }
        }
    }
    return sweeps;
}
