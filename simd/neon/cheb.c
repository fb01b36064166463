/* NEON Chebyshev order (SPEC 3.3), bit-identical to the scalar reference:
 * lanes are feature columns (4 per vector, up to 4 vectors per pass over a
 * row's entries), rows one after another (simd/cheb_simd.h says why). The
 * 1-3 columns left over at the end of a block (all of them when F < 4)
 * run as scalar fma chains in the same pass: the same operations lane by
 * lane, and no partial-vector loads per stored entry. */
#include <math.h>

#include "../cheb_simd.h"
#include "neon.h"
#include "vec.h"

#define AI static inline __attribute__((always_inline))

/* Column block [f0, f0 + 4 NV + NS) of row i: NV vectors, NS (< 4) scalars. */
AI void row(const opk_cheb_job *j, const opk_cheb_step *s, size_t i,
            size_t f0, const int NV, size_t ns, int64_t nnz)
{
    float32x4_t p[4];
    float ps[3] = {0.0f, 0.0f, 0.0f};
    for (int u = 0; u < NV; u++)
        p[u] = vdupq_n_f32(0.0f);
    const int64_t q0 = j->row_ptr[i], q1 = j->row_ptr[i + 1];
    const size_t ldv = s->ldv, fs = f0 + 4 * (size_t)NV;
    for (int64_t q = q0; q < q1; q++) {
        if (q + OPK_CHEB_PREFETCH < nnz)
            __builtin_prefetch(s->v + (size_t)j->col_idx[q + OPK_CHEB_PREFETCH] * ldv + f0);
        const float a = j->val[q];
        const float *vr = s->v + (size_t)j->col_idx[q] * ldv;
        for (int u = 0; u < NV; u++)
            p[u] = vfmaq_n_f32(p[u], vld1q_f32(vr + f0 + 4 * (size_t)u), a);
        for (size_t k = 0; k < ns; k++)
            ps[k] = fmaf(a, vr[fs + k], ps[k]);
    }
    /* a = fma(alpha, p, fl(gamma v)); first order: t = a, y = fma(c, a,
     * fl(c0 v)); later: t = fl(fl(2a) - w), y = fma(c, t, y). */
    const int has_w = s->w != NULL;
    const float32x4_t al = vdupq_n_f32(j->alpha), ga = vdupq_n_f32(j->gamma);
    const float32x4_t c = vdupq_n_f32(s->c), c0 = vdupq_n_f32(s->c0);
    for (int u = 0; u < NV; u++) {
        const size_t f = f0 + 4 * (size_t)u;
        float *yr = s->y + i * s->ldy + f;
        float32x4_t vi = vld1q_f32(s->v + i * ldv + f);
        float32x4_t b = vfmaq_f32(vmulq_f32(ga, vi), al, p[u]);
        float32x4_t t, y;
        if (has_w) {
            t = vsubq_f32(vaddq_f32(b, b), vld1q_f32(s->w + i * s->ldw + f));
            y = vfmaq_f32(vld1q_f32(yr), c, t);
        } else {
            t = b;
            y = vfmaq_f32(vmulq_f32(c0, vi), c, b);
        }
        if (s->t)
            vst1q_f32(s->t + i * s->ldt + f, t);
        vst1q_f32(yr, y);
    }
    for (size_t k = 0; k < ns; k++) { /* as kernels/cheb.c, one column */
        const size_t f = fs + k;
        const float vi = s->v[i * ldv + f];
        const float b = fmaf(j->alpha, ps[k], j->gamma * vi);
        float t, y;
        if (has_w) {
            t = 2.0f * b - s->w[i * s->ldw + f];
            y = fmaf(s->c, t, s->y[i * s->ldy + f]);
        } else {
            t = b;
            y = fmaf(s->c, t, s->c0 * vi);
        }
        if (s->t)
            s->t[i * s->ldt + f] = t;
        s->y[i * s->ldy + f] = y;
    }
}

void opk_cheb_rows_neon(const opk_cheb_job *j, const opk_cheb_step *s,
                        size_t r0, size_t r1)
{
    const size_t F = j->F;
    const int64_t nnz = j->row_ptr[j->n];
    if (F == 1) { /* one lane: scalar fma (simd/cheb_simd.h) */
        opk_cheb_rows_f1(j, s, r0, r1);
        return;
    }
    /* Column blocks of up to 16 (4 vectors); rows re-walked per block. */
    for (size_t f0 = 0; f0 < F; f0 += 16) {
        const size_t w = F - f0 < 16 ? F - f0 : 16;
        const int nv = (int)(w / 4);
        const size_t ns = w % 4;
        for (size_t i = r0; i < r1; i++)
            switch (nv) {
            case 4: row(j, s, i, f0, 4, ns, nnz); break;
            case 3: row(j, s, i, f0, 3, ns, nnz); break;
            case 2: row(j, s, i, f0, 2, ns, nnz); break;
            case 1: row(j, s, i, f0, 1, ns, nnz); break;
            default: row(j, s, i, f0, 0, ns, nnz); break;
            }
    }
}
