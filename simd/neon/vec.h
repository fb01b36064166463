/* NEON (AArch64 Advanced SIMD) building blocks shared by the simd/neon
 * kernels: SPEC 1's E/Lg/Sq, the lane16 sum in four registers, NaN-aware
 * max, and tails without reads or writes past the end (NEON has no masked
 * loads: a tail goes through a small stack buffer, its arithmetic is the
 * same lane-wise arithmetic as a full vector). */
#ifndef OPK_NEON_VEC_H
#define OPK_NEON_VEC_H

#include <arm_neon.h>
#include <math.h>
#include <sleef.h>
#include <stddef.h>
#include <string.h>

/* ---- deterministic math (SPEC 1): the advsimd twins of kernels/sleef1.h ---- */
static inline float32x4_t opk_neon_E(float32x4_t x)
{
    return Sleef_finz_expf4_u10advsimd(x);
}
static inline float32x4_t opk_neon_Lg(float32x4_t x)
{
    return Sleef_finz_logf4_u10advsimd(x);
}
static inline float32x4_t opk_neon_Sq(float32x4_t x)
{
    return Sleef_finz_sqrtf4_u05advsimd(x);
}

/* ---- tails ------------------------------------------------------------------ */

/* Lanes [0, n) set, n clamped to 0..4. */
static inline uint32x4_t opk_neon_mask_n(size_t n)
{
    static const uint32_t idx[4] = {0, 1, 2, 3};
    uint32_t k = n > 4 ? 4u : (uint32_t)n;
    return vcltq_u32(vld1q_u32(idx), vdupq_n_u32(k));
}

/* Loads min(n, 4) floats from p; the other lanes are +0. Reads nothing past
 * p[n-1]. */
static inline float32x4_t opk_neon_load_n(const float *p, size_t n)
{
    if (n >= 4)
        return vld1q_f32(p);
    float b[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(b, p, n * sizeof(float));
    return vld1q_f32(b);
}

/* Stores the first min(n, 4) lanes of v to p; writes nothing past p[n-1]. */
static inline void opk_neon_store_n(float *p, float32x4_t v, size_t n)
{
    if (n >= 4) {
        vst1q_f32(p, v);
        return;
    }
    float b[4];
    vst1q_f32(b, v);
    memcpy(p, b, n * sizeof(float));
}

/* How many of the rem elements left fall in vector k of a 16-block. */
static inline size_t opk_neon_count(size_t rem, size_t k)
{
    return rem > 4 * k ? rem - 4 * k : 0;
}

/* A 16-element block at p of which min(rem, 16) exist: loads those (the
 * others +0) / stores only those. */
static inline void opk_neon_load16_n(const float *p, size_t rem, float32x4_t v[4])
{
    for (size_t k = 0; k < 4; k++)
        v[k] = 4 * k < rem ? opk_neon_load_n(p + 4 * k, rem - 4 * k)
                           : vdupq_n_f32(0.0f);
}
static inline void opk_neon_store16_n(float *p, const float32x4_t v[4], size_t rem)
{
    for (size_t k = 0; k < 4 && 4 * k < rem; k++)
        opk_neon_store_n(p + 4 * k, v[k], rem - 4 * k);
}

/* v in lanes [0, n), fill elsewhere (e.g. -inf before a max). */
static inline float32x4_t opk_neon_keep_n(float32x4_t v, size_t n, float fill)
{
    return vbslq_f32(opk_neon_mask_n(n), v, vdupq_n_f32(fill));
}

/* ---- max (SPEC 1: order-free, any NaN makes it NaN) ------------------------ */
/* FMAX/FMAXV return NaN when an operand is NaN (unlike FMAXNM), so a NaN
 * anywhere reaches the result; +0 counts as larger than -0, which no softmax
 * output can see (a zero max only meets zeros, whose differences round to
 * zeros with E(+-0) = 1). */
static inline float32x4_t opk_neon_max(float32x4_t a, float32x4_t b)
{
    return vmaxq_f32(a, b);
}
static inline float opk_neon_hmax(float32x4_t a) { return vmaxvq_f32(a); }

/* ---- lane16 (SPEC 1): lane l lives in register l / 4, lane l % 4 ---------- */
typedef struct opk_neon_lane16 {
    float32x4_t v[4];
} opk_neon_lane16;

static inline void opk_neon_lane16_init(opk_neon_lane16 *a)
{
    for (int k = 0; k < 4; k++)
        a->v[k] = vdupq_n_f32(0.0f);
}

/* Adds elements j0 .. j0+15 (j0 a multiple of 16): e[k] holds j0+4k .. +3. */
static inline void opk_neon_lane16_add(opk_neon_lane16 *a, const float32x4_t e[4])
{
    for (int k = 0; k < 4; k++)
        a->v[k] = vaddq_f32(a->v[k], e[k]);
}

/* Adds only the first min(n, 16) of a block: the other lanes keep their
 * bits (a select, not an add of zero, so nothing depends on the padding). */
static inline void opk_neon_lane16_add_n(opk_neon_lane16 *a,
                                         const float32x4_t e[4], size_t n)
{
    if (n >= 16) {
        opk_neon_lane16_add(a, e);
        return;
    }
    for (size_t k = 0; k < 4 && 4 * k < n; k++)
        a->v[k] = vbslq_f32(opk_neon_mask_n(n - 4 * k),
                            vaddq_f32(a->v[k], e[k]), a->v[k]);
}

/* The fold 8, 4, 2, 1: lanes l < w get lane l + w added. */
static inline float opk_neon_lane16_result(const opk_neon_lane16 *a)
{
    float32x4_t lo = vaddq_f32(a->v[0], a->v[2]); /* w = 8: lanes 0..3 */
    float32x4_t hi = vaddq_f32(a->v[1], a->v[3]); /*        lanes 4..7 */
    float32x4_t q = vaddq_f32(lo, hi);            /* w = 4 */
    float32x2_t d = vadd_f32(vget_low_f32(q), vget_high_f32(q)); /* w = 2 */
    return vget_lane_f32(d, 0) + vget_lane_f32(d, 1);            /* w = 1 */
}

#endif
