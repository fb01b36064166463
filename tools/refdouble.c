/* Double-precision reference evaluations (see refdouble.h for the metric). */
#include "refdouble.h"

#include <float.h>
#include <math.h>

static double metric(float y, double yd, int is_log)
{
    if (isnan(yd))
        return isnan(y) ? 0.0 : INFINITY;
    if (isnan(y))
        return INFINITY;
    if (isinf(yd) || isinf(y))
        return (double)y == yd ? 0.0 : INFINITY;
    double d = fabs((double)y - yd);
    return d / fmax(fabs(yd), is_log ? 1.0 : (double)FLT_MIN);
}

double ref_softmax_error(const float *x, size_t ldx, const float *y,
                         size_t ldy, size_t rows, size_t cols, float beta,
                         int by_cols, int is_log, double *tol)
{
    size_t nvec = by_cols ? cols : rows, len = by_cols ? rows : cols;
    size_t sx = by_cols ? 1 : ldx, sy = by_cols ? 1 : ldy; /* vector step */
    size_t ex = by_cols ? ldx : 1, ey = by_cols ? ldy : 1; /* element step */
    double worst = 0.0, T = 0.0;
    for (size_t v = 0; v < nvec; v++) {
        const float *xv = x + v * sx;
        const float *yv = y + v * sy;
        /* Classify with float t, exactly as the kernel must (SPEC 3.1). */
        int bad = 0;
        float mf = -INFINITY;
        double m = -INFINITY;
        for (size_t k = 0; k < len; k++) {
            float tf = beta * xv[k * ex];
            double t = (double)beta * (double)xv[k * ex];
            bad |= !(tf < INFINITY);
            mf = tf > mf ? tf : mf;
            if (t > m)
                m = t;
            if (isfinite(tf) && fabs(t) > T)
                T = fabs(t);
        }
        double s = 0.0;
        if (!bad && mf != -INFINITY)
            for (size_t k = 0; k < len; k++)
                s += exp((double)beta * (double)xv[k * ex] - m);
        for (size_t k = 0; k < len; k++) {
            double yd;
            if (bad)
                yd = NAN;
            else if (mf == -INFINITY)
                yd = is_log ? -INFINITY : 0.0;
            else {
                double t = (double)beta * (double)xv[k * ex];
                yd = is_log ? (t - m) - log(s) : exp(t - m) / s;
            }
            double e = metric(yv[k * ey], yd, is_log);
            if (e > worst || isnan(e))
                worst = e;
        }
    }
    double L = by_cols ? (double)rows : (double)cols / 16.0 + 4.0;
    double n = (double)(by_cols ? rows : cols);
    *tol = ldexp(8.0 * T + L + 2.0 * log2(n > 1 ? n : 1) + 8.0, -24);
    return worst;
}

/* ---- Sinkhorn ---------------------------------------------------------------- */

#include <stdlib.h>

/* t_ij as the kernel sees it: one float rounding (SPEC 3.2). */
static double sk_t(const float *S, size_t lds, float beta, size_t i, size_t j)
{
    float t = beta * S[i * lds + j];
    return (double)t;
}

static double sk_mass(const float *x, size_t k, double dflt)
{
    return x ? (double)x[k] : dflt;
}

static void sk_track(double *B, double v)
{
    if (isfinite(v) && fabs(v) > *B)
        *B = fabs(v);
}

double ref_sinkhorn(const float *S, size_t lds, size_t n, size_t m,
                    float beta, const float *a, const float *b, int iters,
                    double *fd, double *gd)
{
    const double bdef = (double)((float)n / (float)m);
    double B = 0.0;
    double *cmax = malloc((m ? m : 1) * sizeof(double));
    double *csum = malloc((m ? m : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++)
            sk_track(&B, sk_t(S, lds, beta, i, j));
    for (size_t j = 0; j < m; j++)
        gd[j] = 0.0;
    for (int it = 0; it < iters; it++) {
        for (size_t i = 0; i < n; i++) {
            double ai = sk_mass(a, i, 1.0);
            if (ai == 0.0) {
                fd[i] = -INFINITY;
                continue;
            }
            double M = -INFINITY, s = 0.0;
            for (size_t j = 0; j < m; j++)
                M = fmax(M, sk_t(S, lds, beta, i, j) + gd[j]);
            if (M != -INFINITY)
                for (size_t j = 0; j < m; j++)
                    s += exp(sk_t(S, lds, beta, i, j) + gd[j] - M);
            double lse = M == -INFINITY ? -INFINITY : M + log(s);
            fd[i] = log(ai) - lse;
            sk_track(&B, lse), sk_track(&B, fd[i]);
        }
        for (size_t j = 0; j < m; j++)
            cmax[j] = -INFINITY, csum[j] = 0.0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m; j++)
                cmax[j] = fmax(cmax[j], sk_t(S, lds, beta, i, j) + fd[i]);
        for (size_t i = 0; i < n; i++)
            if (fd[i] != -INFINITY)
                for (size_t j = 0; j < m; j++)
                    if (cmax[j] != -INFINITY)
                        csum[j] += exp(sk_t(S, lds, beta, i, j) + fd[i] - cmax[j]);
        for (size_t j = 0; j < m; j++) {
            double bj = sk_mass(b, j, bdef);
            double lse = cmax[j] == -INFINITY ? -INFINITY : cmax[j] + log(csum[j]);
            gd[j] = bj == 0.0 ? -INFINITY : log(bj) - lse;
            sk_track(&B, lse), sk_track(&B, gd[j]);
        }
    }
    free(cmax), free(csum);
    return B;
}

static double sk_diff(float x, double xd)
{
    if (isinf(xd) || isinf(x) || isnan(x) || isnan(xd))
        return (double)x == xd ? 0.0 : INFINITY;
    return fabs((double)x - xd);
}

double ref_sinkhorn_error(const float *S, size_t lds, size_t n, size_t m,
                          float beta, const float *a, const float *b,
                          int iters, const float *f, const float *g,
                          double *tol)
{
    double *fd = malloc((n ? n : 1) * sizeof(double));
    double *gd = malloc((m ? m : 1) * sizeof(double));
    double B = ref_sinkhorn(S, lds, n, m, beta, a, b, iters, fd, gd);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, sk_diff(f[i], fd[i]));
    for (size_t j = 0; j < m; j++)
        worst = fmax(worst, sk_diff(g[j], gd[j]));
    double lm = log2(m > 1 ? (double)m : 1.0), ln = log2(n > 1 ? (double)n : 1.0);
    double drow = 16.0 * B + (double)m / 16.0 + 2.0 * lm + 12.0;
    double dcol = 16.0 * B + (double)n + 2.0 * ln + 8.0;
    *tol = ldexp((double)iters * (drow + dcol), -24);
    free(fd), free(gd);
    return worst;
}

void ref_sinkhorn_marginals(const float *S, size_t lds, size_t n, size_t m,
                            float beta, const float *f, const float *g,
                            double *rs, double *cs)
{
    for (size_t j = 0; j < m; j++)
        cs[j] = 0.0;
    for (size_t i = 0; i < n; i++) {
        rs[i] = 0.0;
        for (size_t j = 0; j < m; j++) {
            double p = exp(sk_t(S, lds, beta, i, j) + (double)f[i] + (double)g[j]);
            if (isnan(p)) /* -inf + inf: cannot happen for valid runs */
                p = 0.0;
            rs[i] += p;
            cs[j] += p;
        }
    }
}

double ref_sinkhorn_err(const float *S, size_t lds, size_t n, size_t m,
                        float beta, const float *a, const float *f,
                        const float *g, double *tol)
{
    double *rs = malloc((n ? n : 1) * sizeof(double));
    double *cs = malloc((m ? m : 1) * sizeof(double));
    ref_sinkhorn_marginals(S, lds, n, m, beta, f, g, rs, cs);
    double err = 0.0, rsum = 0.0, amax = 0.0, B = 0.0;
    for (size_t i = 0; i < n; i++) {
        double ai = sk_mass(a, i, 1.0);
        err += fabs(rs[i] - ai);
        rsum += rs[i];
        amax = fmax(amax, ai);
        sk_track(&B, f[i]);
        for (size_t j = 0; j < m; j++)
            sk_track(&B, sk_t(S, lds, beta, i, j));
    }
    for (size_t j = 0; j < m; j++)
        sk_track(&B, g[j]);
    *tol = ldexp((6.0 * B + (double)m / 16.0 + 8.0) * rsum +
                     (double)(n + 1) * err + (double)n * amax,
                 -24);
    free(rs), free(cs);
    return err;
}
