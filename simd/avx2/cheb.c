/* AVX2 Chebyshev order (SPEC 3.3), bit-identical to the scalar reference:
 * lanes are feature columns, G rows interleaved (see simd/cheb_simd.h for
 * the layout and why not gathers). Tails use vmaskmov loads and stores,
 * which neither read nor write the masked-off lanes. */
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

AI void step(const opk_cheb_job *j, const opk_cheb_step *s, const float *vb,
             int64_t q, const int NV, __m256i ml, int64_t nnz, __m256 *p)
{
    const size_t ldv = s->ldv;
    if (q + OPK_CHEB_PREFETCH < nnz) {
        const char *pf =
            (const char *)(vb + (size_t)j->col_idx[q + OPK_CHEB_PREFETCH] * ldv);
        for (int u = 0; u < NV; u += 2)
            _mm_prefetch(pf + 32 * u, _MM_HINT_T0);
        if (NV > 1)
            _mm_prefetch(pf + 32 * NV - 4, _MM_HINT_T0);
    }
    const __m256 a = _mm256_set1_ps(j->val[q]);
    const float *vr = vb + (size_t)j->col_idx[q] * ldv;
    for (int u = 0; u < NV - 1; u++)
        p[u] = _mm256_fmadd_ps(a, _mm256_loadu_ps(vr + 8 * u), p[u]);
    p[NV - 1] = _mm256_fmadd_ps(a, _mm256_maskload_ps(vr + 8 * (NV - 1), ml),
                                p[NV - 1]);
}

AI void block(const opk_cheb_job *j, const opk_cheb_step *s, const fin *k,
              size_t i, const int G, size_t f0, const int NV, __m256i ml,
              int64_t nnz)
{
    __m256 p[8][4];
    int64_t q0[8], q1[8], m = INT64_MAX;
    for (int g = 0; g < G; g++) {
        for (int u = 0; u < NV; u++)
            p[g][u] = _mm256_setzero_ps();
        q0[g] = j->row_ptr[i + (size_t)g];
        q1[g] = j->row_ptr[i + (size_t)g + 1];
        m = q1[g] - q0[g] < m ? q1[g] - q0[g] : m;
    }
    const float *vb = s->v + f0;
    for (int64_t e = 0; e < m; e++) /* G independent chains */
        for (int g = 0; g < G; g++)
            step(j, s, vb, q0[g] + e, NV, ml, nnz, p[g]);
    for (int g = 0; g < G; g++)
        for (int64_t q = q0[g] + m; q < q1[g]; q++)
            step(j, s, vb, q, NV, ml, nnz, p[g]);
    const int has_w = s->w != NULL;
    const __m256i all = _mm256_set1_epi32(-1);
    for (int g = 0; g < G; g++) {
        const size_t r = i + (size_t)g;
        for (int u = 0; u < NV; u++) {
            const __m256i mk = u == NV - 1 ? ml : all;
            const size_t f = f0 + 8 * (size_t)u;
            float *yr = s->y + r * s->ldy + f;
            __m256 vi = _mm256_maskload_ps(s->v + r * s->ldv + f, mk);
            __m256 wi = has_w ? _mm256_maskload_ps(s->w + r * s->ldw + f, mk)
                              : _mm256_setzero_ps();
            __m256 yi = has_w ? _mm256_maskload_ps(yr, mk) : _mm256_setzero_ps();
            __m256 t, y;
            finish(k, p[g][u], vi, wi, yi, has_w, &t, &y);
            if (s->t)
                _mm256_maskstore_ps(s->t + r * s->ldt + f, mk, t);
            _mm256_maskstore_ps(yr, mk, y);
        }
    }
}

/* G * NV accumulators stay within the 16 ymm registers. */
AI void rows(const opk_cheb_job *j, const opk_cheb_step *s, const fin *k,
             size_t r0, size_t r1, const int G, size_t f0, const int NV,
             __m256i ml, int64_t nnz)
{
    size_t i = r0;
    for (; i + (size_t)G <= r1; i += (size_t)G)
        block(j, s, k, i, G, f0, NV, ml, nnz);
    for (; i < r1; i++)
        block(j, s, k, i, 1, f0, NV, ml, nnz);
}

void opk_cheb_rows_avx2(const opk_cheb_job *j, const opk_cheb_step *s,
                        size_t r0, size_t r1)
{
    const fin k = {_mm256_set1_ps(j->alpha), _mm256_set1_ps(j->gamma),
                   _mm256_set1_ps(s->c), _mm256_set1_ps(s->c0)};
    const size_t F = j->F;
    const int64_t nnz = j->row_ptr[j->n];
    if (F == 1) { /* one lane: scalar fma (simd/cheb_simd.h) */
        opk_cheb_rows_f1(j, s, r0, r1);
        return;
    }
    for (size_t f0 = 0; f0 < F; f0 += 32) {
        const size_t w = F - f0 < 32 ? F - f0 : 32;
        const int nv = (int)((w + 7) / 8);
        const __m256i ml = v8_mask_n(w - 8 * (size_t)(nv - 1));
        switch (nv) {
        case 4: rows(j, s, &k, r0, r1, 2, f0, 4, ml, nnz); break;
        case 3: rows(j, s, &k, r0, r1, 2, f0, 3, ml, nnz); break;
        case 2: rows(j, s, &k, r0, r1, 4, f0, 2, ml, nnz); break;
        default: rows(j, s, &k, r0, r1, 8, f0, 1, ml, nnz); break;
        }
    }
}
