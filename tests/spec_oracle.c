/* The SPEC oracle (see spec_oracle.h): SPEC.md sections 1 and 3 written out
 * naively, one float operation per SPEC fl(), one fmaf per SPEC fma. Built
 * with the project's flags (-ffp-contract=off) and, on x86, -mfma for
 * sleef.h's purecfma functions. */
#include "spec_oracle.h"

#include <math.h>
#include <sleef.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- SPEC 1 ------------------------------------------------------------------ */

float oracle_E(float x)
{
    return Sleef_finz_expf1_u10purecfma(x);
}

float oracle_Lg(float x)
{
    return Sleef_finz_logf1_u10purecfma(x);
}

float oracle_Sq(float x)
{
    return Sleef_finz_sqrtf1_u05purecfma(x);
}

float oracle_lane16(const float *e, size_t n, size_t stride)
{
    float acc[16];
    for (int l = 0; l < 16; l++)
        acc[l] = +0.0f;
    for (size_t j = 0; j < n; j++)
        acc[j % 16] = acc[j % 16] + e[j * stride];
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            acc[l] = acc[l] + acc[l + w];
    return acc[0];
}

float oracle_seq(const float *e, size_t n, size_t stride)
{
    float s = +0.0f;
    for (size_t i = 0; i < n; i++)
        s = s + e[i * stride];
    return s;
}

float oracle_dot(const float *a, const float *b, size_t d)
{
    float s = +0.0f;
    for (size_t k = 0; k < d; k++)
        s = fmaf(a[k], b[k], s);
    return s;
}

/* max over a set, order ignored; any NaN makes it NaN; empty: -inf. */
static float set_max(const float *u, size_t n, size_t stride)
{
    float m = -INFINITY;
    for (size_t k = 0; k < n; k++) {
        float x = u[k * stride];
        if (isnan(x))
            return NAN;
        if (x > m)
            m = x;
    }
    return m;
}

static float max2(float a, float b)
{
    float u[2] = {a, b};
    return set_max(u, 2, 1);
}

static void *xmalloc(size_t count, size_t size)
{
    void *p = malloc(count * size + 1);
    if (!p) {
        fprintf(stderr, "spec_oracle: out of memory\n");
        exit(1);
    }
    return p;
}

/* ---- SPEC 3.1 softmax ----------------------------------------------------------- */

/* One row (use_lane16) or column (seq) of n elements x[k * sx] into
 * y[k * sy]; t is scratch of n floats. */
static void softmax_line(const float *x, size_t sx, size_t n, float beta,
                         unsigned flags, int use_lane16, float *y, size_t sy,
                         float *t, float *e)
{
    for (size_t j = 0; j < n; j++)
        t[j] = beta * x[j * sx];
    const float m = set_max(t, n, 1);
    if (isnan(m) || m == INFINITY) { /* a NaN or +inf among the t_j */
        for (size_t j = 0; j < n; j++)
            y[j * sy] = NAN;
        return;
    }
    if (m == -INFINITY) { /* all t_j are -inf */
        for (size_t j = 0; j < n; j++)
            y[j * sy] = (flags & OPK_LOG) ? -INFINITY : +0.0f;
        return;
    }
    for (size_t j = 0; j < n; j++)
        e[j] = oracle_E(t[j] - m);
    const float s = use_lane16 ? oracle_lane16(e, n, 1) : oracle_seq(e, n, 1);
    if (flags & OPK_LOG) {
        const float lgs = oracle_Lg(s);
        for (size_t j = 0; j < n; j++)
            y[j * sy] = (t[j] - m) - lgs;
    } else {
        const float r = 1.0f / s;
        for (size_t j = 0; j < n; j++)
            y[j * sy] = e[j] * r;
    }
}

void oracle_softmax(opk_cmat X, float beta, opk_axis axis, unsigned flags,
                    float *Y)
{
    const size_t R = X.rows, C = X.cols;
    const size_t len = axis == OPK_ROWS ? C : R;
    float *t = xmalloc(len, sizeof *t), *e = xmalloc(len, sizeof *e);
    if (axis == OPK_ROWS)
        for (size_t i = 0; i < R; i++)
            softmax_line(X.data + i * X.ld, 1, C, beta, flags, 1, Y + i * C, 1,
                         t, e);
    else
        for (size_t j = 0; j < C; j++)
            softmax_line(X.data + j, X.ld, R, beta, flags, 0, Y + j, C, t, e);
    free(t), free(e);
}

/* ---- SPEC 3.2 Sinkhorn ---------------------------------------------------------- */

/* LSE(u) over u[0..n), its sum lane16 or seq; e: scratch of n. */
static float lse(const float *u, size_t n, int use_lane16, float *e)
{
    const float M = set_max(u, n, 1);
    if (M == -INFINITY)
        return -INFINITY;
    for (size_t k = 0; k < n; k++)
        e[k] = oracle_E(u[k] - M);
    const float s = use_lane16 ? oracle_lane16(e, n, 1) : oracle_seq(e, n, 1);
    return M + oracle_Lg(s);
}

/* One update of all cnt potentials pot[k] = fl(Lg(mass_k) - LSE_l(fl(t_kl +
 * other_l))), t_kl = t[k * ks + l * ls] for l < len; a zero mass gives -inf
 * directly. u, e: scratch of len. */
static void sk_update(const float *t, size_t cnt, size_t len, size_t ks,
                      size_t ls, const float *mass, const float *other,
                      float *pot, int use_lane16, float *u, float *e)
{
    for (size_t k = 0; k < cnt; k++) {
        if (mass[k] == 0.0f) {
            pot[k] = -INFINITY;
            continue;
        }
        for (size_t l = 0; l < len; l++)
            u[l] = t[k * ks + l * ls] + other[l];
        pot[k] = oracle_Lg(mass[k]) - lse(u, len, use_lane16, e);
    }
}

/* Row update of all f from t (n x m dense) and g: lane16 over j. */
static void sk_rows(const float *t, size_t n, size_t m, const float *a,
                    const float *g, float *f, float *u, float *e)
{
    sk_update(t, n, m, m, 1, a, g, f, 1, u, e);
}

/* Column update of all g from t and the new f: seq over i. */
static void sk_cols(const float *t, size_t n, size_t m, const float *b,
                    const float *f, float *g, float *u, float *e)
{
    sk_update(t, m, n, 1, m, b, f, g, 0, u, e);
}

static float sk_plan(const float *t, size_t m, size_t i, size_t j,
                     const float *f, const float *g)
{
    return oracle_E((t[i * m + j] + f[i]) + g[j]);
}

void oracle_sinkhorn(opk_cmat S, float beta, const float *a, const float *b,
                     const opk_sinkhorn_opts *opts, float *f, float *g,
                     float *P, opk_sinkhorn_info *info)
{
    const size_t n = S.rows, m = S.cols, nm = n > m ? n : m;
    int max_iter = 1000, check_every = 10;
    float tol = -1.0f;
    if (opts)
        max_iter = opts->max_iter, check_every = opts->check_every,
        tol = opts->tol;
    float *t = xmalloc(n * m, sizeof *t);
    float *A = xmalloc(n, sizeof *A), *B = xmalloc(m, sizeof *B);
    float *u = xmalloc(nm, sizeof *u), *e = xmalloc(nm, sizeof *e);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++)
            t[i * m + j] = beta * S.data[i * S.ld + j];
    for (size_t i = 0; i < n; i++)
        A[i] = a ? a[i] : 1.0f;
    const float bdef = (float)n / (float)m;
    for (size_t j = 0; j < m; j++)
        B[j] = b ? b[j] : bdef;
    if (tol < 0.0f)
        tol = 1e-6f * oracle_seq(A, n, 1);
    for (size_t j = 0; j < m; j++)
        g[j] = +0.0f;
    int it = 0, converged = 0;
    float err = NAN;
    while (it < max_iter) {
        it++;
        sk_rows(t, n, m, A, g, f, u, e);
        sk_cols(t, n, m, B, f, g, u, e);
        if (it % check_every == 0 || it == max_iter) {
            err = +0.0f;
            for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < m; j++)
                    u[j] = sk_plan(t, m, i, j, f, g);
                err = err + fabsf(oracle_lane16(u, m, 1) - A[i]);
            }
            if (err <= tol) {
                converged = 1;
                break;
            }
        }
    }
    if (P)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m; j++)
                P[i * m + j] = sk_plan(t, m, i, j, f, g);
    info->iterations = it;
    info->err = err;
    info->converged = converged;
    free(t), free(A), free(B), free(u), free(e);
}

/* ---- SPEC 3.3 Chebyshev: every T_k kept, Y summed afterwards ---------------------- */

void oracle_cheb(opk_csr L, float lmin, float lmax, const float *c, size_t K,
                 const float *X, size_t ldx, size_t F, float *Y)
{
    const size_t n = (size_t)L.rows;
    const float d = lmax - lmin, s = lmax + lmin;
    const float alpha = 2.0f / d, gamma = -s / d;
    float *T = xmalloc((K + 1) * n * F, sizeof *T);
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < F; f++)
            T[i * F + f] = X[i * ldx + f];
    for (size_t k = 1; k <= K; k++) {
        const float *P = T + (k - 1) * n * F;
        float *Tk = T + k * n * F;
        for (size_t i = 0; i < n; i++)
            for (size_t f = 0; f < F; f++) {
                float p = 0.0f;
                for (int64_t q = L.row_ptr[i]; q < L.row_ptr[i + 1]; q++)
                    p = fmaf(L.val[q], P[(size_t)L.col_idx[q] * F + f], p);
                float g = gamma * P[i * F + f];
                float a = fmaf(alpha, p, g);
                if (k == 1) {
                    Tk[i * F + f] = a;
                } else {
                    float a2 = 2.0f * a;
                    Tk[i * F + f] = a2 - T[(k - 2) * n * F + i * F + f];
                }
            }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < F; f++) {
            float y = c[0] * X[i * ldx + f];
            for (size_t k = 1; k <= K; k++)
                y = fmaf(c[k], T[k * n * F + i * F + f], y);
            Y[i * F + f] = y;
        }
    free(T);
}

/* ---- SPEC 3.4 attention ----------------------------------------------------------- */

enum { KEY_BLOCK = 64 };

/* B (n x dv) for the softmax norm (online: running max mr, sum l, o) or,
 * with sigmoid, the sigmoid norm (w_ij = 1 / (1 + E(-S_ij)), no maximum);
 * per query row, keys in blocks of 64. e: scratch of 64. */
static void attn_blocks(const float *Sc, size_t n, size_t m, opk_cmat V,
                        int sigmoid, float *B, float *e)
{
    const size_t dv = V.cols;
    for (size_t i = 0; i < n; i++) {
        const float *s = Sc + i * m;
        float *o = B + i * dv;
        float mr = -INFINITY, l = +0.0f;
        for (size_t f = 0; f < dv; f++)
            o[f] = +0.0f;
        for (size_t st = 0; st < m; st += KEY_BLOCK) {
            const size_t nb = m - st < KEY_BLOCK ? m - st : KEY_BLOCK;
            float sc = 1.0f; /* unused by sigmoid */
            if (sigmoid) {
                for (size_t j = 0; j < nb; j++)
                    e[j] = 1.0f / (1.0f + oracle_E(-s[st + j]));
                l = l + oracle_lane16(e, nb, 1);
            } else {
                const float mb = set_max(s + st, nb, 1);
                const float mn = max2(mr, mb);
                if (mn == -INFINITY)
                    continue;
                sc = oracle_E(mr - mn);
                for (size_t j = 0; j < nb; j++)
                    e[j] = oracle_E(s[st + j] - mn);
                l = fmaf(l, sc, oracle_lane16(e, nb, 1));
                mr = mn;
            }
            for (size_t f = 0; f < dv; f++) {
                float of = sigmoid ? o[f] : o[f] * sc;
                for (size_t j = 0; j < nb; j++)
                    of = fmaf(e[j], V.data[(st + j) * V.ld + f], of);
                o[f] = of;
            }
        }
        const float r = 1.0f / l;
        for (size_t f = 0; f < dv; f++)
            o[f] = o[f] * r;
    }
}

/* B for the sinkhorn norm: `iters` half-steps of 3.2 with beta = 1, a_i = 1,
 * b_j = n/m, g = 0, starting with a row update; then B = P V (fma chains). */
static void attn_sinkhorn(const float *Sc, size_t n, size_t m, opk_cmat V,
                          int iters, float *B)
{
    const size_t dv = V.cols, nm = n > m ? n : m;
    float *t = xmalloc(n * m, sizeof *t);
    float *a = xmalloc(n, sizeof *a), *b = xmalloc(m, sizeof *b);
    float *f = xmalloc(n, sizeof *f), *g = xmalloc(m, sizeof *g);
    float *u = xmalloc(nm, sizeof *u), *e = xmalloc(nm, sizeof *e);
    for (size_t k = 0; k < n * m; k++)
        t[k] = 1.0f * Sc[k];
    for (size_t i = 0; i < n; i++)
        a[i] = 1.0f, f[i] = +0.0f;
    const float bdef = (float)n / (float)m;
    for (size_t j = 0; j < m; j++)
        b[j] = bdef, g[j] = +0.0f;
    for (int h = 1; h <= iters; h++)
        if (h % 2)
            sk_rows(t, n, m, a, g, f, u, e);
        else
            sk_cols(t, n, m, b, f, g, u, e);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < m; j++)
            u[j] = sk_plan(t, m, i, j, f, g);
        for (size_t c = 0; c < dv; c++) {
            float s = +0.0f;
            for (size_t j = 0; j < m; j++)
                s = fmaf(u[j], V.data[j * V.ld + c], s);
            B[i * dv + c] = s;
        }
    }
    free(t), free(a), free(b), free(f), free(g), free(u), free(e);
}

/* The row scales of the linear norm: r_i = 1 / Sq(dot(x_i, x_i)), or with a
 * global norm the same 1 / F for every row, F = Sq(seq_i(dot(x_i, x_i))). */
static void linear_scales(opk_cmat X, int global, float *r)
{
    const size_t d = X.cols;
    for (size_t i = 0; i < X.rows; i++) /* the dots first */
        r[i] = oracle_dot(X.data + i * X.ld, X.data + i * X.ld, d);
    if (global) {
        const float inv = 1.0f / oracle_Sq(oracle_seq(r, X.rows, 1));
        for (size_t i = 0; i < X.rows; i++)
            r[i] = inv;
    } else {
        for (size_t i = 0; i < X.rows; i++)
            r[i] = 1.0f / oracle_Sq(r[i]);
    }
}

/* x̂ (rows x d, dense): every element times its row's scale. */
static float *linear_hat(opk_cmat X, int global)
{
    const size_t d = X.cols;
    float *r = xmalloc(X.rows, sizeof *r), *h = xmalloc(X.rows * d, sizeof *h);
    linear_scales(X, global, r);
    for (size_t i = 0; i < X.rows; i++)
        for (size_t k = 0; k < d; k++)
            h[i * d + k] = X.data[i * X.ld + k] * r[i];
    free(r);
    return h;
}

static void attn_linear(opk_cmat Q, opk_cmat K, opk_cmat V, int global,
                        float *B)
{
    const size_t n = Q.rows, m = K.rows, d = Q.cols, dv = V.cols;
    float *qh = linear_hat(Q, global), *kh = linear_hat(K, global);
    float *ks = xmalloc(d, sizeof *ks), *vs = xmalloc(dv, sizeof *vs);
    float *KV = xmalloc(d * dv, sizeof *KV);
    for (size_t k = 0; k < d; k++)
        ks[k] = oracle_seq(kh + k, m, d);
    for (size_t c = 0; c < dv; c++)
        vs[c] = oracle_seq(V.data + c, m, V.ld);
    for (size_t k = 0; k < d; k++)
        for (size_t c = 0; c < dv; c++) {
            float s = +0.0f;
            for (size_t j = 0; j < m; j++)
                s = fmaf(kh[j * d + k], V.data[j * V.ld + c], s);
            KV[k * dv + c] = s;
        }
    for (size_t i = 0; i < n; i++) {
        const float den = (float)m + oracle_dot(qh + i * d, ks, d);
        const float r = 1.0f / den;
        for (size_t c = 0; c < dv; c++) {
            float num = vs[c];
            for (size_t k = 0; k < d; k++)
                num = fmaf(qh[i * d + k], KV[k * dv + c], num);
            B[i * dv + c] = num * r;
        }
    }
    free(qh), free(kh), free(ks), free(vs), free(KV);
}

void oracle_attention(opk_cmat Q, opk_cmat K, opk_cmat V, const opk_cmat *H,
                      const opk_attention_opts *opts, float *O)
{
    opk_attention_opts o = {.beta = 1.0f, .tau = 1.0f, /* SPEC 3.4's */
                            .norm = OPK_NORM_SOFTMAX, .sinkhorn_iters = 3};
    if (opts)
        o = *opts;
    const size_t n = Q.rows, d = Q.cols, m = K.rows, dv = V.cols;
    const opk_cmat Hm = H ? *H : V;
    float *B = xmalloc(n * dv, sizeof *B);
    if (o.norm == OPK_NORM_LINEAR) {
        attn_linear(Q, K, V, o.linear_global_norm, B);
    } else {
        const float gam = o.beta / oracle_Sq((float)d);
        float *Sc = xmalloc(n * m, sizeof *Sc);
        float *e = xmalloc(KEY_BLOCK, sizeof *e);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m; j++)
                Sc[i * m + j] =
                    oracle_dot(Q.data + i * Q.ld, K.data + j * K.ld, d) * gam;
        if (o.norm == OPK_NORM_SINKHORN)
            attn_sinkhorn(Sc, n, m, V, o.sinkhorn_iters, B);
        else
            attn_blocks(Sc, n, m, V, o.norm == OPK_NORM_SIGMOID, B, e);
        free(Sc), free(e);
    }
    const float tau = o.tau, a1 = 1.0f - tau;
    if (o.graph) {
        const float lg = o.lambda_g;
        const float a2 = tau * (1.0f - lg), a3 = tau * lg;
        float *G = xmalloc(n * dv, sizeof *G);
        oracle_cheb(*o.graph, o.lmin, o.lmax, o.cheb_c, (size_t)o.cheb_K,
                    V.data, V.ld, dv, G);
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < dv; c++)
                O[i * dv + c] =
                    fmaf(a3, G[i * dv + c],
                         fmaf(a2, B[i * dv + c], a1 * Hm.data[i * Hm.ld + c]));
        free(G);
    } else {
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < dv; c++)
                O[i * dv + c] =
                    fmaf(tau, B[i * dv + c], a1 * Hm.data[i * Hm.ld + c]);
    }
    free(B);
}
