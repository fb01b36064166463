/* AVX-512 Chebyshev order (SPEC 3.3), bit-identical to the scalar
 * reference: lanes are rows when F < 8, feature columns when F >= 8 (see
 * simd/cheb_simd.h). */
#include "../../kernels/scalar.h"
#include "../cheb_simd.h"
#include "kernels.h"
#include "vec.h"

#define AI static inline __attribute__((always_inline))

typedef struct fin {
    __m512 alpha, gamma, c, c0;
} fin;

/* a = fma(alpha, p, fl(gamma v)); first order: t = a, y = fma(c, a, fl(c0 v));
 * later: t = fl(fl(2a) - w), y = fma(c, t, y). a + a is exactly fl(2a). */
AI void finish(const fin *k, __m512 p, __m512 vi, __m512 wi, __m512 yi,
               int has_w, __m512 *t, __m512 *y)
{
    __m512 a = _mm512_fmadd_ps(k->alpha, p, _mm512_mul_ps(k->gamma, vi));
    if (has_w) {
        *t = _mm512_sub_ps(_mm512_add_ps(a, a), wi);
        *y = _mm512_fmadd_ps(k->c, *t, yi);
    } else {
        *t = a;
        *y = _mm512_fmadd_ps(k->c, a, _mm512_mul_ps(k->c0, vi));
    }
}

/* ---- F >= 8: lanes are feature columns --------------------------------------- */

/* Row i, columns f0 .. f0 + 16 nv (the last vector masked by kl). */
AI void feat_block(const opk_cheb_job *j, const opk_cheb_step *s, const fin *k,
                   size_t i, size_t f0, const int nv, __mmask16 kl,
                   int64_t nnz)
{
    __m512 p[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps(), _mm512_setzero_ps()};
    const int64_t q0 = j->row_ptr[i], q1 = j->row_ptr[i + 1];
    const float *vb = s->v + f0;
    const size_t ldv = s->ldv;
    const int32_t *col = j->col_idx;
    for (int64_t q = q0; q < q1; q++) {
        if (q + OPK_CHEB_PREFETCH < nnz) {
            const char *pf =
                (const char *)(vb + (size_t)col[q + OPK_CHEB_PREFETCH] * ldv);
            for (int u = 0; u < nv; u++)
                _mm_prefetch(pf + 64 * u, _MM_HINT_T0);
            _mm_prefetch(pf + 64 * nv - 4, _MM_HINT_T0); /* unaligned rows */
        }
        const __m512 a = _mm512_set1_ps(j->val[q]);
        const float *vr = vb + (size_t)col[q] * ldv;
        for (int u = 0; u < nv - 1; u++)
            p[u] = _mm512_fmadd_ps(a, _mm512_loadu_ps(vr + 16 * u), p[u]);
        p[nv - 1] = _mm512_fmadd_ps(
            a, _mm512_maskz_loadu_ps(kl, vr + 16 * (nv - 1)), p[nv - 1]);
    }
    const int has_w = s->w != NULL;
    for (int u = 0; u < nv; u++) {
        const __mmask16 m = u == nv - 1 ? kl : (__mmask16)0xFFFF;
        const size_t f = f0 + 16 * (size_t)u;
        float *yr = s->y + i * s->ldy + f;
        __m512 vi = _mm512_maskz_loadu_ps(m, s->v + i * ldv + f);
        __m512 wi = has_w ? _mm512_maskz_loadu_ps(m, s->w + i * s->ldw + f)
                          : _mm512_setzero_ps();
        __m512 yi = has_w ? _mm512_maskz_loadu_ps(m, yr) : _mm512_setzero_ps();
        __m512 t, y;
        finish(k, p[u], vi, wi, yi, has_w, &t, &y);
        if (s->t)
            _mm512_mask_storeu_ps(s->t + i * s->ldt + f, m, t);
        _mm512_mask_storeu_ps(yr, m, y);
    }
}

static void feat_rows(const opk_cheb_job *j, const opk_cheb_step *s,
                      const fin *k, size_t r0, size_t r1)
{
    const size_t F = j->F;
    const int64_t nnz = j->row_ptr[j->n];
    for (size_t i = r0; i < r1; i++)
        for (size_t f0 = 0; f0 < F; f0 += 64) {
            const size_t w = F - f0 < 64 ? F - f0 : 64;
            const int nv = (int)((w + 15) / 16);
            const __mmask16 kl = v16_mask_n(w - 16 * (size_t)(nv - 1));
            switch (nv) {
            case 4: feat_block(j, s, k, i, f0, 4, kl, nnz); break;
            case 3: feat_block(j, s, k, i, f0, 3, kl, nnz); break;
            case 2: feat_block(j, s, k, i, f0, 2, kl, nnz); break;
            default: feat_block(j, s, k, i, f0, 1, kl, nnz); break;
            }
        }
}

/* ---- F < 8: lanes are rows ----------------------------------------------------- */

/* Loads column f of rows i0 .. i0+15 (lanes in m) of a matrix with leading
 * dimension ld; contiguous when ld == 1. */
AI __m512 load_rows(const float *a, size_t ld, size_t i0, size_t f,
                    __mmask16 m, __m512i lane)
{
    if (ld == 1)
        return _mm512_maskz_loadu_ps(m, a + i0 + f);
    __m512i idx = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)ld));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, a + i0 * ld + f,
                                    4);
}

AI void store_rows(float *a, size_t ld, size_t i0, size_t f, __mmask16 m,
                   __m512i lane, __m512 x)
{
    if (ld == 1) {
        _mm512_mask_storeu_ps(a + i0 + f, m, x);
        return;
    }
    __m512i idx = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)ld));
    _mm512_mask_i32scatter_ps(a + i0 * ld + f, m, idx, x, 4);
}

AI void lane_rows(const opk_cheb_job *j, const opk_cheb_step *s, const fin *k,
                  size_t r0, size_t r1, const int F)
{
    const int64_t *rp = j->row_ptr;
    const int64_t lim = opk_cheb_long_row(j, r0, r1);
    const __m512i lane =
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i ldv = _mm512_set1_epi32((int)s->ldv);
    const int has_w = s->w != NULL;
    for (size_t i0 = r0; i0 < r1; i0 += 16) {
        const int nl = r1 - i0 < 16 ? (int)(r1 - i0) : 16;
        const int64_t base = rp[i0];
        if (rp[i0 + (size_t)nl] - base > INT32_MAX) {
            opk_cheb_rows_scalar(j, s, i0, i0 + (size_t)nl);
            continue;
        }
        int32_t off[16], len[16], maxlen = 0;
        unsigned longm = 0;
        for (int l = 0; l < 16; l++) {
            int64_t L = l < nl ? rp[i0 + (size_t)l + 1] - rp[i0 + (size_t)l] : 0;
            if (L > lim)
                longm |= 1u << l, L = 0;
            off[l] = l < nl ? (int32_t)(rp[i0 + (size_t)l] - base) : 0;
            len[l] = (int32_t)L;
            maxlen = len[l] > maxlen ? len[l] : maxlen;
        }
        const __m512i offv = _mm512_loadu_si512(off);
        const __m512i lenv = _mm512_loadu_si512(len);
        const int32_t *cb = j->col_idx + base;
        const float *vb = j->val + base;
        __m512 p[7];
        for (int f = 0; f < F; f++)
            p[f] = _mm512_setzero_ps();
        for (int32_t q = 0; q < maxlen; q++) {
            const __m512i qv = _mm512_set1_epi32(q);
            const __mmask16 act = _mm512_cmpgt_epi32_mask(lenv, qv);
            const __m512i idx = _mm512_add_epi32(offv, qv);
            const __m512i col = _mm512_mask_i32gather_epi32(
                _mm512_setzero_si512(), act, idx, cb, 4);
            const __m512 a =
                _mm512_mask_i32gather_ps(_mm512_setzero_ps(), act, idx, vb, 4);
            const __m512i ci = F == 1 && s->ldv == 1 ? col
                                                     : _mm512_mullo_epi32(col, ldv);
            for (int f = 0; f < F; f++) {
                const __m512 vg = _mm512_mask_i32gather_ps(
                    _mm512_setzero_ps(), act, ci, s->v + f, 4);
                p[f] = _mm512_mask3_fmadd_ps(a, vg, p[f], act);
            }
        }
        const __mmask16 kn = v16_mask_n((size_t)nl) & (__mmask16)~longm;
        for (int f = 0; f < F; f++) {
            __m512 vi = load_rows(s->v, s->ldv, i0, (size_t)f, kn, lane);
            __m512 wi = has_w ? load_rows(s->w, s->ldw, i0, (size_t)f, kn, lane)
                              : _mm512_setzero_ps();
            __m512 yi = has_w ? load_rows(s->y, s->ldy, i0, (size_t)f, kn, lane)
                              : _mm512_setzero_ps();
            __m512 t, y;
            finish(k, p[f], vi, wi, yi, has_w, &t, &y);
            if (s->t)
                store_rows(s->t, s->ldt, i0, (size_t)f, kn, lane, t);
            store_rows(s->y, s->ldy, i0, (size_t)f, kn, lane, y);
        }
        for (int l = 0; l < nl; l++)
            if (longm >> l & 1)
                opk_cheb_rows_scalar(j, s, i0 + (size_t)l, i0 + (size_t)l + 1);
    }
}

void opk_cheb_rows_avx512(const opk_cheb_job *j, const opk_cheb_step *s,
                          size_t r0, size_t r1)
{
    const fin k = {_mm512_set1_ps(j->alpha), _mm512_set1_ps(j->gamma),
                   _mm512_set1_ps(s->c), _mm512_set1_ps(s->c0)};
    if (j->F >= 8) {
        feat_rows(j, s, &k, r0, r1);
        return;
    }
    if (!opk_cheb_lanes_fit(j, s)) {
        opk_cheb_rows_scalar(j, s, r0, r1);
        return;
    }
    switch (j->F) {
    case 1: lane_rows(j, s, &k, r0, r1, 1); break;
    case 2: lane_rows(j, s, &k, r0, r1, 2); break;
    case 3: lane_rows(j, s, &k, r0, r1, 3); break;
    case 4: lane_rows(j, s, &k, r0, r1, 4); break;
    case 5: lane_rows(j, s, &k, r0, r1, 5); break;
    case 6: lane_rows(j, s, &k, r0, r1, 6); break;
    default: lane_rows(j, s, &k, r0, r1, 7); break;
    }
}
