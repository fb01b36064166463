/* Damped attention (SPEC 3.4) with NEON: the ISA layer for the shared
 * kernels in simd/attention_fused.h and simd/attention_linear.h (one key
 * block = 16 vectors of 4 lanes; lane16 in four registers). */
#include <math.h>
#include <stdint.h>

#include "vt.h"

static inline float block_max(const float *s, size_t n)
{
    float32x4_t m = vdupq_n_f32(-INFINITY);
    for (size_t t = 0; t < n; t += 4)
        m = opk_neon_max(m, opk_neon_keep_n(vld1q_f32(s + t), n - t, -INFINITY));
    return opk_neon_hmax(m);
}

/* e is a 64-float buffer: the loads past n stay inside it. */
static inline float block_lane16(const float *e, size_t n)
{
    opk_neon_lane16 a;
    opk_neon_lane16_init(&a);
    for (size_t t = 0; t < n; t += 16) {
        float32x4_t v[4];
        for (int k = 0; k < 4; k++)
            v[k] = vld1q_f32(e + t + 4 * (size_t)k);
        opk_neon_lane16_add_n(&a, v, n - t);
    }
    return opk_neon_lane16_result(&a);
}

/* 4 rows x 16 keys of S and 4 rows x 16 features of O in registers (of 32). */
#define ATTN_R 4
#define ATTN_C 4
#define ATTN_F 4
#define ATTN_NAME(x) x##_neon
#include "../attention_fused.h"

/* ---- linear mode ---- */

/* nr x nc (<= 4 each) transposed: T[k * ts + r] = x[r * ld + k]; rows from
 * nr on are +0; nothing else is read. Data movement only. */
static inline void tile_T(const float *x, size_t ld, size_t nr, size_t nc,
                          float *T, size_t ts)
{
    for (size_t k = 0; k < nc; k++)
        for (size_t r = 0; r < 4; r++)
            T[k * ts + r] = r < nr ? x[r * ld + k] : 0.0f;
}

#define LIN_R 4
#define LIN_F 2
#include "../attention_linear.h"
