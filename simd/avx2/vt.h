/* The AVX2 layer of the ISA-generic templates (simd/<op>_tmpl.h,
 * simd/attention_*.h): 8-lane vectors, masks as all-ones lanes. Every
 * backend's vt.h defines the same v_* names. */
#ifndef OPK_AVX2_VT_H
#define OPK_AVX2_VT_H

#include "vec.h"

typedef __m256 VF;
typedef __m256 VM; /* all bits set in selected lanes */
#define VL 8
#define v_zero _mm256_setzero_ps
#define v_load _mm256_loadu_ps
#define v_store _mm256_storeu_ps
#define v_load_a _mm256_load_ps
#define v_store_a _mm256_store_ps
#define v_set1 _mm256_set1_ps
#define v_fma _mm256_fmadd_ps
#define v_mul _mm256_mul_ps
#define v_add _mm256_add_ps
#define v_sub _mm256_sub_ps
#define v_div _mm256_div_ps
#define v_max _mm256_max_ps
#define v_min _mm256_min_ps
#define v_E v8_E
#define v_E_le0 v8_E_le0
#define v_Lg v8_Lg
#define v_Sq v8_Sq
#define v_load_n v8_load_n
#define v_store_n v8_store_n
#define v_loadu_c v8_loadu_c
#define v_storeu_c v8_storeu_c
#define v_stream _mm256_stream_ps
#define v_sfence _mm_sfence /* after streaming stores */
#define v_prefetch_l1(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define v_prefetch_l2(p) _mm_prefetch((const char *)(p), _MM_HINT_T1)

#define v_mask_n(n) _mm256_castsi256_ps(v8_mask_n(n))
#define v_mask_zero _mm256_setzero_ps
#define v_mask_or _mm256_or_ps
#define v_mask_and _mm256_and_ps
#define v_mask_andnot _mm256_andnot_ps /* ~a & b */
#define v_mask_any(k) (_mm256_movemask_ps(k) != 0)
/* k ? b : a, lane by lane */
#define v_blend(k, a, b) _mm256_blendv_ps((a), (b), (k))
#define v_cmp_eq_uq(a, b) _mm256_cmp_ps((a), (b), _CMP_EQ_UQ)
#define v_cmp_eq_oq(a, b) _mm256_cmp_ps((a), (b), _CMP_EQ_OQ)
#define v_cmp_nlt_uq(a, b) _mm256_cmp_ps((a), (b), _CMP_NLT_UQ)
#define v_isnan(a) _mm256_cmp_ps((a), (a), _CMP_UNORD_Q)
/* 1 if some lane is not +-0 (NaN counts as not zero) */
#define v_any_nonzero(a) \
    (_mm256_movemask_ps(_mm256_cmp_ps((a), _mm256_setzero_ps(), _CMP_NEQ_UQ)) != 0)
/* 1 if some lane is +-0 */
#define v_any_zero(a) \
    (_mm256_movemask_ps(_mm256_cmp_ps((a), _mm256_setzero_ps(), _CMP_EQ_OQ)) != 0)

/* a, with its first n (< 8) lanes taken from b. */
static inline __attribute__((always_inline)) VF v_keep_n(VF a, VF b, size_t n)
{
    return _mm256_blendv_ps(a, b, v_mask_n(n));
}

/* Horizontal min (neg) or max of 8 NaN-free lanes. */
static inline __attribute__((always_inline)) float v_hext(int neg, VF v)
{
    __m128 h = _mm256_castps256_ps128(v), l = _mm256_extractf128_ps(v, 1);
    h = neg ? _mm_min_ps(h, l) : _mm_max_ps(h, l);
    l = _mm_movehl_ps(h, h);
    h = neg ? _mm_min_ps(h, l) : _mm_max_ps(h, l);
    l = _mm_movehdup_ps(h);
    h = neg ? _mm_min_ss(h, l) : _mm_max_ss(h, l);
    return _mm_cvtss_f32(h);
}

/* lane16 over chunks of 16 floats at p (32-byte aligned: a, or not: u). */
typedef v8_lane16 v_lane16;
#define v_lane16_init v8_lane16_init
#define v_lane16_result v8_lane16_result
#define v_lane16_add16a(s, p) v8_lane16_add((s), _mm256_load_ps(p), _mm256_load_ps((p) + 8))
#define v_lane16_add16a_n(s, p, n) \
    v8_lane16_add_n((s), _mm256_load_ps(p), _mm256_load_ps((p) + 8), (n))
#define v_lane16_add16u(s, p) v8_lane16_add((s), _mm256_loadu_ps(p), _mm256_loadu_ps((p) + 8))
#define v_lane16_add16u_n(s, p, n) \
    v8_lane16_add_n((s), _mm256_loadu_ps(p), _mm256_loadu_ps((p) + 8), (n))

/* ... and over a chunk of 16 / VL vectors in registers (e[0] first). */
#define v_lane16_addv(s, e) v8_lane16_add((s), (e)[0], (e)[1])
#define v_lane16_addv_n(s, e, n) v8_lane16_add_n((s), (e)[0], (e)[1], (n))

/* The NaN-propagating max accumulator. */
typedef v8_max v_maxacc;
#define v_maxacc_init v8_max_init
#define v_maxacc_add v8_max_add
#define v_maxacc_add_n v8_max_add_n
#define v_maxacc_result v8_max_result

#endif
