/* The OpenCL E, Lg and Sq (cl/sleef_expf.cl, cl/sleef_logf.cl,
 * cl/sleef_sqrtf.cl) against SLEEF's Sleef_finz_expf1_u10purecfma /
 * Sleef_finz_logf1_u10purecfma / Sleef_finz_sqrtf1_u05purecfma, bit for bit
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cl/hooks.h"
#include "backends.h"
#include "check.h"
#include "math_inputs.h"
#include "opk.h"

static unsigned long mism[3], tested[3];

/* Runs the three functions on x[0..n) and compares with SLEEF. */
static void check_batch(opk_ctx *ctx, const float *x, float *y, size_t n)
{
    for (int w = 0; w < 3; w++) {
        opk_status st = opk_cl_math(ctx, w, x, y, n);
        CHECK(st == OPK_OK, "opk_cl_math: %s", opk_ctx_last_error(ctx));
        if (st)
            return;
        mism[w] += math_compare("OpenCL", w, x, y, n, mism[w]);
        tested[w] += n;
    }
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
    float *x = malloc(MATH_CHUNK * sizeof(float)), *y = malloc(MATH_CHUNK * sizeof(float));
    if (!x || !y)
        return 1;
    if (all) {
        for (uint64_t k = 0; k < 256; k++) {
            math_block(x, k);
            check_batch(ctx, x, y, MATH_CHUNK);
            if (k % 32 == 31)
                fprintf(stderr, "%3d%%\r", (int)(k + 1) * 100 / 256);
        }
    } else {
        check_batch(ctx, x, y, math_sample(x, 256));
        check_batch(ctx, x, y, math_edges(x));
    }
    for (int w = 0; w < 3; w++)
        CHECK(mism[w] == 0, "%s: %lu of %lu inputs differ from SLEEF",
              math_fn_names[w], mism[w], tested[w]);
    printf("E: %lu inputs, %lu differ; Lg: %lu inputs, %lu differ; "
           "Sq: %lu inputs, %lu differ\n",
           tested[0], mism[0], tested[1], mism[1], tested[2], mism[2]);
    free(x), free(y);
    opk_ctx_destroy(ctx);
    return check_summary("test_cl_math");
}
