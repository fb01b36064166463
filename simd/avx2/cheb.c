/* AVX2 Chebyshev order (SPEC 3.3), bit-identical to the scalar reference:
 * lanes are rows when F < 8, feature columns when F >= 8 (see
 * simd/cheb_simd.h). AVX2 has no mask registers: masked gathers and loads
 * take a vector mask, a masked fma is the fma blended into the kept p, and
 * strided stores go through a small array. */
#include "../../kernels/scalar.h"
#include "../cheb_simd.h"
#include "kernels.h"
#include "vec.h"

#define AI static inline __attribute__((always_inline))

typedef struct fin {
    __m256 alpha, gamma, c, c0;
} fin;

/* As simd/avx512/cheb.c: a + a is exactly fl(2a). */
AI void finish(const fin *k, __m256 p, __m256 vi, __m256 wi, __m256 yi,
               int has_w, __m256 *t, __m256 *y)
{
    __m256 a = _mm256_fmadd_ps(k->alpha, p, _mm256_mul_ps(k->gamma, vi));
    if (has_w) {
        *t = _mm256_sub_ps(_mm256_add_ps(a, a), wi);
        *y = _mm256_fmadd_ps(k->c, *t, yi);
    } else {
        *t = a;
        *y = _mm256_fmadd_ps(k->c, a, _mm256_mul_ps(k->c0, vi));
    }
}

/* ---- F >= 8: lanes are feature columns --------------------------------------- */

AI void feat_block(const opk_cheb_job *j, const opk_cheb_step *s, const fin *k,
                   size_t i, size_t f0, const int nv, __m256i ml, int64_t nnz)
{
    __m256 p[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps(), _mm256_setzero_ps()};
    const int64_t q0 = j->row_ptr[i], q1 = j->row_ptr[i + 1];
    const float *vb = s->v + f0;
    const size_t ldv = s->ldv;
    const int32_t *col = j->col_idx;
    for (int64_t q = q0; q < q1; q++) {
        if (q + OPK_CHEB_PREFETCH < nnz) {
            const char *pf =
                (const char *)(vb + (size_t)col[q + OPK_CHEB_PREFETCH] * ldv);
            for (int u = 0; u < nv; u += 2)
                _mm_prefetch(pf + 32 * u, _MM_HINT_T0);
            _mm_prefetch(pf + 32 * nv - 4, _MM_HINT_T0);
        }
        const __m256 a = _mm256_set1_ps(j->val[q]);
        const float *vr = vb + (size_t)col[q] * ldv;
        for (int u = 0; u < nv - 1; u++)
            p[u] = _mm256_fmadd_ps(a, _mm256_loadu_ps(vr + 8 * u), p[u]);
        p[nv - 1] = _mm256_fmadd_ps(
            a, _mm256_maskload_ps(vr + 8 * (nv - 1), ml), p[nv - 1]);
    }
    const int has_w = s->w != NULL;
    const __m256i all = _mm256_set1_epi32(-1);
    for (int u = 0; u < nv; u++) {
        const __m256i m = u == nv - 1 ? ml : all;
        const size_t f = f0 + 8 * (size_t)u;
        float *yr = s->y + i * s->ldy + f;
        __m256 vi = _mm256_maskload_ps(s->v + i * ldv + f, m);
        __m256 wi = has_w ? _mm256_maskload_ps(s->w + i * s->ldw + f, m)
                          : _mm256_setzero_ps();
        __m256 yi = has_w ? _mm256_maskload_ps(yr, m) : _mm256_setzero_ps();
        __m256 t, y;
        finish(k, p[u], vi, wi, yi, has_w, &t, &y);
        if (s->t)
            _mm256_maskstore_ps(s->t + i * s->ldt + f, m, t);
        _mm256_maskstore_ps(yr, m, y);
    }
}

static void feat_rows(const opk_cheb_job *j, const opk_cheb_step *s,
                      const fin *k, size_t r0, size_t r1)
{
    const size_t F = j->F;
    const int64_t nnz = j->row_ptr[j->n];
    for (size_t i = r0; i < r1; i++)
        for (size_t f0 = 0; f0 < F; f0 += 32) {
            const size_t w = F - f0 < 32 ? F - f0 : 32;
            const int nv = (int)((w + 7) / 8);
            const __m256i ml = v8_mask_n(w - 8 * (size_t)(nv - 1));
            switch (nv) {
            case 4: feat_block(j, s, k, i, f0, 4, ml, nnz); break;
            case 3: feat_block(j, s, k, i, f0, 3, ml, nnz); break;
            case 2: feat_block(j, s, k, i, f0, 2, ml, nnz); break;
            default: feat_block(j, s, k, i, f0, 1, ml, nnz); break;
            }
        }
}

/* ---- F < 8: lanes are rows ----------------------------------------------------- */

AI __m256 load_rows(const float *a, size_t ld, size_t i0, size_t f, __m256i m,
                    __m256i lane)
{
    if (ld == 1)
        return _mm256_maskload_ps(a + i0 + f, m);
    __m256i idx = _mm256_mullo_epi32(lane, _mm256_set1_epi32((int)ld));
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), a + i0 * ld + f, idx,
                                    _mm256_castsi256_ps(m), 4);
}

AI void store_rows(float *a, size_t ld, size_t i0, size_t f, __m256i m, int nl,
                   unsigned skip, __m256 x)
{
    if (ld == 1) {
        _mm256_maskstore_ps(a + i0 + f, m, x);
        return;
    }
    float tmp[8];
    _mm256_storeu_ps(tmp, x);
    for (int l = 0; l < nl; l++)
        if (!(skip >> l & 1))
            a[(i0 + (size_t)l) * ld + f] = tmp[l];
}

AI void lane_rows(const opk_cheb_job *j, const opk_cheb_step *s, const fin *k,
                  size_t r0, size_t r1, const int F)
{
    const int64_t *rp = j->row_ptr;
    const int64_t lim = opk_cheb_long_row(j, r0, r1);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i ldv = _mm256_set1_epi32((int)s->ldv);
    const int has_w = s->w != NULL;
    for (size_t i0 = r0; i0 < r1; i0 += 8) {
        const int nl = r1 - i0 < 8 ? (int)(r1 - i0) : 8;
        const int64_t base = rp[i0];
        if (rp[i0 + (size_t)nl] - base > INT32_MAX) {
            opk_cheb_rows_scalar(j, s, i0, i0 + (size_t)nl);
            continue;
        }
        int32_t off[8], len[8], keep[8], maxlen = 0;
        unsigned longm = 0;
        for (int l = 0; l < 8; l++) {
            int64_t L = l < nl ? rp[i0 + (size_t)l + 1] - rp[i0 + (size_t)l] : 0;
            if (L > lim)
                longm |= 1u << l, L = 0;
            off[l] = l < nl ? (int32_t)(rp[i0 + (size_t)l] - base) : 0;
            len[l] = (int32_t)L;
            keep[l] = l < nl && !(longm >> l & 1) ? -1 : 0;
            maxlen = len[l] > maxlen ? len[l] : maxlen;
        }
        const __m256i offv = _mm256_loadu_si256((const __m256i *)off);
        const __m256i lenv = _mm256_loadu_si256((const __m256i *)len);
        const int32_t *cb = j->col_idx + base;
        const float *vb = j->val + base;
        __m256 p[7];
        for (int f = 0; f < F; f++)
            p[f] = _mm256_setzero_ps();
        for (int32_t q = 0; q < maxlen; q++) {
            const __m256i qv = _mm256_set1_epi32(q);
            const __m256i act = _mm256_cmpgt_epi32(lenv, qv);
            const __m256 actf = _mm256_castsi256_ps(act);
            const __m256i idx = _mm256_add_epi32(offv, qv);
            const __m256i col = _mm256_mask_i32gather_epi32(
                _mm256_setzero_si256(), cb, idx, act, 4);
            const __m256 a =
                _mm256_mask_i32gather_ps(_mm256_setzero_ps(), vb, idx, actf, 4);
            const __m256i ci = F == 1 && s->ldv == 1 ? col
                                                     : _mm256_mullo_epi32(col, ldv);
            for (int f = 0; f < F; f++) {
                const __m256 vg = _mm256_mask_i32gather_ps(_mm256_setzero_ps(),
                                                           s->v + f, ci, actf, 4);
                /* Ended rows keep p bit for bit (also a -0). */
                p[f] = _mm256_blendv_ps(p[f], _mm256_fmadd_ps(a, vg, p[f]), actf);
            }
        }
        const __m256i kn = _mm256_loadu_si256((const __m256i *)keep);
        for (int f = 0; f < F; f++) {
            __m256 vi = load_rows(s->v, s->ldv, i0, (size_t)f, kn, lane);
            __m256 wi = has_w ? load_rows(s->w, s->ldw, i0, (size_t)f, kn, lane)
                              : _mm256_setzero_ps();
            __m256 yi = has_w ? load_rows(s->y, s->ldy, i0, (size_t)f, kn, lane)
                              : _mm256_setzero_ps();
            __m256 t, y;
            finish(k, p[f], vi, wi, yi, has_w, &t, &y);
            if (s->t)
                store_rows(s->t, s->ldt, i0, (size_t)f, kn, nl, longm, t);
            store_rows(s->y, s->ldy, i0, (size_t)f, kn, nl, longm, y);
        }
        for (int l = 0; l < nl; l++)
            if (longm >> l & 1)
                opk_cheb_rows_scalar(j, s, i0 + (size_t)l, i0 + (size_t)l + 1);
    }
}

void opk_cheb_rows_avx2(const opk_cheb_job *j, const opk_cheb_step *s,
                        size_t r0, size_t r1)
{
    const fin k = {_mm256_set1_ps(j->alpha), _mm256_set1_ps(j->gamma),
                   _mm256_set1_ps(s->c), _mm256_set1_ps(s->c0)};
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
