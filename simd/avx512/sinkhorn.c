/* Sinkhorn passes (SPEC 3.2) with AVX-512: the bits of kernels/sinkhorn.c.
 * Row pass: lane16 sums with lane l = element j mod 16 from the row start;
 * column pass: 16 columns per vector, seq sums over ascending rows, S
 * streamed row by row (never transposed or copied). */
#include <math.h>

#include "../../kernels/sinkhorn_impl.h"
#include "../../kernels/sleef1.h"
#include "kernels.h"
#include "vec.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* SLEEF's vector functions are calls that clobber every zmm register, so
 * sums run behind the exps: a block of E values goes to a buffer first. */
#define BLOCK 256

/* fl(beta * s) for the 16 elements at p, or the first n (other lanes +0). */
ALWAYS_INLINE __m512 t16(const float *p, __m512 vb, size_t n)
{
    return _mm512_mul_ps(vb, n == 16 ? _mm512_loadu_ps(p) : v16_load_n(p, n));
}

ALWAYS_INLINE __m512 ld16(const float *p, size_t n)
{
    return n == 16 ? _mm512_loadu_ps(p) : v16_load_n(p, n);
}

/* NaN-aware elementwise max (SPEC 1): maxps returns its second operand when
 * either is NaN, so a NaN already in c is put back. */
ALWAYS_INLINE __m512 max_nan(__m512 c, __m512 u)
{
    __m512 r = _mm512_max_ps(c, u);
    return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q), c);
}

/* Adds ebuf[0 .. len) to the lane16 sum (len may end in a partial chunk). */
ALWAYS_INLINE void sum_block(v16_lane16 *acc, const float *ebuf, size_t len)
{
    size_t k = 0;
    for (; k + 16 <= len; k += 16)
        v16_lane16_add(acc, _mm512_load_ps(ebuf + k));
    if (k < len)
        v16_lane16_add_n(acc, _mm512_load_ps(ebuf + k), len - k);
}

/* Sweep 1: t_j = fl(beta * s_j) into tbuf (the next sweeps read t instead
 * of recomputing it) and M = max_j fl(t_j + g_j). `clean`: no g_j is NaN or
 * +inf, so no u is NaN and a plain max will do (maxps(u, acc) keeps acc
 * when either is NaN). With `check` also the lane16 sum of
 * P_ij = E(fl(fl(t_j + fo) + g_j)) (fo the old f_i) into *rsum. */
ALWAYS_INLINE float sweep_max(int check, int clean, const float *s,
                              const float *g, size_t m, __m512 vb, float fo,
                              float *tbuf, float *ebuf, float *rsum)
{
    v16_max mx;
    v16_max_init(&mx);
    v16_lane16 acc;
    v16_lane16_init(&acc);
    const __m512 vfo = _mm512_set1_ps(fo);
    for (size_t b = 0; b < m; b += BLOCK) {
        size_t be = m - b < BLOCK ? m : b + BLOCK;
        for (size_t j = b; j < be; j += 16) {
            size_t c = be - j < 16 ? be - j : 16;
            __m512 t = t16(s + j, vb, c), gv = ld16(g + j, c);
            _mm512_store_ps(tbuf + j, t);
            __m512 u = _mm512_add_ps(t, gv);
            if (clean)
                mx.m = c == 16 ? _mm512_max_ps(u, mx.m)
                               : _mm512_mask_max_ps(mx.m, v16_mask_n(c), u, mx.m);
            else if (c == 16)
                v16_max_add(&mx, u);
            else
                v16_max_add_n(&mx, u, c);
            if (check) {
                __m512 e = v16_E(_mm512_add_ps(_mm512_add_ps(t, vfo), gv));
                _mm512_store_ps(ebuf + (j - b), e);
            }
        }
        if (check)
            sum_block(&acc, ebuf, be - b);
    }
    if (check)
        *rsum = v16_lane16_result(&acc);
    return v16_max_result(&mx);
}

/* Sweep 2: lane16 sum of E(fl(fl(t_j + g_j) - M)). Meanwhile the next row
 * is prefetched into L2 (one line per chunk), so that sweep 1 of the next
 * row does not wait on memory. */
static float sweep_sum(const float *tbuf, const float *g, size_t m, float M,
                       float *ebuf, const float *next)
{
    v16_lane16 acc;
    v16_lane16_init(&acc);
    const __m512 vm = _mm512_set1_ps(M);
    for (size_t b = 0; b < m; b += BLOCK) {
        size_t be = m - b < BLOCK ? m : b + BLOCK;
        for (size_t j = b; j < be; j += 16) {
            size_t c = be - j < 16 ? be - j : 16;
            if (next)
                _mm_prefetch((const char *)(next + j), _MM_HINT_T1);
            __m512 u = _mm512_add_ps(_mm512_load_ps(tbuf + j), ld16(g + j, c));
            _mm512_store_ps(ebuf + (j - b), v16_E(_mm512_sub_ps(u, vm)));
        }
        sum_block(&acc, ebuf, be - b);
    }
    return v16_lane16_result(&acc);
}

/* Sweep 3: cmax_j = max(cmax_j, fl(t_j + f)). A NaN already in cmax_j
 * stays (maxps returns its second operand on NaN); u can be NaN only if f
 * is NaN or +inf, and then the NaN-aware max is used. */
static void sweep_cmax(const float *tbuf, float *cmax, size_t m, float f)
{
    const __m512 vf = _mm512_set1_ps(f);
    const int clean = f == f && f != INFINITY;
    size_t j = 0;
    for (; j + 16 <= m; j += 16) {
        __m512 u = _mm512_add_ps(_mm512_load_ps(tbuf + j), vf);
        __m512 c = _mm512_loadu_ps(cmax + j);
        _mm512_storeu_ps(cmax + j, clean ? _mm512_max_ps(u, c) : max_nan(c, u));
    }
    if (j < m) {
        __m512 u = _mm512_add_ps(_mm512_load_ps(tbuf + j), vf);
        v16_store_n(cmax + j, max_nan(v16_load_n(cmax + j, m - j), u), m - j);
    }
}

/* Check only (P after convergence, or the last check): one sweep. */
static float row_check(const float *s, const float *g, size_t m, __m512 vb,
                       float fo, float *p, float *ebuf)
{
    v16_lane16 acc;
    v16_lane16_init(&acc);
    const __m512 vfo = _mm512_set1_ps(fo);
    for (size_t b = 0; b < m; b += BLOCK) {
        size_t be = m - b < BLOCK ? m : b + BLOCK;
        for (size_t j = b; j < be; j += 16) {
            size_t c = be - j < 16 ? be - j : 16;
            __m512 t = t16(s + j, vb, c), gv = ld16(g + j, c);
            __m512 e = v16_E(_mm512_add_ps(_mm512_add_ps(t, vfo), gv));
            _mm512_store_ps(ebuf + (j - b), e);
            if (p) /* after every read of this chunk of s: safe in place */
                v16_store_n(p + j, e, c);
        }
        sum_block(&acc, ebuf, be - b);
    }
    return v16_lane16_result(&acc);
}

/* 1 if no g_j is NaN or +inf. */
static int g_clean(const float *g, size_t m)
{
    const __m512 inf = _mm512_set1_ps(INFINITY);
    __mmask16 bad = 0;
    for (size_t j = 0; j < m; j += 16) {
        size_t c = m - j < 16 ? m - j : 16;
        bad |= _mm512_mask_cmp_ps_mask(v16_mask_n(c), ld16(g + j, c), inf,
                                       _CMP_NLT_UQ);
    }
    return bad == 0;
}

void opk_sinkhorn_rows_avx512(const opk_sinkhorn_job *jb, size_t r0,
                              size_t r1, unsigned mode, float *cmax,
                              float *scratch)
{
    const size_t m = jb->cols;
    const __m512 vb = _mm512_set1_ps(jb->beta);
    float ebuf[BLOCK] __attribute__((aligned(64)));
    float *tbuf = scratch;
    const int clean = (mode & OPK_SK_UPDATE) && g_clean(jb->g, m);
    for (size_t i = r0; i < r1; i++) {
        const float *s = jb->s + i * jb->lds;
        float *p = mode & OPK_SK_PLAN ? jb->p + i * jb->ldp : NULL;
        if (!(mode & OPK_SK_UPDATE)) {
            jb->r[i] = row_check(s, jb->g, m, vb, jb->f[i], p, ebuf);
            continue;
        }
        int check = (mode & OPK_SK_CHECK) != 0;
        if (jb->la[i] == -INFINITY) { /* zero mass: see the scalar reference */
            if (check)
                jb->r[i] = row_check(s, jb->g, m, vb, jb->f[i], NULL, ebuf);
            jb->fnew[i] = -INFINITY;
            continue;
        }
        float fo = jb->f[i], *r = &jb->r[i], M;
        if (check)
            M = clean ? sweep_max(1, 1, s, jb->g, m, vb, fo, tbuf, ebuf, r)
                      : sweep_max(1, 0, s, jb->g, m, vb, fo, tbuf, ebuf, r);
        else
            M = clean ? sweep_max(0, 1, s, jb->g, m, vb, fo, tbuf, ebuf, r)
                      : sweep_max(0, 0, s, jb->g, m, vb, fo, tbuf, ebuf, r);
        float lse = M == -INFINITY
                        ? -INFINITY
                        : M + opk_Lg(sweep_sum(tbuf, jb->g, m, M, ebuf,
                                               i + 1 < r1 ? s + jb->lds : NULL));
        float f = jb->la[i] - lse;
        jb->fnew[i] = f;
        sweep_cmax(tbuf, cmax, m, f);
    }
}

void opk_sinkhorn_cols_avx512(const opk_sinkhorn_job *jb, size_t c0,
                              size_t c1, float *scratch)
{
    const size_t w = c1 - c0;
    const float *cm = jb->cmax + c0;
    const __m512 vb = _mm512_set1_ps(jb->beta);
    float *sum = scratch;
    for (size_t c = 0; c < w; c += 16)
        _mm512_store_ps(sum + c, _mm512_setzero_ps());
    for (size_t i = 0; i < jb->rows; i++) {
        const float fi = jb->f[i];
        if (fi == -INFINITY) /* as the scalar reference: adds +0 or is */
            continue;        /* discarded */
        const float *s = jb->s + i * jb->lds + c0;
        /* Two rows ahead, one line per vector: memory keeps streaming. */
        const float *ahead = i + 2 < jb->rows ? s + 2 * jb->lds : s;
        const __m512 vf = _mm512_set1_ps(fi);
        size_t c = 0;
        for (; c + 16 <= w; c += 16) {
            _mm_prefetch((const char *)(ahead + c), _MM_HINT_T0);
            __m512 u = _mm512_add_ps(t16(s + c, vb, 16), vf);
            __m512 e = v16_E(_mm512_sub_ps(u, _mm512_loadu_ps(cm + c)));
            _mm512_store_ps(sum + c, _mm512_add_ps(_mm512_load_ps(sum + c), e));
        }
        if (c < w) {
            __m512 u = _mm512_add_ps(t16(s + c, vb, w - c), vf);
            __m512 e = v16_E(_mm512_sub_ps(u, v16_load_n(cm + c, w - c)));
            _mm512_store_ps(sum + c, _mm512_add_ps(_mm512_load_ps(sum + c), e));
        }
    }
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (size_t c = 0; c < w; c += 16) {
        size_t n = w - c < 16 ? w - c : 16;
        __m512 M = v16_load_n(cm + c, n), lb = v16_load_n(jb->lb + c0 + c, n);
        __m512 lgs = v16_Lg(_mm512_load_ps(sum + c));
        /* opk_sinkhorn_g, lane by lane */
        __m512 lse = _mm512_mask_mov_ps(_mm512_add_ps(M, lgs),
                                        _mm512_cmp_ps_mask(M, ninf, _CMP_EQ_OQ),
                                        ninf);
        __m512 g = _mm512_mask_mov_ps(_mm512_sub_ps(lb, lse),
                                      _mm512_cmp_ps_mask(lb, ninf, _CMP_EQ_OQ),
                                      ninf);
        v16_store_n(jb->g + c0 + c, g, n);
    }
}
