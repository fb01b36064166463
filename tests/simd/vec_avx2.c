/* Self-test of simd/avx2/vec.h (built with -mavx2 -mfma). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../kernels/lane16.h"
#include "../../kernels/sleef1.h"
#include "../../simd/avx2/vec.h"
#include "opk.h"
#include "vec_selftest.h"

#define FAIL(...)                                                            \
    do {                                                                     \
        if (!fails++)                                                        \
            snprintf(msg, n, __VA_ARGS__);                                   \
    } while (0)

static int same(float a, float b) { return !memcmp(&a, &b, 4) || (a != a && b != b); }

int opk_vec_selftest_avx2(char *msg, size_t n, float *guard_end)
{
    int fails = 0;
    float x[200 + 16];
    for (int t = 0; t < 400; t++) {
        size_t len = (size_t)(opk_rand(7, (uint64_t)t) % 200);
        opk_fill((uint64_t)t, -30.0f, 30.0f, (opk_mat){x, 1, len, len});
        if (t % 3 == 0 && len)
            x[opk_rand(8, (uint64_t)t) % len] = -0.0f;
        /* lane16: chunks of 16 from the start, masked final chunk */
        opk_lane16 ref;
        opk_lane16_init(&ref);
        v8_lane16 acc;
        v8_lane16_init(&acc);
        size_t j = 0;
        for (; j < len; j++)
            opk_lane16_add(&ref, j, x[j]);
        for (j = 0; j + 16 <= len; j += 16)
            v8_lane16_add(&acc, _mm256_loadu_ps(x + j), _mm256_loadu_ps(x + j + 8));
        if (j < len) {
            size_t c = len - j;
            v8_lane16_add_n(&acc, v8_load_n(x + j, c),
                            v8_load_n(x + j + 8, c > 8 ? c - 8 : 0), c);
        }
        float a = opk_lane16_result(&ref), b = v8_lane16_result(&acc);
        if (!same(a, b))
            FAIL("avx2 lane16 of %zu: %a, scalar %a", len, b, a);
        /* max: NaN anywhere makes it NaN */
        int nan_at = t % 4 == 0 && len ? (int)(opk_rand(9, (uint64_t)t) % len) : -1;
        if (nan_at >= 0)
            x[nan_at] = NAN;
        v8_max mx;
        v8_max_init(&mx);
        float want = -INFINITY;
        for (j = 0; j < len; j++)
            want = x[j] > want ? x[j] : want;
        for (j = 0; j + 8 <= len; j += 8)
            v8_max_add(&mx, _mm256_loadu_ps(x + j));
        if (j < len)
            v8_max_add_n(&mx, v8_load_n(x + j, len - j), len - j);
        float got = v8_max_result(&mx);
        if (nan_at >= 0 ? got == got : got != want)
            FAIL("avx2 max of %zu (NaN at %d): %g, want %g", len, nan_at,
                 (double)got, (double)want);
    }
    /* E, Lg, Sq: the bits of the scalar functions */
    for (int t = 0; t < 64; t++) {
        float in[8];
        opk_fill(100 + (uint64_t)t, t < 32 ? -110.0f : 0.0f, t < 32 ? 90.0f : 1e6f,
                 (opk_mat){in, 1, 8, 8});
        __m256 v = _mm256_loadu_ps(in);
        float e[8], l[8], q[8];
        _mm256_storeu_ps(e, v8_E(v));
        _mm256_storeu_ps(l, v8_Lg(v));
        _mm256_storeu_ps(q, v8_Sq(v));
        for (int k = 0; k < 8; k++)
            if (!same(e[k], opk_E(in[k])) || !same(l[k], opk_Lg(in[k])) ||
                !same(q[k], opk_Sq(in[k])))
                FAIL("avx2 E/Lg/Sq(%a) differ from scalar", in[k]);
    }
    /* masked tails end at an unreadable page and write only their lanes */
    for (size_t c = 0; c <= 8; c++) {
        float *p = guard_end - c;
        for (size_t k = 0; k < c; k++)
            p[k] = (float)k;
        float o[8];
        _mm256_storeu_ps(o, v8_load_n(p, c));
        for (size_t k = 0; k < 8; k++)
            if (o[k] != (k < c ? (float)k : 0.0f))
                FAIL("avx2 load_n(%zu) lane %zu: %g", c, k, (double)o[k]);
        _mm256_storeu_ps(o, v8_loadu_c(p, c));
        for (size_t k = 0; k < c; k++)
            if (o[k] != (float)k)
                FAIL("avx2 loadu_c(%zu) lane %zu: %g", c, k, (double)o[k]);
        p[-1] = 42.0f;
        if (c % 2)
            v8_store_n(p, _mm256_set1_ps(-1.0f), c);
        else
            v8_storeu_c(p, _mm256_set1_ps(-1.0f), c);
        for (size_t k = 0; k < c; k++)
            if (p[k] != -1.0f)
                FAIL("avx2 store_n(%zu) missed lane %zu", c, k);
        if (p[-1] != 42.0f)
            FAIL("avx2 store_n(%zu) wrote before its start", c);
    }
    return fails;
}
