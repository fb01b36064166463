/* One Chebyshev order (SPEC 3.3) for any ISA with a simd/<isa>/vt.h layer:
 * lanes are feature columns, up to 4 vectors per pass over a row's stored
 * entries, rows one after another (simd/cheb_simd.h says why: no gathers,
 * prefetch distance in stored entries). The last vector of a block holds
 * cl lanes and is read and written with v_loadu_c / v_storeu_c, which
 * touch no lane past the row. Include after vt.h with CH_NAME(x) defined:
 * it defines CH_NAME(opk_cheb_rows). */
#include "cheb_simd.h"

#define CH_AI static inline __attribute__((always_inline))
#define CH_BLOCK (4 * VL) /* columns per pass */

typedef struct CH_NAME(fin) {
    VF alpha, gamma, c, c0;
} CH_NAME(fin);

/* a = fma(alpha, p, fl(gamma v)); first order: t = a, y = fma(c, a,
 * fl(c0 v)); later: t = fl(fl(2a) - w), y = fma(c, t, y). a + a is
 * exactly fl(2a). */
CH_AI void CH_NAME(finish)(const CH_NAME(fin) *k, VF p, VF vi, VF wi, VF yi,
                           int has_w, VF *t, VF *y)
{
    VF a = v_fma(k->alpha, p, v_mul(k->gamma, vi));
    if (has_w) {
        *t = v_sub(v_add(a, a), wi);
        *y = v_fma(k->c, *t, yi);
    } else {
        *t = a;
        *y = v_fma(k->c, a, v_mul(k->c0, vi));
    }
}

/* p[u] = fma(val[q], v[col[q]][f0 + VL u ...], p[u]) for u < NV. */
CH_AI void CH_NAME(step)(const opk_cheb_job *j, const opk_cheb_step *s,
                         const float *vb, int64_t q, const int NV, size_t cl,
                         int64_t nnz, VF *p)
{
    const size_t ldv = s->ldv;
    if (q + OPK_CHEB_PREFETCH < nnz) {
        const char *pf =
            (const char *)(vb + (size_t)j->col_idx[q + OPK_CHEB_PREFETCH] * ldv);
        for (size_t b = 0; b < 4 * VL * (size_t)NV; b += 64)
            v_prefetch_l1(pf + b);
        if (NV > 1)
            v_prefetch_l1(pf + 4 * VL * NV - 4); /* unaligned rows */
    }
    const VF a = v_set1(j->val[q]);
    const float *vr = vb + (size_t)j->col_idx[q] * ldv;
    for (int u = 0; u < NV - 1; u++)
        p[u] = v_fma(a, v_load(vr + VL * u), p[u]);
    p[NV - 1] = v_fma(a, v_loadu_c(vr + VL * (NV - 1), cl), p[NV - 1]);
}

/* Row i, columns f0 .. f0 + VL NV (the last vector has cl lanes). */
CH_AI void CH_NAME(row)(const opk_cheb_job *j, const opk_cheb_step *s,
                        const CH_NAME(fin) *k, size_t i, size_t f0,
                        const int NV, size_t cl, int64_t nnz)
{
    VF p[4];
    for (int u = 0; u < NV; u++)
        p[u] = v_zero();
    const int64_t q0 = j->row_ptr[i], q1 = j->row_ptr[i + 1];
    const float *vb = s->v + f0;
    for (int64_t q = q0; q < q1; q++)
        CH_NAME(step)(j, s, vb, q, NV, cl, nnz, p);
    const int has_w = s->w != NULL;
    for (int u = 0; u < NV; u++) {
        const size_t c = u == NV - 1 ? cl : VL;
        const size_t f = f0 + VL * (size_t)u;
        float *yr = s->y + i * s->ldy + f;
        VF vi = v_loadu_c(s->v + i * s->ldv + f, c);
        VF wi = has_w ? v_loadu_c(s->w + i * s->ldw + f, c) : v_zero();
        VF yi = has_w ? v_loadu_c(yr, c) : v_zero();
        VF t, y;
        CH_NAME(finish)(k, p[u], vi, wi, yi, has_w, &t, &y);
        if (s->t)
            v_storeu_c(s->t + i * s->ldt + f, t, c);
        v_storeu_c(yr, y, c);
    }
}

static void CH_NAME(rows)(const opk_cheb_job *j, const opk_cheb_step *s,
                          const CH_NAME(fin) *k, size_t r0, size_t r1,
                          size_t f0, int nv, size_t cl, int64_t nnz)
{
    for (size_t i = r0; i < r1; i++)
        switch (nv) {
        case 4: CH_NAME(row)(j, s, k, i, f0, 4, cl, nnz); break;
        case 3: CH_NAME(row)(j, s, k, i, f0, 3, cl, nnz); break;
        case 2: CH_NAME(row)(j, s, k, i, f0, 2, cl, nnz); break;
        default: CH_NAME(row)(j, s, k, i, f0, 1, cl, nnz); break;
        }
}

void CH_NAME(opk_cheb_rows)(const opk_cheb_job *j, const opk_cheb_step *s,
                            size_t r0, size_t r1)
{
    if (j->F == 1) { /* one lane: scalar fma (simd/cheb_simd.h) */
        opk_cheb_rows_f1(j, s, r0, r1);
        return;
    }
    const CH_NAME(fin) k = {v_set1(j->alpha), v_set1(j->gamma), v_set1(s->c),
                            v_set1(s->c0)};
    const size_t F = j->F;
    const int64_t nnz = j->row_ptr[j->n];
    /* Column blocks of up to 4 vectors; rows re-walked per block. */
    for (size_t f0 = 0; f0 < F; f0 += CH_BLOCK) {
        const size_t w = F - f0 < CH_BLOCK ? F - f0 : CH_BLOCK;
        const int nv = (int)((w + VL - 1) / VL);
        CH_NAME(rows)(j, s, &k, r0, r1, f0, nv, w - VL * (size_t)(nv - 1), nnz);
    }
}
