/* The AVX-512 layer of the ISA-generic templates (simd/<op>_tmpl.h,
 * simd/attention_*.h): 16-lane vectors, masks as __mmask16. Every
 * backend's vt.h defines the same v_* names. */
#ifndef OPK_AVX512_VT_H
#define OPK_AVX512_VT_H

#include "vec.h"

typedef __m512 VF;
typedef __mmask16 VM;
#define VL 16
#define v_zero _mm512_setzero_ps
#define v_load _mm512_loadu_ps
#define v_store _mm512_storeu_ps
#define v_load_a _mm512_load_ps
#define v_store_a _mm512_store_ps
#define v_set1 _mm512_set1_ps
#define v_fma _mm512_fmadd_ps
#define v_mul _mm512_mul_ps
#define v_add _mm512_add_ps
#define v_sub _mm512_sub_ps
#define v_div _mm512_div_ps
#define v_max _mm512_max_ps
#define v_min _mm512_min_ps
#define v_E v16_E
#define v_E_le0 v16_E_le0
#define v_Lg v16_Lg
#define v_Sq v16_Sq
#define v_load_n v16_load_n
#define v_store_n v16_store_n
#define v_loadu_c v16_loadu_c
#define v_storeu_c v16_storeu_c
#define v_stream _mm512_stream_ps
#define v_sfence _mm_sfence /* after streaming stores */
#define v_prefetch_l1(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define v_prefetch_l2(p) _mm_prefetch((const char *)(p), _MM_HINT_T1)

#define v_mask_n v16_mask_n
#define v_mask_zero() ((__mmask16)0)
#define v_mask_or(a, b) ((__mmask16)((a) | (b)))
#define v_mask_and(a, b) ((__mmask16)((a) & (b)))
#define v_mask_andnot(a, b) ((__mmask16)(~(a) & (b)))
#define v_mask_any(k) ((k) != 0)
/* k ? b : a, lane by lane */
#define v_blend(k, a, b) _mm512_mask_blend_ps((k), (a), (b))
#define v_cmp_eq_uq(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_EQ_UQ)
#define v_cmp_eq_oq(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_EQ_OQ)
#define v_cmp_nlt_uq(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_NLT_UQ)
#define v_isnan(a) _mm512_cmp_ps_mask((a), (a), _CMP_UNORD_Q)
/* 1 if some lane is not +-0 (NaN counts as not zero) */
#define v_any_nonzero(a) \
    (_mm512_cmp_ps_mask((a), _mm512_setzero_ps(), _CMP_NEQ_UQ) != 0)
/* 1 if some lane is +-0 */
#define v_any_zero(a) \
    (_mm512_cmp_ps_mask((a), _mm512_setzero_ps(), _CMP_EQ_OQ) != 0)

/* a, with its first n (< 16) lanes taken from b. */
static inline __attribute__((always_inline)) VF v_keep_n(VF a, VF b, size_t n)
{
    return _mm512_mask_blend_ps(v16_mask_n(n), a, b);
}

/* Horizontal min (neg) or max of 16 NaN-free lanes. */
static inline __attribute__((always_inline)) float v_hext(int neg, VF v)
{
    return neg ? _mm512_reduce_min_ps(v) : _mm512_reduce_max_ps(v);
}

/* lane16 over chunks of 16 floats at p (64-byte aligned: a, or not: u). */
typedef v16_lane16 v_lane16;
#define v_lane16_init v16_lane16_init
#define v_lane16_result v16_lane16_result
#define v_lane16_add16a(s, p) v16_lane16_add((s), _mm512_load_ps(p))
#define v_lane16_add16a_n(s, p, n) v16_lane16_add_n((s), _mm512_load_ps(p), (n))
#define v_lane16_add16u(s, p) v16_lane16_add((s), _mm512_loadu_ps(p))
#define v_lane16_add16u_n(s, p, n) v16_lane16_add_n((s), _mm512_loadu_ps(p), (n))

/* ... and over a chunk of 16 / VL vectors in registers (e[0] first). */
#define v_lane16_addv(s, e) v16_lane16_add((s), (e)[0])
#define v_lane16_addv_n(s, e, n) v16_lane16_add_n((s), (e)[0], (n))

/* The NaN-propagating max accumulator. */
typedef v16_max v_maxacc;
#define v_maxacc_init v16_max_init
#define v_maxacc_add v16_max_add
#define v_maxacc_add_n v16_max_add_n
#define v_maxacc_result v16_max_result

#endif
