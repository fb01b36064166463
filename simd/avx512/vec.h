/* AVX-512 building blocks shared by every kernel of this backend (only
 * included from the simd/avx512 sources, which are built with the AVX-512 flags).
 *
 * - v16_E / v16_Lg / v16_Sq: SPEC 1's E, Lg, Sq on 16 lanes (SLEEF finz,
 *   the same bits as the scalar purecfma functions).
 * - masks and masked loads/stores for the first n lanes of a vector, so a
 *   tail never touches memory past the end of a row (masked-off lanes are
 *   neither read nor written, and cannot fault).
 * - v16_lane16: SPEC 1's canonical lane16 sum; lane l of one __m512 holds
 *   acc[l]. Chunks must start at element numbers that are multiples of 16
 *   counted from the start of the summed row (not from memory alignment).
 * - v16_max: a max whose result is NaN when any NaN was seen (maxps alone
 *   is not NaN-symmetric: it returns its second operand on NaN).
 */
#ifndef OPK_AVX512_VEC_H
#define OPK_AVX512_VEC_H

#include <immintrin.h>
#include <math.h>
#include <sleef.h>
#include <stddef.h>

#include "../exp_poly.h"

/* ---- SPEC 1 math ------------------------------------------------------------ */

OPK_EXP_POLY(v16_exp_poly, __m512, _mm512_fmadd_ps, _mm512_mul_ps, _mm512_add_ps, _mm512_set1_ps)

/* E inline: Sleef_finz_expf16_u10avx512f (SLEEF 3.5.1 xexpf; the same
 * steps as cl/sleef_expf.cl) with the same bits, so that the compiler can
 * interleave independent exps and keep the caller's registers: the call
 * clobbers every vector register and was 56% of a Sinkhorn iteration.
 * Three steps are shortened, bits unchanged:
 * - q = rint(d / ln 2) by vrndscaleps instead of int conversion and back
 *   (they differ only where |d / ln 2| >= 2^31: d < -104, whose lanes the
 *   mask clears, as d is at most 100.5 here);
 * - SLEEF's ldexp2, u * 2^(q>>1) * 2^(q - (q>>1)), by one vscalefps: the
 *   first product is exact (u in [0.7, 1.5], |q>>1| <= 76 here), so both
 *   round once, to the same value, normal or subnormal;
 * - SLEEF's d > 100 -> +inf by computing with min(100.5, d) (NaN kept):
 *   for any d >= 100, q >= 144 and u * 2^q overflows to +inf by itself.
 * tests/test_math.c compares it with SLEEF's scalar function bit for bit
 * (all 2^32 inputs under the slow label, a sample in the fast suite).
 * v16_E_core is all of it but the clamp: E of a d <= 100.5 or NaN. */
static inline __attribute__((always_inline)) __m512 v16_E_core(__m512 d)
{
    __m512 qf = _mm512_roundscale_ps(_mm512_mul_ps(d, _mm512_set1_ps(0x1.715476p+0f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 u = v16_exp_poly(d, qf);
    /* d < -104: +0 (NaN compares not-less and is kept) */
    return _mm512_maskz_scalef_ps(_mm512_cmp_ps_mask(d, _mm512_set1_ps(-104.0f), _CMP_NLT_US),
                                  u, qf);
}

static inline __m512 v16_E(__m512 x)
{
    return v16_E_core(_mm512_min_ps(_mm512_set1_ps(100.5f), x)); /* NaN: x */
}

/* E of an x known to be <= 0 or NaN (x - max in a log-sum-exp): the same
 * bits with no clamp, one instruction fewer (Sinkhorn's exps run on the
 * FMA pipes' budget). test_math checks it on every such input. */
static inline __m512 v16_E_le0(__m512 x) { return v16_E_core(x); }

static inline __m512 v16_Lg(__m512 x) { return Sleef_finz_logf16_u10avx512f(x); }
static inline __m512 v16_Sq(__m512 x) { return Sleef_finz_sqrtf16_u05avx512f(x); }

/* ---- masks and tails --------------------------------------------------------- */

/* The first min(n, 16) lanes. */
static inline __mmask16 v16_mask_n(size_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* Loads the first n (<= 16) floats at p; other lanes are +0, unread. */
static inline __m512 v16_load_n(const float *p, size_t n)
{
    return _mm512_maskz_loadu_ps(v16_mask_n(n), p);
}

/* Stores the first n (<= 16) lanes of v at p; nothing else is written. */
static inline void v16_store_n(float *p, __m512 v, size_t n)
{
    _mm512_mask_storeu_ps(p, v16_mask_n(n), v);
}

/* Either of the above for c <= 16 lanes, plain when c == 16. */
static inline __m512 v16_loadu_c(const float *p, size_t c)
{
    return c == 16 ? _mm512_loadu_ps(p) : v16_load_n(p, c);
}

static inline void v16_storeu_c(float *p, __m512 v, size_t c)
{
    if (c == 16)
        _mm512_storeu_ps(p, v);
    else
        v16_store_n(p, v, c);
}

/* ---- lane16 (SPEC 1) ----------------------------------------------------------- */

typedef struct v16_lane16 {
    __m512 acc; /* lane l: acc[l] */
} v16_lane16;

static inline void v16_lane16_init(v16_lane16 *s) { s->acc = _mm512_setzero_ps(); }

/* Adds elements 16k .. 16k+15 (lane l gets element 16k + l). */
static inline void v16_lane16_add(v16_lane16 *s, __m512 e)
{
    s->acc = _mm512_add_ps(s->acc, e);
}

/* Adds the first n (< 16) elements of a final partial chunk; other lanes
 * keep their exact value (no +0 added, which would turn -0 into +0). */
static inline void v16_lane16_add_n(v16_lane16 *s, __m512 e, size_t n)
{
    s->acc = _mm512_mask_add_ps(s->acc, v16_mask_n(n), s->acc, e);
}

/* The fold of SPEC 1: for w = 8, 4, 2, 1: acc[l] = acc[l] + acc[l + w]. */
static inline float v16_lane16_result(const v16_lane16 *s)
{
    __m256 a8 = _mm256_add_ps(_mm512_castps512_ps256(s->acc),
                              _mm512_extractf32x8_ps(s->acc, 1));
    __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8),
                           _mm256_extractf128_ps(a8, 1));
    __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
    __m128 a1 = _mm_add_ss(a2, _mm_movehdup_ps(a2));
    return _mm_cvtss_f32(a1);
}

/* ---- max with NaN propagation ---------------------------------------------------- */

typedef struct v16_max {
    __m512 m;       /* per-lane max of the non-NaN values seen */
    __mmask16 nan;  /* lanes that saw a NaN */
} v16_max;

static inline void v16_max_init(v16_max *s)
{
    s->m = _mm512_set1_ps(-INFINITY);
    s->nan = 0;
}

static inline void v16_max_add(v16_max *s, __m512 t)
{
    s->nan |= _mm512_cmp_ps_mask(t, t, _CMP_UNORD_Q);
    s->m = _mm512_max_ps(t, s->m); /* NaN in t: keeps s->m */
}

/* Only the first n (<= 16) lanes of t take part. */
static inline void v16_max_add_n(v16_max *s, __m512 t, size_t n)
{
    __mmask16 k = v16_mask_n(n);
    s->nan |= _mm512_mask_cmp_ps_mask(k, t, t, _CMP_UNORD_Q);
    s->m = _mm512_mask_max_ps(s->m, k, t, s->m);
}

/* Merges b into a (several accumulators unroll an order-free max). */
static inline void v16_max_merge(v16_max *a, const v16_max *b)
{
    a->nan |= b->nan;
    a->m = _mm512_max_ps(a->m, b->m);
}

/* NaN if any NaN was added, else the max (-inf when nothing was added).
 * The sign of a zero max may depend on the order of +0 and -0. */
static inline float v16_max_result(const v16_max *s)
{
    return s->nan ? NAN : _mm512_reduce_max_ps(s->m);
}

#endif
