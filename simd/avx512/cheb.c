/* AVX-512 Chebyshev order (SPEC 3.3), bit-identical to the scalar
 * reference: lanes are feature columns, rows one after another (see
 * simd/cheb_simd.h for the layout and why not gathers). */
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

/* p[u] = fma(val[q], v[col[q]][f0 + 16u ...], p[u]) for u < NV. */
AI void step(const opk_cheb_job *j, const opk_cheb_step *s, const float *vb,
             int64_t q, const int NV, __mmask16 kl, int64_t nnz, __m512 *p)
{
    const size_t ldv = s->ldv;
    if (q + OPK_CHEB_PREFETCH < nnz) {
        const char *pf =
            (const char *)(vb + (size_t)j->col_idx[q + OPK_CHEB_PREFETCH] * ldv);
        for (int u = 0; u < NV; u++)
            _mm_prefetch(pf + 64 * u, _MM_HINT_T0);
        if (NV > 1)
            _mm_prefetch(pf + 64 * NV - 4, _MM_HINT_T0); /* unaligned rows */
    }
    const __m512 a = _mm512_set1_ps(j->val[q]);
    const float *vr = vb + (size_t)j->col_idx[q] * ldv;
    for (int u = 0; u < NV - 1; u++)
        p[u] = _mm512_fmadd_ps(a, _mm512_loadu_ps(vr + 16 * u), p[u]);
    p[NV - 1] = _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(kl, vr + 16 * (NV - 1)),
                                p[NV - 1]);
}

/* Row i, columns f0 .. f0 + 16 NV (the last vector masked by kl). Rows
 * go one after another: interleaving several rows' chains wins in cache
 * but lost 30-50% on the large graphs (random v rows from memory), where
 * what counts is that the prefetch distance is measured in stored
 * entries. */
AI void row(const opk_cheb_job *j, const opk_cheb_step *s, const fin *k,
            size_t i, size_t f0, const int NV, __mmask16 kl, int64_t nnz)
{
    __m512 p[4];
    for (int u = 0; u < NV; u++)
        p[u] = _mm512_setzero_ps();
    const int64_t q0 = j->row_ptr[i], q1 = j->row_ptr[i + 1];
    if (f0 == 0)
        opk_cheb_stream(j, q0, q1, nnz);
    const float *vb = s->v + f0;
    for (int64_t q = q0; q < q1; q++)
        step(j, s, vb, q, NV, kl, nnz, p);
    const int has_w = s->w != NULL;
    for (int u = 0; u < NV; u++) {
        const __mmask16 mk = u == NV - 1 ? kl : (__mmask16)0xFFFF;
        const size_t f = f0 + 16 * (size_t)u;
        float *yr = s->y + i * s->ldy + f;
        __m512 vi = _mm512_maskz_loadu_ps(mk, s->v + i * s->ldv + f);
        __m512 wi = has_w ? _mm512_maskz_loadu_ps(mk, s->w + i * s->ldw + f)
                          : _mm512_setzero_ps();
        __m512 yi = has_w ? _mm512_maskz_loadu_ps(mk, yr) : _mm512_setzero_ps();
        __m512 t, y;
        finish(k, p[u], vi, wi, yi, has_w, &t, &y);
        if (s->t)
            _mm512_mask_storeu_ps(s->t + i * s->ldt + f, mk, t);
        _mm512_mask_storeu_ps(yr, mk, y);
    }
}

static void rows(const opk_cheb_job *j, const opk_cheb_step *s, const fin *k,
                 size_t r0, size_t r1, size_t f0, int nv, __mmask16 kl,
                 int64_t nnz)
{
    for (size_t i = r0; i < r1; i++)
        switch (nv) {
        case 4: row(j, s, k, i, f0, 4, kl, nnz); break;
        case 3: row(j, s, k, i, f0, 3, kl, nnz); break;
        case 2: row(j, s, k, i, f0, 2, kl, nnz); break;
        default: row(j, s, k, i, f0, 1, kl, nnz); break;
        }
}

void opk_cheb_rows_avx512(const opk_cheb_job *j, const opk_cheb_step *s,
                          size_t r0, size_t r1)
{
    if (j->F == 1) { /* one lane: scalar fma (simd/cheb_simd.h) */
        opk_cheb_rows_f1(j, s, r0, r1);
        return;
    }
    const fin k = {_mm512_set1_ps(j->alpha), _mm512_set1_ps(j->gamma),
                   _mm512_set1_ps(s->c), _mm512_set1_ps(s->c0)};
    const size_t F = j->F;
    const int64_t nnz = j->row_ptr[j->n];
    /* Column blocks of up to 64 (4 vectors); rows re-walked per block. */
    for (size_t f0 = 0; f0 < F; f0 += 64) {
        const size_t w = F - f0 < 64 ? F - f0 : 64;
        const int nv = (int)((w + 15) / 16);
        const __mmask16 kl = v16_mask_n(w - 16 * (size_t)(nv - 1));
        rows(j, s, &k, r0, r1, f0, nv, kl, nnz);
    }
}
