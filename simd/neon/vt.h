/* The NEON layer of the ISA-generic templates (simd/attention_*.h): the
 * same v_* names as simd/avx2/vt.h and simd/avx512/vt.h, on 4 lanes. */
#ifndef OPK_NEON_VT_H
#define OPK_NEON_VT_H

#include "neon.h"
#include "vec.h"

typedef float32x4_t VF;
#define VL 4
#define v_zero() vdupq_n_f32(0.0f)
#define v_load vld1q_f32
#define v_store vst1q_f32
#define v_set1 vdupq_n_f32
#define v_fma(a, b, c) vfmaq_f32((c), (a), (b)) /* a * b + c, one rounding */
#define v_mul vmulq_f32
#define v_add vaddq_f32
#define v_sub vsubq_f32
#define v_div vdivq_f32
#define v_E opk_neon_E
#define v_E_le0 opk_neon_E /* SLEEF's call: no clamp to drop */
#define v_Lg opk_neon_Lg
#define v_Sq opk_neon_Sq
#define v_load_n opk_neon_load_n
#define v_store_n opk_neon_store_n
/* No streaming stores here: a plain store, and no fence after them. */
#define v_stream vst1q_f32
#define v_sfence() ((void)0)
#define v_prefetch_l1(p) __builtin_prefetch((p), 0, 3)
#define v_prefetch_l2(p) __builtin_prefetch((p), 0, 2)
/* 1 if some lane is not +-0 (NaN counts as not zero) */
#define v_any_nonzero(a) \
    (vmaxvq_u32(vmvnq_u32(vceqq_f32((a), vdupq_n_f32(0.0f)))) != 0)
/* 1 if some lane is +-0 */
#define v_any_zero(a) (vmaxvq_u32(vceqq_f32((a), vdupq_n_f32(0.0f))) != 0)

#endif
