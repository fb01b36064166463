/* AVX2 Chebyshev order (SPEC 3.3), bit-identical to the scalar reference:
 * lanes are feature columns, rows one after another (see simd/cheb_simd.h for
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

/* Row i, columns f0 .. f0 + 8 NV (the last vector masked by ml). Rows
 * go one after another: interleaving several rows' chains wins in cache
 * but lost 30-50% on the large graphs (random v rows from memory), where
 * what counts is that the prefetch distance is measured in stored
 * entries. */
AI void row(const opk_cheb_job *j, const opk_cheb_step *s, const fin *k,
            size_t i, size_t f0, const int NV, __m256i ml, int64_t nnz)
{
    __m256 p[4];
    for (int u = 0; u < NV; u++)
        p[u] = _mm256_setzero_ps();
    const int64_t q0 = j->row_ptr[i], q1 = j->row_ptr[i + 1];
    if (f0 == 0)
        opk_cheb_stream(j, q0, q1, nnz);
    const float *vb = s->v + f0;
    for (int64_t q = q0; q < q1; q++)
        step(j, s, vb, q, NV, ml, nnz, p);
    const int has_w = s->w != NULL;
    const __m256i all = _mm256_set1_epi32(-1);
    for (int u = 0; u < NV; u++) {
        const __m256i mk = u == NV - 1 ? ml : all;
        const size_t f = f0 + 8 * (size_t)u;
        float *yr = s->y + i * s->ldy + f;
        __m256 vi = _mm256_maskload_ps(s->v + i * s->ldv + f, mk);
        __m256 wi = has_w ? _mm256_maskload_ps(s->w + i * s->ldw + f, mk)
                          : _mm256_setzero_ps();
        __m256 yi = has_w ? _mm256_maskload_ps(yr, mk) : _mm256_setzero_ps();
        __m256 t, y;
        finish(k, p[u], vi, wi, yi, has_w, &t, &y);
        if (s->t)
            _mm256_maskstore_ps(s->t + i * s->ldt + f, mk, t);
        _mm256_maskstore_ps(yr, mk, y);
    }
}

static void rows(const opk_cheb_job *j, const opk_cheb_step *s, const fin *k,
                 size_t r0, size_t r1, size_t f0, int nv, __m256i ml,
                 int64_t nnz)
{
    for (size_t i = r0; i < r1; i++)
        switch (nv) {
        case 4: row(j, s, k, i, f0, 4, ml, nnz); break;
        case 3: row(j, s, k, i, f0, 3, ml, nnz); break;
        case 2: row(j, s, k, i, f0, 2, ml, nnz); break;
        default: row(j, s, k, i, f0, 1, ml, nnz); break;
        }
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
        rows(j, s, &k, r0, r1, f0, nv, ml, nnz);
    }
}
