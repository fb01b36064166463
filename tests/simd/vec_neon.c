/* Self-test of simd/neon/vec.h (AArch64: Advanced SIMD is baseline). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../kernels/lane16.h"
#include "../../kernels/sleef1.h"
#include "../../simd/neon/vec.h"
#include "opk.h"
#include "vec_selftest.h"

#define FAIL(...)                                                            \
    do {                                                                     \
        if (!fails++)                                                        \
            snprintf(msg, n, __VA_ARGS__);                                   \
    } while (0)

static int same(float a, float b) { return !memcmp(&a, &b, 4) || (a != a && b != b); }

int opk_vec_selftest_neon(char *msg, size_t n, float *guard_end)
{
    int fails = 0;
    float x[200 + 16];
    for (int t = 0; t < 400; t++) {
        size_t len = (size_t)(opk_rand(7, (uint64_t)t) % 200);
        opk_fill((uint64_t)t, -30.0f, 30.0f, (opk_mat){x, 1, len, len});
        if (t % 3 == 0 && len)
            x[opk_rand(8, (uint64_t)t) % len] = -0.0f;
        /* lane16: blocks of 16 from the start, partial final block */
        opk_lane16 ref;
        opk_lane16_init(&ref);
        opk_neon_lane16 acc;
        opk_neon_lane16_init(&acc);
        for (size_t j = 0; j < len; j++)
            opk_lane16_add(&ref, j, x[j]);
        for (size_t j = 0; j < len; j += 16) {
            float32x4_t e[4];
            opk_neon_load16_n(x + j, len - j, e);
            opk_neon_lane16_add_n(&acc, e, len - j);
        }
        float a = opk_lane16_result(&ref), b = opk_neon_lane16_result(&acc);
        if (!same(a, b))
            FAIL("neon lane16 of %zu: %a, scalar %a", len, b, a);
        /* max: NaN anywhere makes it NaN */
        int nan_at = t % 4 == 0 && len ? (int)(opk_rand(9, (uint64_t)t) % len) : -1;
        if (nan_at >= 0)
            x[nan_at] = NAN;
        float32x4_t mx = vdupq_n_f32(-INFINITY);
        float want = -INFINITY;
        for (size_t j = 0; j < len; j++)
            want = x[j] > want ? x[j] : want;
        for (size_t j = 0; j < len; j += 4)
            mx = opk_neon_max(mx, opk_neon_keep_n(opk_neon_load_n(x + j, len - j),
                                                  len - j, -INFINITY));
        float got = opk_neon_hmax(mx);
        if (nan_at >= 0 ? got == got : got != want)
            FAIL("neon max of %zu (NaN at %d): %g, want %g", len, nan_at,
                 (double)got, (double)want);
    }
    /* E, Lg, Sq: the bits of the scalar functions */
    for (int t = 0; t < 64; t++) {
        float in[4], e[4], l[4], q[4];
        opk_fill(100 + (uint64_t)t, t < 32 ? -110.0f : 0.0f, t < 32 ? 90.0f : 1e6f,
                 (opk_mat){in, 1, 4, 4});
        float32x4_t v = vld1q_f32(in);
        vst1q_f32(e, opk_neon_E(v));
        vst1q_f32(l, opk_neon_Lg(v));
        vst1q_f32(q, opk_neon_Sq(v));
        for (int k = 0; k < 4; k++)
            if (!same(e[k], opk_E(in[k])) || !same(l[k], opk_Lg(in[k])) ||
                !same(q[k], opk_Sq(in[k])))
                FAIL("neon E/Lg/Sq(%a) differ from scalar", in[k]);
    }
    /* tails end at an unreadable page and write only their lanes */
    for (size_t c = 0; c <= 16; c++) {
        float *p = guard_end - c;
        for (size_t k = 0; k < c; k++)
            p[k] = (float)k;
        float32x4_t v[4];
        opk_neon_load16_n(p, c, v);
        float o[16];
        for (int k = 0; k < 4; k++)
            vst1q_f32(o + 4 * k, v[k]);
        for (size_t k = 0; k < 16; k++)
            if (o[k] != (k < c ? (float)k : 0.0f))
                FAIL("neon load16_n(%zu) lane %zu: %g", c, k, (double)o[k]);
        p[-1] = 42.0f;
        for (int k = 0; k < 4; k++)
            v[k] = vdupq_n_f32(-1.0f);
        opk_neon_store16_n(p, v, c);
        for (size_t k = 0; k < c; k++)
            if (p[k] != -1.0f)
                FAIL("neon store16_n(%zu) missed lane %zu", c, k);
        if (p[-1] != 42.0f)
            FAIL("neon store16_n(%zu) wrote before its start", c);
    }
    return fails;
}
