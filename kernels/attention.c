/* Damped attention (SPEC 3.4): the scalar reference kernels, written as the
 * SPEC states them, and the key-block packing the SIMD kernels share.
 * Argument checks are in attention_entry.c, the runs in attention_run.c. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lane16.h"
#include "scalar.h"
#include "sleef1.h"

/* max over a set with NaN propagation (SPEC 1); the sign of a zero maximum
 * never matters below (only E(+-0) = 1 and == -inf depend on it). */
static float max_nan(float a, float b)
{
    if (a != a || b != b)
        return NAN;
    return b > a ? b : a;
}

/* The mixing of SPEC 3.4 for one element. */
static inline float mix(const opk_attn_job *jb, float b, float h, float g)
{
    float base = jb->a1 * h;
    return jb->g ? fmaf(jb->a3, g, fmaf(jb->a2, b, base))
                 : fmaf(jb->tau, b, base);
}

/* S_ij = fl(dot(q_i, k_j) * gamma), dot an fma chain over k ascending. */
static float score(const opk_attn_job *jb, const float *q, size_t j)
{
    const float *k = jb->k + j * jb->ldk;
    float acc = 0.0f;
    for (size_t t = 0; t < jb->d; t++)
        acc = fmaf(q[t], k[t], acc);
    return acc * jb->gamma;
}

/* Writes O row i from the accumulators o (B = fl(o * fl(1 / l))). */
static void finish_row(const opk_attn_job *jb, size_t i, const float *o,
                       float l)
{
    const float r = 1.0f / l;
    const float *h = jb->h + i * jb->ldh;
    const float *g = jb->g ? jb->g + i * jb->ldg : NULL;
    float *out = jb->o + i * jb->ldo;
    for (size_t f = 0; f < jb->dv; f++)
        out[f] = mix(jb, o[f] * r, h[f], g ? g[f] : 0.0f);
}

/* One query row of softmax or sigmoid mode; o: dv floats, s: 64 floats. */
static void fused_row(const opk_attn_job *jb, size_t i, float *o, float *s)
{
    const float *q = jb->q + i * jb->ldq;
    const size_t dv = jb->dv;
    const int soft = jb->norm == OPK_NORM_SOFTMAX;
    float m = -INFINITY, l = 0.0f;
    for (size_t f = 0; f < dv; f++)
        o[f] = 0.0f;
    for (size_t j0 = 0; j0 < jb->m; j0 += OPK_ATTN_BLOCK) {
        size_t jn = jb->m - j0 < OPK_ATTN_BLOCK ? jb->m - j0 : OPK_ATTN_BLOCK;
        for (size_t t = 0; t < jn; t++)
            s[t] = score(jb, q, j0 + t);
        opk_lane16 acc;
        opk_lane16_init(&acc);
        if (soft) {
            float mb = -INFINITY;
            for (size_t t = 0; t < jn; t++)
                mb = max_nan(mb, s[t]);
            float mn = max_nan(m, mb);
            if (mn == -INFINITY)
                continue;
            float sc = opk_E(m - mn);
            for (size_t t = 0; t < jn; t++) {
                s[t] = opk_E(s[t] - mn);
                opk_lane16_add(&acc, t, s[t]);
            }
            l = fmaf(l, sc, opk_lane16_result(&acc));
            for (size_t f = 0; f < dv; f++)
                o[f] = o[f] * sc;
            m = mn;
        } else {
            for (size_t t = 0; t < jn; t++) {
                s[t] = 1.0f / (1.0f + opk_E(-s[t]));
                opk_lane16_add(&acc, t, s[t]);
            }
            l = l + opk_lane16_result(&acc);
        }
        for (size_t t = 0; t < jn; t++) {
            const float *v = jb->v + (j0 + t) * jb->ldv;
            for (size_t f = 0; f < dv; f++)
                o[f] = fmaf(s[t], v[f], o[f]);
        }
    }
    finish_row(jb, i, o, l);
}

void opk_attn_fused_rows_scalar(const opk_attn_job *jb, size_t r0, size_t r1,
                                float *scratch)
{
    float *s = scratch, *o = scratch + OPK_ATTN_BLOCK;
    for (size_t i = r0; i < r1; i++)
        fused_row(jb, i, o, s);
}

/* ---- sinkhorn mode: scores, then B = P V ------------------------------------ */

void opk_attn_scores_scalar(const opk_attn_job *jb, size_t r0, size_t r1,
                            float *s, size_t lds)
{
    for (size_t i = r0; i < r1; i++)
        for (size_t j = 0; j < jb->m; j++)
            s[i * lds + j] = score(jb, jb->q + i * jb->ldq, j);
}

void opk_attn_pv_rows_scalar(const opk_attn_job *jb, const float *p,
                             size_t ldp, size_t r0, size_t r1, float *scratch)
{
    float *o = scratch;
    for (size_t i = r0; i < r1; i++) {
        const float *pi = p + i * ldp;
        for (size_t f = 0; f < jb->dv; f++)
            o[f] = 0.0f;
        for (size_t j = 0; j < jb->m; j++) {
            const float *v = jb->v + j * jb->ldv;
            for (size_t f = 0; f < jb->dv; f++)
                o[f] = fmaf(pi[j], v[f], o[f]);
        }
        finish_row(jb, i, o, 1.0f); /* fl(o * fl(1 / 1)) = o */
    }
}

/* ---- linear mode ------------------------------------------------------- */

void opk_attn_row_dots_scalar(const float *x, size_t ld, size_t cols,
                              size_t r0, size_t r1, int inv, float *r)
{
    for (size_t i = r0; i < r1; i++) {
        const float *xi = x + i * ld;
        float acc = 0.0f;
        for (size_t t = 0; t < cols; t++)
            acc = fmaf(xi[t], xi[t], acc);
        r[i] = inv ? 1.0f / opk_Sq(acc) : acc;
    }
}

size_t opk_attn_zero_row_scalar(const float *x, size_t ld, size_t cols,
                                 size_t r0, size_t r1)
{
    for (size_t i = r0; i < r1; i++) {
        const float *xi = x + i * ld;
        float acc = 0.0f;
        for (size_t t = 0; t < cols; t++)
            acc = fmaf(xi[t], xi[t], acc);
        if (acc == 0.0f)
            return i;
    }
    return SIZE_MAX;
}

void opk_attn_linear_kv_scalar(const opk_attn_job *jb,
                               const opk_attn_linear *ln, size_t k0, size_t k1,
                               size_t j0, size_t j1, int do_vs, size_t *zero)
{
    const size_t dv = jb->dv, dvp = jb->dvp;
    *zero = SIZE_MAX;
    for (size_t j = j0; j < j1; j++) {
        const float *kj = jb->k + j * jb->ldk, *vj = jb->v + j * jb->ldv;
        float r;
        if (ln->rk) {
            r = ln->rk[j];
        } else {
            float dot = 0.0f;
            for (size_t t = 0; t < jb->d; t++)
                dot = fmaf(kj[t], kj[t], dot);
            r = 1.0f / opk_Sq(dot); /* as opk_attn_row_dots_scalar */
            if (r == INFINITY && *zero == SIZE_MAX)
                *zero = j;
        }
        for (size_t t = k0; t < k1; t++) {
            float kh = kj[t] * r;
            float *kv = ln->kv + t * dvp;
            for (size_t f = 0; f < dv; f++)
                kv[f] = fmaf(kh, vj[f], kv[f]);
            ln->ks[t] = ln->ks[t] + kh;
        }
        if (do_vs)
            for (size_t f = 0; f < dv; f++)
                ln->vs[f] = ln->vs[f] + vj[f];
    }
}

void opk_attn_linear_rows_scalar(const opk_attn_job *jb,
                                 const opk_attn_linear *ln, size_t r0,
                                 size_t r1, float *scratch)
{
    (void)scratch;
    const size_t d = jb->d, dv = jb->dv, dvp = jb->dvp;
    const float fm = (float)jb->m;
    for (size_t i = r0; i < r1; i++) {
        const float *q = jb->q + i * jb->ldq;
        const float *h = jb->h + i * jb->ldh;
        const float *g = jb->g ? jb->g + i * jb->ldg : NULL;
        float *out = jb->o + i * jb->ldo;
        float rq;
        if (ln->rq) {
            rq = ln->rq[i];
        } else {
            float qq = 0.0f;
            for (size_t t = 0; t < d; t++)
                qq = fmaf(q[t], q[t], qq);
            rq = 1.0f / opk_Sq(qq); /* as opk_attn_row_dots_scalar */
        }
        float dot = 0.0f;
        for (size_t t = 0; t < d; t++)
            dot = fmaf(q[t] * rq, ln->ks[t], dot);
        const float rden = 1.0f / (fm + dot);
        for (size_t f = 0; f < dv; f++) {
            float num = ln->vs[f];
            for (size_t t = 0; t < d; t++)
                num = fmaf(q[t] * rq, ln->kv[t * dvp + f], num);
            out[f] = mix(jb, num * rden, h[f], g ? g[f] : 0.0f);
        }
    }
}

/* ---- packing for the SIMD kernels ---------------------------------------- */

void opk_attn_pack_blocks(const opk_attn_job *jb, size_t b0, size_t b1,
                          float *pack)
{
    const size_t B = OPK_ATTN_BLOCK, d = jb->d, dv = jb->dv, dvp = jb->dvp;
    for (size_t b = b0; b < b1; b++) {
        float *kt = pack + b * B * (d + dvp), *vp = kt + B * d;
        size_t j0 = b * B, jn = jb->m - j0 < B ? jb->m - j0 : B;
        memset(kt, 0, B * (d + dvp) * sizeof(float));
        for (size_t t = 0; t < jn; t++) {
            const float *k = jb->k + (j0 + t) * jb->ldk;
            const float *v = jb->v + (j0 + t) * jb->ldv;
            for (size_t c = 0; c < d; c++)
                kt[c * B + t] = k[c];
            memcpy(vp + t * dvp, v, dv * sizeof(float));
        }
    }
}
