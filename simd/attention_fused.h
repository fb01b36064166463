/* The fused softmax/sigmoid attention kernel (SPEC 3.4), and the score and
 * P.V kernels of Sinkhorn mode built from the same tiles, written once for
 * every ISA. Included by simd/<isa>/attention.c after it defines:
 *   VF, VL                       vector type and its lanes
 *   v_zero v_load v_store v_set1 v_fma v_mul v_add v_sub v_div v_E
 *   (v_E is SPEC 1's E; -x is computed as x * -1, exact)
 *   v_load_n(p, n) v_store_n(p, v, n)   first n lanes, nothing else touched
 *   v_stream(p, v)      a non-temporal store (p aligned to the vector)
 *   block_max(s, n)     NaN-propagating max of s[0..n-1]
 *   block_lane16(e, n)  lane16 of e[0..n-1] (positions from e[0])
 *   ATTN_R  query rows per register block; ATTN_C key vectors per Q.K^T
 *   tile; ATTN_F dv vectors per P.V tile; ATTN_NAME(x) the ISA's name.
 *
 * Bits: S_ij is an fma chain over k ascending per (i, j), vectorized across
 * keys (K^T packed, lane = key); o_f = fma(e_j, v_jf, o_f) over j ascending,
 * vectorized across f. Nothing here depends on how rows are grouped, so a
 * row gives the same bits in a block of ATTN_R rows or alone.
 *
 * Loop order per thread: query tiles of up to OPK_ATTN_TILE rows, whose
 * running max, sum and accumulators live in scratch; for each packed key
 * block (K^T and V, shared by all threads, hot in cache across the tile),
 * the tile's rows in register blocks of ATTN_R. No n x m buffer exists. */

#include <stdint.h>

#include "cache.h"

/* The fence after streaming stores (an ISA without them defines it away). */
#ifndef v_sfence
#define v_sfence _mm_sfence
#endif

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* S for R rows x C vectors of keys starting at vector c0: fl(dot * gamma),
 * row r at s + r * lds. */
ALWAYS_INLINE void qk_tile(const float *const *q, const float *kt, size_t d,
                           VF g, float *s, size_t lds, int R, int C,
                           size_t c0, int stream)
{
    VF acc[ATTN_R][ATTN_C];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int c = 0; c < C; c++)
            acc[r][c] = v_zero();
    const float *kp = kt + c0 * VL;
    for (size_t k = 0; k < d; k++, kp += OPK_ATTN_BLOCK) {
        VF kv[ATTN_C];
#pragma GCC unroll 8
        for (int c = 0; c < C; c++)
            kv[c] = v_load(kp + c * VL);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            VF qb = v_set1(q[r][k]);
#pragma GCC unroll 8
            for (int c = 0; c < C; c++)
                acc[r][c] = v_fma(qb, kv[c], acc[r][c]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int c = 0; c < C; c++)
            if (stream) /* aligned: lds and s are multiples of 16 floats */
                v_stream(s + (size_t)r * lds + (c0 + (size_t)c) * VL,
                         v_mul(acc[r][c], g));
            else
                v_store(s + (size_t)r * lds + (c0 + (size_t)c) * VL,
                        v_mul(acc[r][c], g));
}

/* o = fl(o * sc), then o = fma(e_j, v_j, o) for j < jn, for R rows (row r
 * of e at e + r * lde) and F vectors of features starting at f0. */
ALWAYS_INLINE void pv_tile(float *const *o, const float *sc, const float *e,
                           size_t lde, const float *vp, size_t dvp, size_t jn,
                           size_t f0, int R, int F)
{
    VF acc[ATTN_R][ATTN_F];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        VF s = v_set1(sc[r]);
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            acc[r][f] = v_mul(v_load(o[r] + f0 + (size_t)f * VL), s);
    }
    const float *vr = vp + f0;
    for (size_t j = 0; j < jn; j++, vr += dvp) {
        VF vv[ATTN_F];
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            vv[f] = v_load(vr + f * VL);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            VF eb = v_set1(e[(size_t)r * lde + j]);
#pragma GCC unroll 8
            for (int f = 0; f < F; f++)
                acc[r][f] = v_fma(eb, vv[f], acc[r][f]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            v_store(o[r] + f0 + (size_t)f * VL, acc[r][f]);
}

/* P.V for all dvp features of R rows, in tiles of up to ATTN_F vectors. */
ALWAYS_INLINE void pv_rows(float *const *o, const float *sc, const float *e,
                           size_t lde, const float *vp, size_t dvp, size_t jn,
                           int R)
{
    size_t nv = dvp / VL, f = 0;
    for (; f + ATTN_F <= nv; f += ATTN_F)
        pv_tile(o, sc, e, lde, vp, dvp, jn, f * VL, R, ATTN_F);
    switch (nv - f) { /* < ATTN_F <= 4 */
    case 3: pv_tile(o, sc, e, lde, vp, dvp, jn, f * VL, R, 3 < ATTN_F ? 3 : 1); break;
    case 2: pv_tile(o, sc, e, lde, vp, dvp, jn, f * VL, R, 2 < ATTN_F ? 2 : 1); break;
    case 1: pv_tile(o, sc, e, lde, vp, dvp, jn, f * VL, R, 1); break;
    default: break;
    }
}

static float max_nan1(float a, float b)
{
    if (a != a || b != b)
        return NAN;
    return b > a ? b : a;
}

/* One key block for R consecutive rows i0.. of the tile (state index t0):
 * scores, the online softmax or sigmoid weights, then P.V. */
ALWAYS_INLINE void block_rows(const opk_attn_job *jb, size_t i0, size_t t0,
                              const float *kt, const float *vp, size_t jn,
                              float *ostate, float *mst, float *lst,
                              float *sbuf, int R)
{
    const float *q[ATTN_R];
    float *o[ATTN_R];
    for (int r = 0; r < R; r++) {
        q[r] = jb->q + (i0 + (size_t)r) * jb->ldq;
        o[r] = ostate + (t0 + (size_t)r) * jb->dvp;
    }
    const VF g = v_set1(jb->gamma);
    const size_t nv = (jn + VL - 1) / VL;
    size_t c = 0;
    for (; c + ATTN_C <= nv; c += ATTN_C)
        qk_tile(q, kt, jb->d, g, sbuf, OPK_ATTN_BLOCK, R, ATTN_C, c, 0);
    for (; c < nv; c++)
        qk_tile(q, kt, jb->d, g, sbuf, OPK_ATTN_BLOCK, R, 1, c, 0);

    float sc[ATTN_R], diff[VL];
    int active = 0;
    if (jb->norm == OPK_NORM_SOFTMAX) {
        float mn[ATTN_R];
        for (int r = 0; r < VL; r++)
            diff[r] = 0.0f;
        for (int r = 0; r < R; r++) {
            mn[r] = max_nan1(mst[t0 + r], block_max(sbuf + r * OPK_ATTN_BLOCK, jn));
            diff[r] = mst[t0 + r] - mn[r];
            active |= (mn[r] != -INFINITY) << r;
        }
        VF scv = v_E(v_load(diff)); /* sc = E(fl(m - mn)) for all R rows */
        v_store(diff, scv);
        for (int r = 0; r < R; r++) {
            if (!(active >> r & 1))
                continue;
            sc[r] = diff[r];
            float *s = sbuf + r * OPK_ATTN_BLOCK;
            VF vm = v_set1(mn[r]);
            for (size_t t = 0; t < nv; t++)
                v_store(s + t * VL, v_E(v_sub(v_load(s + t * VL), vm)));
            lst[t0 + r] = fmaf(lst[t0 + r], sc[r], block_lane16(s, jn));
            mst[t0 + r] = mn[r];
        }
    } else {
        const VF one = v_set1(1.0f), neg = v_set1(-1.0f);
        for (int r = 0; r < R; r++) {
            float *s = sbuf + r * OPK_ATTN_BLOCK;
            for (size_t t = 0; t < nv; t++) {
                VF x = v_load(s + t * VL);
                VF w = v_div(one, v_add(one, v_E(v_mul(x, neg))));
                v_store(s + t * VL, w);
            }
            lst[t0 + r] = lst[t0 + r] + block_lane16(s, jn);
            sc[r] = 1.0f; /* o * 1 = o: sigmoid does not rescale */
        }
        active = (1 << R) - 1;
    }
    if (active == (1 << R) - 1) {
        pv_rows(o, sc, sbuf, OPK_ATTN_BLOCK, vp, jb->dvp, jn, R);
    } else {
        for (int r = 0; r < R; r++)
            if (active >> r & 1)
                pv_rows(o + r, sc + r, sbuf + r * OPK_ATTN_BLOCK,
                        OPK_ATTN_BLOCK, vp, jb->dvp, jn, 1);
    }
}

/* O row i from its accumulators: B = fl(o * fl(1 / l)), then the mixing. */
static void finish_row(const opk_attn_job *jb, size_t i, const float *o,
                       float l)
{
    const VF r = v_set1(1.0f / l), a1 = v_set1(jb->a1);
    const VF tau = v_set1(jb->tau), a2 = v_set1(jb->a2), a3 = v_set1(jb->a3);
    const float *h = jb->h + i * jb->ldh;
    const float *gr = jb->g ? jb->g + i * jb->ldg : NULL;
    float *out = jb->o + i * jb->ldo;
    for (size_t f = 0; f < jb->dv; f += VL) {
        size_t c = jb->dv - f < VL ? jb->dv - f : VL;
        VF b = v_mul(v_load(o + f), r);
        VF base = v_mul(a1, c == VL ? v_load(h + f) : v_load_n(h + f, c));
        VF y;
        if (gr) {
            VF gv = c == VL ? v_load(gr + f) : v_load_n(gr + f, c);
            y = v_fma(a3, gv, v_fma(a2, b, base));
        } else {
            y = v_fma(tau, b, base);
        }
        if (c == VL)
            v_store(out + f, y);
        else
            v_store_n(out + f, y, c);
    }
}

void ATTN_NAME(opk_attn_fused_rows)(const opk_attn_job *jb, size_t r0,
                                    size_t r1, float *scratch)
{
    const size_t dvp = jb->dvp, B = OPK_ATTN_BLOCK;
    const size_t nblocks = (jb->m + B - 1) / B;
    float *ostate = scratch;                         /* TILE x dvp */
    float *sbuf = ostate + OPK_ATTN_TILE * dvp;      /* ATTN_R x 64 */
    float *mst = sbuf + OPK_ATTN_TILE * B;           /* TILE */
    float *lst = mst + OPK_ATTN_TILE;                /* TILE */
    for (size_t i0 = r0; i0 < r1; i0 += OPK_ATTN_TILE) {
        size_t tn = r1 - i0 < OPK_ATTN_TILE ? r1 - i0 : OPK_ATTN_TILE;
        for (size_t t = 0; t < tn; t++) {
            mst[t] = -INFINITY;
            lst[t] = 0.0f;
            for (size_t f = 0; f < dvp; f += VL)
                v_store(ostate + t * dvp + f, v_zero());
        }
        for (size_t b = 0; b < nblocks; b++) {
            const float *kt = jb->pack + b * B * (jb->d + dvp);
            const float *vp = kt + B * jb->d;
            size_t jn = jb->m - b * B < B ? jb->m - b * B : B;
            size_t t = 0;
            for (; t + ATTN_R <= tn; t += ATTN_R)
                block_rows(jb, i0 + t, t, kt, vp, jn, ostate, mst, lst, sbuf,
                           ATTN_R);
            for (; t < tn; t++)
                block_rows(jb, i0 + t, t, kt, vp, jn, ostate, mst, lst, sbuf,
                           1);
        }
        for (size_t t = 0; t < tn; t++)
            finish_row(jb, i0 + t, ostate + t * dvp, lst[t]);
    }
}

/* ---- sinkhorn mode: the scores, and B = P V ------------------------------- */

/* The scores of R rows i0.. for every key block, into s (row stride lds). */
ALWAYS_INLINE void score_rows(const opk_attn_job *jb, size_t i0, float *s,
                              size_t lds, int stream, int R)
{
    const float *q[ATTN_R];
    for (int r = 0; r < R; r++)
        q[r] = jb->q + (i0 + (size_t)r) * jb->ldq;
    const VF g = v_set1(jb->gamma);
    const size_t B = OPK_ATTN_BLOCK;
    for (size_t b = 0; b * B < jb->m; b++) {
        const float *kt = jb->pack + b * B * (jb->d + jb->dvp);
        size_t jn = jb->m - b * B < B ? jb->m - b * B : B;
        size_t nv = (jn + VL - 1) / VL, c = 0;
        float *sb = s + i0 * lds + b * B;
        for (; c + ATTN_C <= nv; c += ATTN_C)
            qk_tile(q, kt, jb->d, g, sb, lds, R, ATTN_C, c, stream);
        for (; c < nv; c++)
            qk_tile(q, kt, jb->d, g, sb, lds, R, 1, c, stream);
    }
}

void ATTN_NAME(opk_attn_scores)(const opk_attn_job *jb, size_t r0, size_t r1,
                                float *s, size_t lds)
{
    /* S goes to memory when it cannot stay in the cache: no RFO then. */
    const int stream = lds % 16 == 0 && (uintptr_t)s % 64 == 0 &&
                       opk_stream_worthwhile(jb->n * lds * sizeof(float));
    size_t i = r0;
    if (stream) {
        for (; i + ATTN_R <= r1; i += ATTN_R)
            score_rows(jb, i, s, lds, 1, ATTN_R);
        for (; i < r1; i++)
            score_rows(jb, i, s, lds, 1, 1);
        v_sfence();
    }
    for (; i + ATTN_R <= r1; i += ATTN_R)
        score_rows(jb, i, s, lds, 0, ATTN_R);
    for (; i < r1; i++)
        score_rows(jb, i, s, lds, 0, 1);
}

/* B = P V: the fused kernel's P.V with sc = 1 (o * 1 = o, so the chain over
 * j runs on unbroken across key blocks) and l = 1 at the end. */
void ATTN_NAME(opk_attn_pv_rows)(const opk_attn_job *jb, const float *p,
                                 size_t ldp, size_t r0, size_t r1,
                                 float *scratch)
{
    const size_t dvp = jb->dvp, B = OPK_ATTN_BLOCK;
    float ones[ATTN_R], *ostate = scratch;
    for (int r = 0; r < ATTN_R; r++)
        ones[r] = 1.0f;
    for (size_t i0 = r0; i0 < r1; i0 += OPK_ATTN_TILE) {
        size_t tn = r1 - i0 < OPK_ATTN_TILE ? r1 - i0 : OPK_ATTN_TILE;
        for (size_t t = 0; t < tn * dvp; t += VL)
            v_store(ostate + t, v_zero());
        for (size_t b = 0; b * B < jb->m; b++) {
            const float *vp = jb->pack + b * B * (jb->d + dvp) + B * jb->d;
            size_t jn = jb->m - b * B < B ? jb->m - b * B : B;
            size_t t = 0;
            for (; t + ATTN_R <= tn; t += ATTN_R) {
                float *o[ATTN_R];
                for (int r = 0; r < ATTN_R; r++)
                    o[r] = ostate + (t + (size_t)r) * dvp;
                pv_rows(o, ones, p + (i0 + t) * ldp + b * B, ldp, vp, dvp, jn,
                        ATTN_R);
            }
            for (; t < tn; t++) {
                float *o = ostate + t * dvp;
                pv_rows(&o, ones, p + (i0 + t) * ldp + b * B, ldp, vp, dvp, jn,
                        1);
            }
        }
        for (size_t t = 0; t < tn; t++)
            finish_row(jb, i0 + t, ostate + t * dvp, 1.0f);
    }
}

