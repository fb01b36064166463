/* The OpenCL E and Lg (cl/sleef_expf.cl, cl/sleef_logf.cl) against SLEEF's
 * Sleef_finz_expf1_u10purecfma / Sleef_finz_logf1_u10purecfma, bit for bit
 * (any NaN equals any NaN: the hash canonicalizes NaN, SPEC 4), on the
 * first OpenCL device (OPK_BACKEND=opencl:P:D picks another).
 *
 *   test_cl_math        a sample of 2^24 + specials: every combination of
 *                       sign, exponent and top 7 mantissa bits with 256
 *                       random low parts (all exponents, subnormals, inf,
 *                       NaNs), plus edge values (thresholds, q ties).
 *   test_cl_math all    all 2^32 inputs (ctest label slow).
 *
 * Exit status 77 (skipped) when no OpenCL device is usable. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sleef.h>

#include "../cl/hooks.h"
#include "backends.h"
#include "check.h"
#include "opk.h"

static unsigned long mism[2], tested[2];

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Runs both functions on x[0..n) and compares with SLEEF. */
static void check_batch(opk_ctx *ctx, const float *x, float *y, size_t n)
{
    for (int w = 0; w < 2; w++) {
        opk_status st = opk_cl_math(ctx, w, x, y, n);
        CHECK(st == OPK_OK, "opk_cl_math: %s", opk_ctx_last_error(ctx));
        if (st)
            return;
        unsigned long bad = 0;
#pragma omp parallel for reduction(+ : bad) schedule(static)
        for (size_t i = 0; i < n; i++) {
            float r = w ? Sleef_finz_logf1_u10purecfma(x[i])
                        : Sleef_finz_expf1_u10purecfma(x[i]);
            if (bits(r) != bits(y[i]) && !(isnan(r) && isnan(y[i]))) {
                bad++;
                if (mism[w] + bad <= 8)
                    fprintf(stderr,
                            "%s(%a = 0x%08x): SLEEF %a (0x%08x), OpenCL %a "
                            "(0x%08x)\n",
                            w ? "Lg" : "E", (double)x[i], bits(x[i]),
                            (double)r, bits(r), (double)y[i], bits(y[i]));
            }
        }
        mism[w] += bad;
        tested[w] += n;
    }
}

static size_t edge_values(float *x)
{
    static const float fixed[] = {
        0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, FLT_MIN, -FLT_MIN,
        FLT_MAX, -FLT_MAX, 0x1p-149f, -0x1p-149f, 1.0f, -1.0f, 0.75f, 1.5f,
        -104.0f, 100.0f, 88.72283935546875f, 88.7228469848632812f,
        -87.3365478515625f, -103.972076416015625f, 0.6931471825f,
        0x1.fffffep-127f, 0x1p-126f, 0x1.000002p-126f};
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        for (int d = -3; d <= 3; d++) /* and neighbours */
            x[n++] = from_bits(bits(fixed[i]) + (uint32_t)d);
    /* Near ties of q = rint(d / ln 2): d * R_LN2f close to k + 1/2. */
    for (int k = -151; k <= 150; k++) {
        float d = (float)(((double)k + 0.5) / 1.4426950408889634);
        for (int e = -4; e <= 4; e++)
            x[n++] = from_bits(bits(d) + (uint32_t)e);
    }
    x[n++] = from_bits(0x7f800001u); /* signalling NaN */
    x[n++] = from_bits(0xffc00001u);
    return n;
}

int main(int argc, char **argv)
{
    int all = argc > 1 && !strcmp(argv[1], "all");
    if (test_backend_excluded(OPK_BACKEND_OPENCL)) {
        printf("test_cl_math: skipped: OPK_TEST_BACKENDS leaves opencl out\n");
        return 77;
    }
    if (!opk_backend_available(OPK_BACKEND_OPENCL)) {
        printf("test_cl_math: skipped: %s\n",
               opk_backend_unavailable_reason(OPK_BACKEND_OPENCL));
        return 77;
    }
    opk_config cfg = opk_config_default();
    const char *env = getenv("OPK_BACKEND");
    cfg.backend = OPK_BACKEND_OPENCL;
    if (env && opk_backend_parse(env, &cfg.backend, &cfg.cl_platform,
                                 &cfg.cl_device))
        cfg.backend = OPK_BACKEND_OPENCL;
    opk_ctx *ctx;
    if (opk_ctx_create(&cfg, &ctx)) {
        fprintf(stderr, "opencl context: %s\n", opk_ctx_last_error(NULL));
        return 1;
    }
    opk_cl_device_info info;
    for (int i = 0; i < opk_cl_device_count(); i++)
        if (!opk_cl_device_describe(i, &info) &&
            info.platform == cfg.cl_platform && info.device == cfg.cl_device)
            printf("device %d:%d: %s (%s)\n", info.platform, info.device,
                   info.name, info.platform_name);
    const size_t chunk = (size_t)1 << 24;
    float *x = malloc(chunk * sizeof(float)), *y = malloc(chunk * sizeof(float));
    if (!x || !y)
        return 1;
    if (all) {
        for (uint64_t base = 0; base < ((uint64_t)1 << 32); base += chunk) {
            for (size_t i = 0; i < chunk; i++)
                x[i] = from_bits((uint32_t)(base + i));
            check_batch(ctx, x, y, chunk);
            if ((base / chunk) % 32 == 31)
                fprintf(stderr, "%3d%%\r", (int)((base + chunk) >> 26) * 100 / 64);
        }
    } else {
        for (size_t i = 0; i < chunk; i++) {
            uint32_t hi = (uint32_t)(i >> 8), lo = (uint32_t)opk_rand(7, i);
            x[i] = from_bits((hi << 16) | (lo & 0xffffu));
        }
        check_batch(ctx, x, y, chunk);
        size_t n = edge_values(x);
        check_batch(ctx, x, y, n);
    }
    for (int w = 0; w < 2; w++)
        CHECK(mism[w] == 0, "%s: %lu of %lu inputs differ from SLEEF",
              w ? "Lg" : "E", mism[w], tested[w]);
    printf("E: %lu inputs, %lu differ; Lg: %lu inputs, %lu differ\n",
           tested[0], mism[0], tested[1], mism[1]);
    free(x), free(y);
    opk_ctx_destroy(ctx);
    return check_summary("test_cl_math");
}
