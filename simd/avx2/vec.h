/* AVX2 building blocks shared by every kernel of this backend (only
 * included from the simd/avx2 sources, which are built with -mavx2 -mfma).
 *
 * - v8_E / v8_Lg / v8_Sq: SPEC 1's E, Lg, Sq on 8 lanes (SLEEF finz, the
 *   same bits as the scalar purecfma functions).
 * - masks from a count and masked loads/stores (vmaskmov) for the first n
 *   lanes, so a tail never touches memory past the end of a row (masked-off
 *   lanes are neither read nor written, and cannot fault).
 * - v8_lane16: SPEC 1's canonical lane16 sum in two registers, lo = acc[0..7]
 *   and hi = acc[8..15]. Chunks of 16 must start at element numbers that are
 *   multiples of 16 counted from the start of the summed row.
 * - v8_max: a max whose result is NaN when any NaN was seen (maxps alone is
 *   not NaN-symmetric: it returns its second operand on NaN).
 */
#ifndef OPK_AVX2_VEC_H
#define OPK_AVX2_VEC_H

#include <immintrin.h>
#include <math.h>
#include <sleef.h>
#include <stddef.h>

#include "../exp_poly.h"

/* ---- SPEC 1 math ------------------------------------------------------------ */

OPK_EXP_POLY(v8_exp_poly, __m256, _mm256_fmadd_ps, _mm256_mul_ps, _mm256_add_ps, _mm256_set1_ps)

/* E inline: Sleef_finz_expf8_u10avx2's operations one for one (see v16_E in
 * simd/avx512/vec.h for why; checked by tests/test_math.c), but for d > 100
 * -> +inf, done by computing with min(100.5, d) as there. */
static inline __attribute__((always_inline)) __m256 v8_E_core(__m256 d)
{
    __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(d, _mm256_set1_ps(0x1.715476p+0f)));
    __m256 qf = _mm256_cvtepi32_ps(q);
    __m256 u = v8_exp_poly(d, qf);
    const __m256i bias = _mm256_set1_epi32(0x7f << 23);
    __m256i h = _mm256_srai_epi32(q, 1);
    u = _mm256_mul_ps(u, _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(h, 23), bias)));
    u = _mm256_mul_ps(u, _mm256_castsi256_ps(_mm256_add_epi32(
                             _mm256_slli_epi32(_mm256_sub_epi32(q, h), 23), bias)));
    return _mm256_andnot_ps(_mm256_cmp_ps(d, _mm256_set1_ps(-104.0f), _CMP_LT_OS), u);
}

static inline __m256 v8_E(__m256 x)
{
    return v8_E_core(_mm256_min_ps(_mm256_set1_ps(100.5f), x)); /* NaN: x */
}

/* E of an x known to be <= 0 or NaN (x - max in a log-sum-exp): the same
 * bits with no clamp. test_math checks it on every such input. */
static inline __m256 v8_E_le0(__m256 x) { return v8_E_core(x); }

static inline __m256 v8_Lg(__m256 x) { return Sleef_finz_logf8_u10avx2(x); }
static inline __m256 v8_Sq(__m256 x) { return Sleef_finz_sqrtf8_u05avx2(x); }

/* ---- masks and tails --------------------------------------------------------- */

/* All bits set in the first min(n, 8) lanes (as vmaskmov and blendv want). */
static inline __m256i v8_mask_n(size_t n)
{
    int k = n >= 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Loads the first n (<= 8) floats at p; other lanes are +0, unread. */
static inline __m256 v8_load_n(const float *p, size_t n)
{
    return _mm256_maskload_ps(p, v8_mask_n(n));
}

/* Stores the first n (<= 8) lanes of v at p; nothing else is written. */
static inline void v8_store_n(float *p, __m256 v, size_t n)
{
    _mm256_maskstore_ps(p, v8_mask_n(n), v);
}

/* Either of the above for c <= 8 lanes, plain when c == 8: vmaskmov is
 * slow on AMD (stores especially), so full vectors avoid it. */
static inline __m256 v8_loadu_c(const float *p, size_t c)
{
    return c == 8 ? _mm256_loadu_ps(p) : v8_load_n(p, c);
}

static inline void v8_storeu_c(float *p, __m256 v, size_t c)
{
    if (c == 8)
        _mm256_storeu_ps(p, v);
    else
        v8_store_n(p, v, c);
}

/* ---- lane16 (SPEC 1) ----------------------------------------------------------- */

typedef struct v8_lane16 {
    __m256 lo, hi; /* acc[0..7], acc[8..15] */
} v8_lane16;

static inline void v8_lane16_init(v8_lane16 *s)
{
    s->lo = _mm256_setzero_ps();
    s->hi = _mm256_setzero_ps();
}

/* Adds elements 16k .. 16k+15: e0 holds 16k .. 16k+7, e1 the next 8. */
static inline void v8_lane16_add(v8_lane16 *s, __m256 e0, __m256 e1)
{
    s->lo = _mm256_add_ps(s->lo, e0);
    s->hi = _mm256_add_ps(s->hi, e1);
}

/* Adds the first n (< 16) elements of a final partial chunk; other lanes
 * keep their exact value (no +0 added, which would turn -0 into +0). */
static inline void v8_lane16_add_n(v8_lane16 *s, __m256 e0, __m256 e1, size_t n)
{
    __m256 k0 = _mm256_castsi256_ps(v8_mask_n(n));
    __m256 k1 = _mm256_castsi256_ps(v8_mask_n(n > 8 ? n - 8 : 0));
    s->lo = _mm256_blendv_ps(s->lo, _mm256_add_ps(s->lo, e0), k0);
    s->hi = _mm256_blendv_ps(s->hi, _mm256_add_ps(s->hi, e1), k1);
}

/* The fold of SPEC 1: for w = 8, 4, 2, 1: acc[l] = acc[l] + acc[l + w]. */
static inline float v8_lane16_result(const v8_lane16 *s)
{
    __m256 a8 = _mm256_add_ps(s->lo, s->hi);
    __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8),
                           _mm256_extractf128_ps(a8, 1));
    __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
    __m128 a1 = _mm_add_ss(a2, _mm_movehdup_ps(a2));
    return _mm_cvtss_f32(a1);
}

/* ---- max with NaN propagation ---------------------------------------------------- */

typedef struct v8_max {
    __m256 m;   /* per-lane max of the non-NaN values seen */
    __m256 nan; /* all bits set in lanes that saw a NaN */
} v8_max;

static inline void v8_max_init(v8_max *s)
{
    s->m = _mm256_set1_ps(-INFINITY);
    s->nan = _mm256_setzero_ps();
}

static inline void v8_max_add(v8_max *s, __m256 t)
{
    s->nan = _mm256_or_ps(s->nan, _mm256_cmp_ps(t, t, _CMP_UNORD_Q));
    s->m = _mm256_max_ps(t, s->m); /* NaN in t: keeps s->m */
}

/* Only the first n (<= 8) lanes of t take part. */
static inline void v8_max_add_n(v8_max *s, __m256 t, size_t n)
{
    __m256 k = _mm256_castsi256_ps(v8_mask_n(n));
    s->nan = _mm256_or_ps(s->nan,
                          _mm256_and_ps(k, _mm256_cmp_ps(t, t, _CMP_UNORD_Q)));
    s->m = _mm256_blendv_ps(s->m, _mm256_max_ps(t, s->m), k);
}

/* Merges b into a (several accumulators unroll an order-free max). */
static inline void v8_max_merge(v8_max *a, const v8_max *b)
{
    a->nan = _mm256_or_ps(a->nan, b->nan);
    a->m = _mm256_max_ps(a->m, b->m);
}

/* Lane-wise max of 8 lanes, NaN-free input. */
static inline float v8_hmax(__m256 v)
{
    __m128 a = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_max_ps(a, _mm_movehl_ps(a, a));
    a = _mm_max_ss(a, _mm_movehdup_ps(a));
    return _mm_cvtss_f32(a);
}

/* NaN if any NaN was added, else the max (-inf when nothing was added).
 * The sign of a zero max may depend on the order of +0 and -0. */
static inline float v8_max_result(const v8_max *s)
{
    return _mm256_movemask_ps(s->nan) ? NAN : v8_hmax(s->m);
}

#endif
