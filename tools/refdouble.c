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
