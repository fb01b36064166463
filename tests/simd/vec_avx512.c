/* Self-test of simd/avx512/vec.h (built with the AVX-512 flags). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../kernels/lane16.h"
#include "../../kernels/sleef1.h"
#include "../../simd/avx512/vec.h"
#include "opk.h"
#include "vec_selftest.h"

#define FAIL(...)                                                            \
    do {                                                                     \
        if (!fails++)                                                        \
            snprintf(msg, n, __VA_ARGS__);                                   \
    } while (0)

static int same(float a, float b) { return !memcmp(&a, &b, 4) || (a != a && b != b); }

int opk_vec_selftest_avx512(char *msg, size_t n, float *guard_end)
{
    int fails = 0;
    float x[200];
    for (int t = 0; t < 400; t++) {
        size_t len = (size_t)(opk_rand(7, (uint64_t)t) % 200);
        opk_fill((uint64_t)t, -30.0f, 30.0f, (opk_mat){x, 1, len, len});
        if (t % 3 == 0 && len)
            x[opk_rand(8, (uint64_t)t) % len] = -0.0f;
        /* lane16: chunks of 16 from the start, masked final chunk */
        opk_lane16 ref;
        opk_lane16_init(&ref);
        v16_lane16 acc;
        v16_lane16_init(&acc);
        size_t j = 0;
        for (; j < len; j++)
            opk_lane16_add(&ref, j, x[j]);
        for (j = 0; j + 16 <= len; j += 16)
            v16_lane16_add(&acc, _mm512_loadu_ps(x + j));
        if (j < len)
            v16_lane16_add_n(&acc, v16_load_n(x + j, len - j), len - j);
        float a = opk_lane16_result(&ref), b = v16_lane16_result(&acc);
        if (!same(a, b))
            FAIL("avx512 lane16 of %zu: %a, scalar %a", len, b, a);
        /* max: NaN anywhere makes it NaN */
        int nan_at = t % 4 == 0 && len ? (int)(opk_rand(9, (uint64_t)t) % len) : -1;
        if (nan_at >= 0)
            x[nan_at] = NAN;
        v16_max mx;
        v16_max_init(&mx);
        float want = -INFINITY;
        for (j = 0; j < len; j++)
            want = x[j] > want ? x[j] : want;
        for (j = 0; j + 16 <= len; j += 16)
            v16_max_add(&mx, _mm512_loadu_ps(x + j));
        if (j < len)
            v16_max_add_n(&mx, v16_load_n(x + j, len - j), len - j);
        float got = v16_max_result(&mx);
        if (nan_at >= 0 ? got == got : got != want)
            FAIL("avx512 max of %zu (NaN at %d): %g, want %g", len, nan_at,
                 (double)got, (double)want);
    }
    /* E, Lg, Sq: the bits of the scalar functions */
    for (int t = 0; t < 64; t++) {
        float in[16];
        opk_fill(100 + (uint64_t)t, t < 32 ? -110.0f : 0.0f, t < 32 ? 90.0f : 1e6f,
                 (opk_mat){in, 1, 16, 16});
        __m512 v = _mm512_loadu_ps(in);
        float e[16], l[16], q[16];
        _mm512_storeu_ps(e, v16_E(v));
        _mm512_storeu_ps(l, v16_Lg(v));
        _mm512_storeu_ps(q, v16_Sq(v));
        for (int k = 0; k < 16; k++)
            if (!same(e[k], opk_E(in[k])) || !same(l[k], opk_Lg(in[k])) ||
                !same(q[k], opk_Sq(in[k])))
                FAIL("avx512 E/Lg/Sq(%a) differ from scalar", in[k]);
    }
    /* masked tails end at an unreadable page and write only their lanes */
    for (size_t c = 0; c <= 16; c++) {
        float *p = guard_end - c;
        for (size_t k = 0; k < c; k++)
            p[k] = (float)k;
        __m512 v = v16_load_n(p, c);
        float o[16];
        _mm512_storeu_ps(o, v);
        for (size_t k = 0; k < 16; k++)
            if (o[k] != (k < c ? (float)k : 0.0f))
                FAIL("avx512 load_n(%zu) lane %zu: %g", c, k, (double)o[k]);
        _mm512_storeu_ps(o, v16_loadu_c(p, c));
        for (size_t k = 0; k < c; k++)
            if (o[k] != (float)k)
                FAIL("avx512 loadu_c(%zu) lane %zu: %g", c, k, (double)o[k]);
        p[-1] = 42.0f;
        if (c % 2)
            v16_store_n(p, _mm512_set1_ps(-1.0f), c);
        else
            v16_storeu_c(p, _mm512_set1_ps(-1.0f), c);
        for (size_t k = 0; k < c; k++)
            if (p[k] != -1.0f)
                FAIL("avx512 store_n(%zu) missed lane %zu", c, k);
        if (p[-1] != 42.0f)
            FAIL("avx512 store_n(%zu) wrote before its start", c);
    }
    return fails;
}
