/* Sinkhorn passes (SPEC 3.2) with NEON: the bits of kernels/sinkhorn.c.
 * Row pass: lane16 sums in four registers (element j mod 16 from the row
 * start); column pass: 4 columns per vector, seq sums over ascending rows,
 * S streamed row by row (never transposed or copied). */
#include "../../kernels/sinkhorn_impl.h"
#include "../../kernels/sleef1.h"
#include "neon.h"
#include "vec.h"

/* fl(beta * s) of the 16-element block at p, min(rem, 16) of it real
 * (other lanes +0 * beta). */
static inline void t16(const float *p, size_t rem, float32x4_t vb,
                       float32x4_t t[4])
{
    opk_neon_load16_n(p, rem, t);
    for (int k = 0; k < 4; k++)
        t[k] = vmulq_f32(vb, t[k]);
}

/* r_i = lane16_j E(fl(fl(t_j + fo) + g_j)); P_ij written too when p (the
 * block of s is read before it is written: safe in place). */
static float row_check(const float *s, const float *g, size_t m,
                       float32x4_t vb, float fo, float *p)
{
    const float32x4_t vfo = vdupq_n_f32(fo);
    opk_neon_lane16 acc;
    opk_neon_lane16_init(&acc);
    for (size_t j = 0; j < m; j += 16) {
        size_t rem = m - j;
        float32x4_t t[4], gv[4];
        t16(s + j, rem, vb, t);
        opk_neon_load16_n(g + j, rem, gv);
        for (int k = 0; k < 4; k++)
            t[k] = opk_neon_E(vaddq_f32(vaddq_f32(t[k], vfo), gv[k]));
        opk_neon_lane16_add_n(&acc, t, rem);
        if (p)
            opk_neon_store16_n(p + j, t, rem);
    }
    return opk_neon_lane16_result(&acc);
}

/* The update of row i: t_j into tbuf, M = max_j fl(t_j + g_j) (NaN-aware:
 * FMAX propagates NaN), f_i, then cmax_j = max(cmax_j, fl(t_j + f_i)). */
static float row_update(const float *s, const float *g, size_t m,
                        float32x4_t vb, float la, float *cmax, float *tbuf)
{
    float32x4_t mv[4];
    for (int k = 0; k < 4; k++)
        mv[k] = vdupq_n_f32(-INFINITY);
    for (size_t j = 0; j < m; j += 16) {
        size_t rem = m - j;
        float32x4_t t[4], gv[4];
        t16(s + j, rem, vb, t);
        opk_neon_load16_n(g + j, rem, gv);
        for (size_t k = 0; k < 4; k++) {
            vst1q_f32(tbuf + j + 4 * k, t[k]); /* scratch: cols + 64 floats */
            float32x4_t u = opk_neon_keep_n(vaddq_f32(t[k], gv[k]),
                                            opk_neon_count(rem, k), -INFINITY);
            mv[k] = opk_neon_max(mv[k], u);
        }
    }
    float M = opk_neon_hmax(opk_neon_max(opk_neon_max(mv[0], mv[1]),
                                         opk_neon_max(mv[2], mv[3])));
    float lse = -INFINITY;
    if (M != -INFINITY) {
        const float32x4_t vm = vdupq_n_f32(M);
        opk_neon_lane16 acc;
        opk_neon_lane16_init(&acc);
        for (size_t j = 0; j < m; j += 16) {
            size_t rem = m - j;
            float32x4_t e[4], gv[4];
            opk_neon_load16_n(g + j, rem, gv);
            for (int k = 0; k < 4; k++)
                e[k] = opk_neon_E(vsubq_f32(
                    vaddq_f32(vld1q_f32(tbuf + j + 4 * k), gv[k]), vm));
            opk_neon_lane16_add_n(&acc, e, rem);
        }
        lse = M + opk_Lg(opk_neon_lane16_result(&acc));
    }
    float f = la - lse;
    const float32x4_t vf = vdupq_n_f32(f);
    for (size_t j = 0; j < m; j += 4) {
        size_t c = m - j;
        float32x4_t u = vaddq_f32(vld1q_f32(tbuf + j), vf);
        opk_neon_store_n(cmax + j, opk_neon_max(opk_neon_load_n(cmax + j, c), u), c);
    }
    return f;
}

void opk_sinkhorn_rows_neon(const opk_sinkhorn_job *jb, size_t r0, size_t r1,
                            unsigned mode, float *cmax, float *scratch)
{
    const size_t m = jb->cols;
    const float32x4_t vb = vdupq_n_f32(jb->beta);
    for (size_t i = r0; i < r1; i++) {
        const float *s = jb->s + i * jb->lds;
        if (mode & (OPK_SK_CHECK | OPK_SK_PLAN))
            jb->r[i] = row_check(s, jb->g, m, vb, jb->f[i],
                                 mode & OPK_SK_PLAN ? jb->p + i * jb->ldp : NULL);
        if (!(mode & OPK_SK_UPDATE))
            continue;
        if (jb->la[i] == -INFINITY) /* zero mass: see the scalar reference */
            jb->fnew[i] = -INFINITY;
        else
            jb->fnew[i] = row_update(s, jb->g, m, vb, jb->la[i], cmax, scratch);
    }
}

void opk_sinkhorn_cols_neon(const opk_sinkhorn_job *jb, size_t c0, size_t c1,
                            float *scratch)
{
    const size_t w = c1 - c0;
    const float *cm = jb->cmax + c0;
    const float32x4_t vb = vdupq_n_f32(jb->beta);
    float *sum = scratch; /* w + 64 floats: whole vectors fit */
    for (size_t c = 0; c < w; c += 4)
        vst1q_f32(sum + c, vdupq_n_f32(0.0f));
    for (size_t i = 0; i < jb->rows; i++) {
        const float fi = jb->f[i];
        if (fi == -INFINITY) /* as the scalar reference: adds +0 or is */
            continue;        /* discarded */
        const float *s = jb->s + i * jb->lds + c0;
        const float32x4_t vf = vdupq_n_f32(fi);
        for (size_t c = 0; c < w; c += 4) {
            size_t n = w - c;
            float32x4_t u = vaddq_f32(vmulq_f32(vb, opk_neon_load_n(s + c, n)), vf);
            float32x4_t e = opk_neon_E(vsubq_f32(u, opk_neon_load_n(cm + c, n)));
            vst1q_f32(sum + c, vaddq_f32(vld1q_f32(sum + c), e));
        }
    }
    const float32x4_t ninf = vdupq_n_f32(-INFINITY);
    for (size_t c = 0; c < w; c += 4) {
        size_t n = w - c;
        float32x4_t M = opk_neon_load_n(cm + c, n);
        float32x4_t lb = opk_neon_load_n(jb->lb + c0 + c, n);
        float32x4_t lgs = opk_neon_Lg(vld1q_f32(sum + c));
        /* opk_sinkhorn_g, lane by lane */
        float32x4_t lse = vbslq_f32(vceqq_f32(M, ninf), ninf, vaddq_f32(M, lgs));
        float32x4_t g = vbslq_f32(vceqq_f32(lb, ninf), ninf, vsubq_f32(lb, lse));
        opk_neon_store_n(jb->g + c0 + c, g, n);
    }
}
