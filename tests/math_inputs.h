/* Inputs for checking E and Lg against SLEEF's scalar functions bit for bit
 * (tests/test_math.c: each CPU backend's vector functions; test_cl_math.c:
 * the OpenCL ones). Any NaN equals any NaN (the hash canonicalizes NaN,
 * SPEC 4).
 *   math_sample:  2^24 inputs: every combination of sign, exponent and top
 *                 7 mantissa bits with 256 random low parts (all exponents,
 *                 subnormals, inf, NaNs), or fewer low parts;
 *   math_edges:   edge values (thresholds, q ties) and their neighbours;
 *   math_block:   block k of all 2^32 inputs in blocks of MATH_CHUNK. */
#ifndef OPK_TEST_MATH_INPUTS_H
#define OPK_TEST_MATH_INPUTS_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sleef.h>

#include "opk.h"

#define MATH_CHUNK ((size_t)1 << 24)

static inline float math_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint32_t math_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* per (1..256) random low parts for each of the 2^16 high parts (256: the
 * whole sample); returns the count, 2^16 * per. */
static inline size_t math_sample(float *x, size_t per)
{
    for (size_t i = 0; i < ((size_t)1 << 16) * per; i++) {
        uint32_t hi = (uint32_t)(i / per), lo = (uint32_t)opk_rand(7, i);
        x[i] = math_from_bits((hi << 16) | (lo & 0xffffu));
    }
    return ((size_t)1 << 16) * per;
}

static inline void math_block(float *x, uint64_t k)
{
    for (size_t i = 0; i < MATH_CHUNK; i++)
        x[i] = math_from_bits((uint32_t)(k * MATH_CHUNK + i));
}

static inline size_t math_edges(float *x)
{
    static const float fixed[] = {
        0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, FLT_MIN, -FLT_MIN,
        FLT_MAX, -FLT_MAX, 0x1p-149f, -0x1p-149f, 1.0f, -1.0f, 0.75f, 1.5f,
        -104.0f, 100.0f, 88.72283935546875f, 88.7228469848632812f,
        -87.3365478515625f, -103.972076416015625f, 0.6931471825f,
        0x1.fffffep-127f, 0x1p-126f, 0x1.000002p-126f,
        /* Sq: its tiny-argument threshold, and two inputs where SLEEF's
         * sqrtf is not the IEEE square root (0x4f5ae03b, 0x405ae03b). */
        0x1p-74f, 0x1.b5c076p+31f, 0x1.b5c076p+1f};
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        for (int d = -3; d <= 3; d++) /* and neighbours */
            x[n++] = math_from_bits(math_bits(fixed[i]) + (uint32_t)d);
    /* Near ties of q = rint(d / ln 2): d * R_LN2f close to k + 1/2. */
    for (int k = -151; k <= 150; k++) {
        float d = (float)(((double)k + 0.5) / 1.4426950408889634);
        for (int e = -4; e <= 4; e++)
            x[n++] = math_from_bits(math_bits(d) + (uint32_t)e);
    }
    x[n++] = math_from_bits(0x7f800001u); /* signalling NaN */
    x[n++] = math_from_bits(0xffc00001u);
    return n;
}

/* What math_n's fn computes, for messages: E, Lg, Sq, and E of arguments
 * <= 0 (compared only on x <= 0 or NaN). */
static const char *const math_fn_names[4] = {"E", "Lg", "Sq", "E_le0"};

/* Inputs among x[0..n) where y differs from SLEEF's scalar E (fn 0 and 3,
 * the latter on x <= 0 or NaN only), Lg (fn 1) or Sq (fn 2); the first few
 * are printed, named by who. */
static inline unsigned long math_compare(const char *who, int fn,
                                         const float *x, const float *y,
                                         size_t n, unsigned long seen)
{
    unsigned long bad = 0;
#pragma omp parallel for reduction(+ : bad) schedule(static)
    for (size_t i = 0; i < n; i++) {
        if (fn == 3 && x[i] > 0.0f)
            continue; /* E_le0 is for arguments <= 0 (or NaN) only */
        float r = fn == 2   ? Sleef_finz_sqrtf1_u05purecfma(x[i])
                  : fn == 1 ? Sleef_finz_logf1_u10purecfma(x[i])
                            : Sleef_finz_expf1_u10purecfma(x[i]);
        if (math_bits(r) != math_bits(y[i]) && !(isnan(r) && isnan(y[i]))) {
            bad++;
            if (seen + bad <= 8)
                fprintf(stderr, "%s(%a = 0x%08x): SLEEF %a (0x%08x), %s %a (0x%08x)\n",
                        math_fn_names[fn], (double)x[i], math_bits(x[i]),
                        (double)r, math_bits(r), who, (double)y[i],
                        math_bits(y[i]));
        }
    }
    return bad;
}

#endif
