/* Sinkhorn passes (SPEC 3.2) with AVX2: the bits of kernels/sinkhorn.c.
 * Row pass: lane16 sums in two registers (elements j mod 16 < 8 and >= 8,
 * counted from the row start); column pass: 8 columns per vector, seq sums
 * over ascending rows, S streamed row by row (never transposed or copied). */
#include <math.h>

#include "../../kernels/sinkhorn_impl.h"
#include "../../kernels/sleef1.h"
#include "kernels.h"
#include "vec.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* SLEEF's vector functions are calls that clobber every ymm register, so
 * sums run behind the exps: a block of E values goes to a buffer first. */
#define BLOCK 256

/* The first n (<= 8; all when n >= 8) floats at p, other lanes +0. */
ALWAYS_INLINE __m256 ld8(const float *p, size_t n)
{
    return n >= 8 ? _mm256_loadu_ps(p) : v8_load_n(p, n);
}

/* A chunk of c <= 16 elements at p as two halves (lanes past c are +0). */
typedef struct half2 {
    __m256 lo, hi;
} half2;

ALWAYS_INLINE half2 ld16(const float *p, size_t c)
{
    half2 h = {ld8(p, c), c > 8 ? ld8(p + 8, c - 8) : _mm256_setzero_ps()};
    return h;
}

ALWAYS_INLINE half2 t16(const float *p, __m256 vb, size_t c)
{
    half2 h = ld16(p, c);
    h.lo = _mm256_mul_ps(vb, h.lo), h.hi = _mm256_mul_ps(vb, h.hi);
    return h;
}

ALWAYS_INLINE void st8(float *p, __m256 v, size_t n)
{
    if (n >= 8)
        _mm256_storeu_ps(p, v);
    else
        v8_store_n(p, v, n);
}

/* NaN-aware elementwise max (SPEC 1): maxps returns its second operand when
 * either is NaN, so a NaN already in c is put back. */
ALWAYS_INLINE __m256 max_nan(__m256 c, __m256 u)
{
    return _mm256_blendv_ps(_mm256_max_ps(c, u), c,
                            _mm256_cmp_ps(c, c, _CMP_UNORD_Q));
}

ALWAYS_INLINE void max_add16(v8_max *mx, half2 u, size_t c)
{
    if (c == 16) {
        v8_max_add(mx, u.lo), v8_max_add(mx, u.hi);
    } else {
        v8_max_add_n(mx, u.lo, c < 8 ? c : 8);
        if (c > 8)
            v8_max_add_n(mx, u.hi, c - 8);
    }
}

/* Adds ebuf[0 .. len) to the lane16 sum (len may end in a partial chunk). */
ALWAYS_INLINE void sum_block(v8_lane16 *acc, const float *ebuf, size_t len)
{
    size_t k = 0;
    for (; k + 16 <= len; k += 16)
        v8_lane16_add(acc, _mm256_load_ps(ebuf + k), _mm256_load_ps(ebuf + k + 8));
    if (k < len)
        v8_lane16_add_n(acc, _mm256_load_ps(ebuf + k),
                        _mm256_load_ps(ebuf + k + 8), len - k);
}

/* E(fl(fl(t + fo) + g)) of a chunk into ebuf (and p when given). */
ALWAYS_INLINE void plan16(half2 t, half2 gv, __m256 vfo, float *e, float *p,
                          size_t c)
{
    __m256 e0 = v8_E(_mm256_add_ps(_mm256_add_ps(t.lo, vfo), gv.lo));
    _mm256_store_ps(e, e0);
    __m256 e1 = v8_E(_mm256_add_ps(_mm256_add_ps(t.hi, vfo), gv.hi));
    _mm256_store_ps(e + 8, e1);
    if (p) { /* after every read of this chunk of s: safe in place */
        st8(p, e0, c);
        if (c > 8)
            st8(p + 8, e1, c - 8);
    }
}

/* Sweep 1: t_j = fl(beta * s_j) into tbuf (the next sweeps read t instead
 * of recomputing it) and M = max_j fl(t_j + g_j). `clean`: no g_j is NaN or
 * +inf, so no u is NaN and a plain max will do (maxps(u, acc) keeps acc
 * when either is NaN). With `check` also the lane16 sum of
 * P_ij = E(fl(fl(t_j + fo) + g_j)) (fo the old f_i) into *rsum. */
ALWAYS_INLINE float sweep_max(int check, int clean, const float *s,
                              const float *g, size_t m, __m256 vb, float fo,
                              float *tbuf, float *ebuf, float *rsum)
{
    v8_max mx;
    v8_max_init(&mx);
    v8_lane16 acc;
    v8_lane16_init(&acc);
    const __m256 vfo = _mm256_set1_ps(fo);
    for (size_t b = 0; b < m; b += BLOCK) {
        size_t be = m - b < BLOCK ? m : b + BLOCK;
        for (size_t j = b; j < be; j += 16) {
            size_t c = be - j < 16 ? be - j : 16;
            half2 t = t16(s + j, vb, c), gv = ld16(g + j, c);
            _mm256_store_ps(tbuf + j, t.lo);
            _mm256_store_ps(tbuf + j + 8, t.hi);
            half2 u = {_mm256_add_ps(t.lo, gv.lo), _mm256_add_ps(t.hi, gv.hi)};
            if (clean && c == 16)
                mx.m = _mm256_max_ps(u.hi, _mm256_max_ps(u.lo, mx.m));
            else
                max_add16(&mx, u, c);
            if (check)
                plan16(t, gv, vfo, ebuf + (j - b), NULL, c);
        }
        if (check)
            sum_block(&acc, ebuf, be - b);
    }
    if (check)
        *rsum = v8_lane16_result(&acc);
    return v8_max_result(&mx);
}

/* Sweep 2: lane16 sum of E(fl(fl(t_j + g_j) - M)). Meanwhile the next row
 * is prefetched into L2 (one line per chunk), so that sweep 1 of the next
 * row does not wait on memory. */
static float sweep_sum(const float *tbuf, const float *g, size_t m, float M,
                       float *ebuf, const float *next)
{
    v8_lane16 acc;
    v8_lane16_init(&acc);
    const __m256 vm = _mm256_set1_ps(M);
    for (size_t b = 0; b < m; b += BLOCK) {
        size_t be = m - b < BLOCK ? m : b + BLOCK;
        for (size_t j = b; j < be; j += 16) {
            size_t c = be - j < 16 ? be - j : 16;
            if (next)
                _mm_prefetch((const char *)(next + j), _MM_HINT_T1);
            half2 gv = ld16(g + j, c);
            float *e = ebuf + (j - b);
            __m256 u0 = _mm256_add_ps(_mm256_load_ps(tbuf + j), gv.lo);
            _mm256_store_ps(e, v8_E(_mm256_sub_ps(u0, vm)));
            __m256 u1 = _mm256_add_ps(_mm256_load_ps(tbuf + j + 8), gv.hi);
            _mm256_store_ps(e + 8, v8_E(_mm256_sub_ps(u1, vm)));
        }
        sum_block(&acc, ebuf, be - b);
    }
    return v8_lane16_result(&acc);
}

/* Sweep 3: cmax_j = max(cmax_j, fl(t_j + f)). A NaN already in cmax_j
 * stays (maxps returns its second operand on NaN); u can be NaN only if f
 * is NaN or +inf, and then the NaN-aware max is used. */
static void sweep_cmax(const float *tbuf, float *cmax, size_t m, float f)
{
    const __m256 vf = _mm256_set1_ps(f);
    const int clean = f == f && f != INFINITY;
    size_t j = 0;
    for (; j + 8 <= m; j += 8) {
        __m256 u = _mm256_add_ps(_mm256_load_ps(tbuf + j), vf);
        __m256 c = _mm256_loadu_ps(cmax + j);
        _mm256_storeu_ps(cmax + j, clean ? _mm256_max_ps(u, c) : max_nan(c, u));
    }
    if (j < m) {
        __m256 u = _mm256_add_ps(_mm256_load_ps(tbuf + j), vf);
        v8_store_n(cmax + j, max_nan(v8_load_n(cmax + j, m - j), u), m - j);
    }
}

/* Check only (P after convergence, or the last check): one sweep. */
static float row_check(const float *s, const float *g, size_t m, __m256 vb,
                       float fo, float *p, float *ebuf)
{
    v8_lane16 acc;
    v8_lane16_init(&acc);
    const __m256 vfo = _mm256_set1_ps(fo);
    for (size_t b = 0; b < m; b += BLOCK) {
        size_t be = m - b < BLOCK ? m : b + BLOCK;
        for (size_t j = b; j < be; j += 16) {
            size_t c = be - j < 16 ? be - j : 16;
            plan16(t16(s + j, vb, c), ld16(g + j, c), vfo, ebuf + (j - b),
                   p ? p + j : NULL, c);
        }
        sum_block(&acc, ebuf, be - b);
    }
    return v8_lane16_result(&acc);
}

/* 1 if no g_j is NaN or +inf. */
static int g_clean(const float *g, size_t m)
{
    const __m256 inf = _mm256_set1_ps(INFINITY);
    __m256 bad = _mm256_setzero_ps();
    for (size_t j = 0; j < m; j += 8) {
        size_t c = m - j < 8 ? m - j : 8;
        __m256 k = _mm256_castsi256_ps(v8_mask_n(c));
        bad = _mm256_or_ps(bad, _mm256_and_ps(k, _mm256_cmp_ps(ld8(g + j, c), inf,
                                                               _CMP_NLT_UQ)));
    }
    return _mm256_movemask_ps(bad) == 0;
}

void opk_sinkhorn_rows_avx2(const opk_sinkhorn_job *jb, size_t r0, size_t r1,
                            unsigned mode, float *cmax, float *scratch)
{
    const size_t m = jb->cols;
    const __m256 vb = _mm256_set1_ps(jb->beta);
    float ebuf[BLOCK] __attribute__((aligned(32)));
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

void opk_sinkhorn_cols_avx2(const opk_sinkhorn_job *jb, size_t c0, size_t c1,
                            float *scratch)
{
    const size_t w = c1 - c0;
    const float *cm = jb->cmax + c0;
    const __m256 vb = _mm256_set1_ps(jb->beta);
    float *sum = scratch;
    for (size_t c = 0; c < w; c += 8)
        _mm256_store_ps(sum + c, _mm256_setzero_ps());
    for (size_t i = 0; i < jb->rows; i++) {
        const float fi = jb->f[i];
        if (fi == -INFINITY) /* as the scalar reference: adds +0 or is */
            continue;        /* discarded */
        const float *s = jb->s + i * jb->lds + c0;
        /* Two rows ahead, one line per 16 floats: memory keeps streaming. */
        const float *ahead = i + 2 < jb->rows ? s + 2 * jb->lds : s;
        const __m256 vf = _mm256_set1_ps(fi);
        for (size_t c = 0; c < w; c += 8) {
            size_t n = w - c < 8 ? w - c : 8;
            if ((c & 15) == 0)
                _mm_prefetch((const char *)(ahead + c), _MM_HINT_T0);
            __m256 u = _mm256_add_ps(_mm256_mul_ps(vb, ld8(s + c, n)), vf);
            __m256 e = v8_E(_mm256_sub_ps(u, ld8(cm + c, n)));
            _mm256_store_ps(sum + c, _mm256_add_ps(_mm256_load_ps(sum + c), e));
        }
    }
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    for (size_t c = 0; c < w; c += 8) {
        size_t n = w - c < 8 ? w - c : 8;
        __m256 M = ld8(cm + c, n), lb = ld8(jb->lb + c0 + c, n);
        __m256 lgs = v8_Lg(_mm256_load_ps(sum + c));
        /* opk_sinkhorn_g, lane by lane */
        __m256 lse = _mm256_blendv_ps(_mm256_add_ps(M, lgs), ninf,
                                      _mm256_cmp_ps(M, ninf, _CMP_EQ_OQ));
        __m256 g = _mm256_blendv_ps(_mm256_sub_ps(lb, lse), ninf,
                                    _mm256_cmp_ps(lb, ninf, _CMP_EQ_OQ));
        st8(jb->g + c0 + c, g, n);
    }
}
