/* Double-precision evaluation of damped attention (SPEC 3.4) and the error
 * bounds of refdouble.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "refdouble.h"

#define U 0x1p-24

static double row_dot(const float *a, const float *b, size_t d)
{
    double s = 0.0;
    for (size_t t = 0; t < d; t++)
        s += (double)a[t] * (double)b[t];
    return s;
}

/* The scores S (n x m) in double with the exact gamma = beta / sqrt(d);
 * *dS gets max_ij (d + 3) |gamma| sum_k |q_ik k_jk| (S's error over u) and
 * *smax max |S|. */
static double *scores(const ref_attn_in *a, double *dS, double *smax)
{
    const size_t n = a->n, m = a->m, d = a->d;
    double *S = malloc((n * m > 0 ? n * m : 1) * sizeof(double));
    if (!S)
        return NULL;
    double g = (double)a->beta / sqrt((double)d), worst = 0.0, big = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) {
            const float *q = a->q + i * a->ldq, *k = a->k + j * a->ldk;
            double s = 0.0, sa = 0.0;
            for (size_t t = 0; t < d; t++) {
                s += (double)q[t] * (double)k[t];
                sa += fabs((double)q[t] * (double)k[t]);
            }
            S[i * m + j] = s * g;
            worst = fmax(worst, (double)(d + 3) * fabs(g) * sa);
            big = fmax(big, fabs(s * g));
        }
    *dS = worst;
    *smax = big;
    return S;
}

/* Row softmax of S in place (S becomes A). */
static void row_softmax(double *S, size_t n, size_t m)
{
    for (size_t i = 0; i < n; i++) {
        double *s = S + i * m, mx = -INFINITY, sum = 0.0;
        for (size_t j = 0; j < m; j++)
            mx = fmax(mx, s[j]);
        for (size_t j = 0; j < m; j++)
            sum += (s[j] = exp(s[j] - mx));
        for (size_t j = 0; j < m; j++)
            s[j] /= sum;
    }
}

/* Sinkhorn half-steps on A = exp(S) (SPEC 3.2 with beta 1, a = 1,
 * b = n/m), starting with the row update; S becomes P. */
static void sinkhorn_half_steps(double *S, size_t n, size_t m, int iters)
{
    double *f = calloc(n, sizeof(double)), *g = calloc(m, sizeof(double));
    double lb = log((double)(float)((float)n / (float)m));
    for (int h = 0; h < iters; h++) {
        if (h % 2 == 0)
            for (size_t i = 0; i < n; i++) {
                double mx = -INFINITY, s = 0.0;
                for (size_t j = 0; j < m; j++)
                    mx = fmax(mx, S[i * m + j] + g[j]);
                for (size_t j = 0; j < m; j++)
                    s += exp(S[i * m + j] + g[j] - mx);
                f[i] = -(mx + log(s));
            }
        else
            for (size_t j = 0; j < m; j++) {
                double mx = -INFINITY, s = 0.0;
                for (size_t i = 0; i < n; i++)
                    mx = fmax(mx, S[i * m + j] + f[i]);
                for (size_t i = 0; i < n; i++)
                    s += exp(S[i * m + j] + f[i] - mx);
                g[j] = lb - (mx + log(s));
            }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++)
            S[i * m + j] = exp(S[i * m + j] + f[i] + g[j]);
    free(f), free(g);
}

static void times_v(const ref_attn_in *a, const double *A, double *B)
{
    for (size_t i = 0; i < a->n; i++)
        for (size_t f = 0; f < a->dv; f++) {
            double s = 0.0;
            for (size_t j = 0; j < a->m; j++)
                s += A[i * a->m + j] * (double)a->v[j * a->ldv + f];
            B[i * a->dv + f] = s;
        }
}

/* Linear mode: B and its bound factor; -1 on a zero norm. */
static int linear(const ref_attn_in *a, double *B, double *cb)
{
    const size_t n = a->n, m = a->m, d = a->d, dv = a->dv;
    double *rq = malloc(n * sizeof(double)), *rk = malloc(m * sizeof(double));
    double fq = 0.0, fk = 0.0;
    for (size_t i = 0; i < n; i++)
        fq += rq[i] = row_dot(a->q + i * a->ldq, a->q + i * a->ldq, d);
    for (size_t j = 0; j < m; j++)
        fk += rk[j] = row_dot(a->k + j * a->ldk, a->k + j * a->ldk, d);
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= rq[i] == 0.0, rq[i] = 1.0 / sqrt(a->global ? fq : rq[i]);
    for (size_t j = 0; j < m; j++)
        bad |= rk[j] == 0.0, rk[j] = 1.0 / sqrt(a->global ? fk : rk[j]);
    double den_min = INFINITY;
    for (size_t i = 0; i < n && !(bad && !a->global); i++) {
        double den = 0.0;
        for (size_t f = 0; f < dv; f++)
            B[i * dv + f] = 0.0;
        for (size_t j = 0; j < m; j++) {
            double w = 1.0 + row_dot(a->q + i * a->ldq, a->k + j * a->ldk, d) *
                                 rq[i] * rk[j];
            den += w;
            for (size_t f = 0; f < dv; f++)
                B[i * dv + f] += w * (double)a->v[j * a->ldv + f];
        }
        for (size_t f = 0; f < dv; f++)
            B[i * dv + f] /= den;
        den_min = fmin(den_min, den);
    }
    free(rq), free(rk);
    if (bad && !a->global)
        return -1;
    double L = (double)(m + 3 * d + 16) + (a->global ? 2.0 * (double)(n + m) : 0);
    *cb = L * 2.0 * (double)m * (1.0 + 2.0 * (double)m / den_min) / den_min + 4.0;
    return 0;
}

int ref_attention_B(const ref_attn_in *a, double *B, double *cb)
{
    if (a->norm == 2) /* OPK_NORM_LINEAR */
        return linear(a, B, cb);
    double dS, smax;
    double *S = scores(a, &dS, &smax);
    if (!S)
        return -1;
    const double m = (double)a->m, nb = ceil(m / 64.0);
    if (a->norm == 3) { /* sigmoid */
        for (size_t i = 0; i < a->n; i++) {
            double *s = S + i * a->m, sum = 0.0;
            for (size_t j = 0; j < a->m; j++)
                sum += (s[j] = 1.0 / (1.0 + exp(-s[j])));
            for (size_t j = 0; j < a->m; j++)
                s[j] /= sum;
        }
        *cb = 2.0 * (4.0 + dS) + m + nb + 12.0;
    } else if (a->norm == 1) { /* sinkhorn */
        sinkhorn_half_steps(S, a->n, a->m, a->iters);
        /* Each half-step: LSE over a row or column (exp's and log's ULPs,
         * the subtractions of arguments up to 2 smax + the potentials, the
         * sum's rounding), carried into every later one. */
        double h = (double)a->iters, lse = (double)(a->n > a->m ? a->n : a->m);
        *cb = 2.0 * dS * h + h * (4.0 * smax + 16.0 + lse / 16.0) * 2.0 + m + 8.0;
    } else {
        row_softmax(S, a->n, a->m);
        *cb = 2.0 * dS + 2.0 * (nb + 1.0) * (2.0 * smax + 2.0) + 3.0 * nb + m +
              12.0;
    }
    times_v(a, S, B);
    free(S);
    return 0;
}

static double max_abs(const float *x, size_t rows, size_t cols, size_t ld)
{
    double mx = 0.0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            mx = fmax(mx, fabs((double)x[i * ld + j]));
    return mx;
}

double ref_attention_error(const ref_attn_in *a, const float *o, size_t ldo,
                           double *tol)
{
    const size_t n = a->n, dv = a->dv;
    double *B = malloc((n * dv > 0 ? n * dv : 1) * sizeof(double)), cb = 0.0;
    if (!B || ref_attention_B(a, B, &cb)) {
        free(B);
        *tol = 0.0;
        return INFINITY;
    }
    const float *h = a->h ? a->h : a->v;
    size_t ldh = a->h ? a->ldh : a->ldv;
    double vmax = max_abs(a->v, a->m, dv, a->ldv);
    double hmax = max_abs(h, n, dv, ldh), gmax = 0.0;
    for (size_t i = 0; a->g && i < n; i++)
        for (size_t f = 0; f < dv; f++)
            gmax = fmax(gmax, fabs((double)a->g[i * a->ldg + f]));
    double tau = a->tau, lg = a->g ? a->lambda_g : 0.0, worst = 0.0;
    double scale = vmax + hmax + gmax;
    if (scale == 0.0)
        scale = 1.0;
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < dv; f++) {
            double od = (1.0 - tau) * (double)h[i * ldh + f] +
                        tau * (1.0 - lg) * B[i * dv + f];
            if (a->g)
                od += tau * lg * (double)a->g[i * a->ldg + f];
            double y = (double)o[i * ldo + f];
            double e = isnan(y) || isnan(od) ? (isnan(y) && isnan(od) ? 0.0 : INFINITY)
                                             : fabs(y - od) / scale;
            if (e > worst || isnan(e))
                worst = e;
        }
    free(B);
    /* B's error (cb u vmax) and the mixing's roundings (a1, a2, a3, a1 H
     * and two fmas: 6 u scale). */
    *tol = U * (cb + 6.0);
    if (a->g && a->g_ratio * *tol > worst)
        worst = a->g_ratio * *tol;
    return worst;
}
