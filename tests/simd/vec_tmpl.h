/* The self-test of an x86 vector layer (simd/<isa>/vt.h over vec.h),
 * written once: include after vt.h with VT_ISA (a string) and VT_FN (the
 * function name) defined. Checks lane16 and the NaN-propagating max
 * against the scalar forms, E/Lg/Sq against scalar SLEEF, and that masked
 * tails neither fault at a page end nor touch other lanes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../kernels/lane16.h"
#include "../../kernels/sleef1.h"
#include "opk.h"
#include "vec_selftest.h"

#define FAIL(...)                                                            \
    do {                                                                     \
        if (!fails++)                                                        \
            snprintf(msg, n, __VA_ARGS__);                                   \
    } while (0)

static int same(float a, float b) { return !memcmp(&a, &b, 4) || (a != a && b != b); }

int VT_FN(char *msg, size_t n, float *guard_end)
{
    int fails = 0;
    float x[200 + 16] = {0}; /* padding: full-width tail loads */
    for (int t = 0; t < 400; t++) {
        size_t len = (size_t)(opk_rand(7, (uint64_t)t) % 200);
        opk_fill((uint64_t)t, -30.0f, 30.0f, (opk_mat){x, 1, len, len});
        if (t % 3 == 0 && len)
            x[opk_rand(8, (uint64_t)t) % len] = -0.0f;
        /* lane16: chunks of 16 from the start, masked final chunk */
        opk_lane16 ref;
        opk_lane16_init(&ref);
        v_lane16 acc;
        v_lane16_init(&acc);
        size_t j = 0;
        for (; j < len; j++)
            opk_lane16_add(&ref, j, x[j]);
        for (j = 0; j + 16 <= len; j += 16)
            v_lane16_add16u(&acc, x + j);
        if (j < len)
            v_lane16_add16u_n(&acc, x + j, len - j);
        float a = opk_lane16_result(&ref), b = v_lane16_result(&acc);
        if (!same(a, b))
            FAIL(VT_ISA " lane16 of %zu: %a, scalar %a", len, b, a);
        /* max: NaN anywhere makes it NaN */
        int nan_at = t % 4 == 0 && len ? (int)(opk_rand(9, (uint64_t)t) % len) : -1;
        if (nan_at >= 0)
            x[nan_at] = NAN;
        v_maxacc mx;
        v_maxacc_init(&mx);
        float want = -INFINITY;
        for (j = 0; j < len; j++)
            want = x[j] > want ? x[j] : want;
        for (j = 0; j + VL <= len; j += VL)
            v_maxacc_add(&mx, v_load(x + j));
        if (j < len)
            v_maxacc_add_n(&mx, v_load_n(x + j, len - j), len - j);
        float got = v_maxacc_result(&mx);
        if (nan_at >= 0 ? got == got : got != want)
            FAIL(VT_ISA " max of %zu (NaN at %d): %g, want %g", len, nan_at,
                 (double)got, (double)want);
    }
    /* E, Lg, Sq: the bits of the scalar functions */
    for (int t = 0; t < 64; t++) {
        float in[VL];
        opk_fill(100 + (uint64_t)t, t < 32 ? -110.0f : 0.0f, t < 32 ? 90.0f : 1e6f,
                 (opk_mat){in, 1, VL, VL});
        VF v = v_load(in);
        float e[VL], l[VL], q[VL];
        v_store(e, v_E(v));
        v_store(l, v_Lg(v));
        v_store(q, v_Sq(v));
        for (int k = 0; k < VL; k++)
            if (!same(e[k], opk_E(in[k])) || !same(l[k], opk_Lg(in[k])) ||
                !same(q[k], opk_Sq(in[k])))
                FAIL(VT_ISA " E/Lg/Sq(%a) differ from scalar", in[k]);
    }
    /* masked tails end at an unreadable page and write only their lanes */
    for (size_t c = 0; c <= VL; c++) {
        float *p = guard_end - c;
        for (size_t k = 0; k < c; k++)
            p[k] = (float)k;
        float o[VL];
        v_store(o, v_load_n(p, c));
        for (size_t k = 0; k < VL; k++)
            if (o[k] != (k < c ? (float)k : 0.0f))
                FAIL(VT_ISA " load_n(%zu) lane %zu: %g", c, k, (double)o[k]);
        v_store(o, v_loadu_c(p, c));
        for (size_t k = 0; k < c; k++)
            if (o[k] != (float)k)
                FAIL(VT_ISA " loadu_c(%zu) lane %zu: %g", c, k, (double)o[k]);
        p[-1] = 42.0f;
        if (c % 2)
            v_store_n(p, v_set1(-1.0f), c);
        else
            v_storeu_c(p, v_set1(-1.0f), c);
        for (size_t k = 0; k < c; k++)
            if (p[k] != -1.0f)
                FAIL(VT_ISA " store_n(%zu) missed lane %zu", c, k);
        if (p[-1] != 42.0f)
            FAIL(VT_ISA " store_n(%zu) wrote before its start", c);
    }
    return fails;
}
