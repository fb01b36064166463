/* Test hook: E, Lg or Sq of an array on the device (cl/mathtest.cl), so that
 * tests/test_cl_math.c can compare the OpenCL functions with SLEEF. */
#include <stdint.h>

#include "../dispatch/ctx.h"
#include "../kernels/common.h"
#include "runtime.h"

static opk_status run(opk_ctx *ctx, int which, const float *x, float *y,
                      size_t n)
{
    opk_cl *cl = ctx->cl;
    size_t per = (size_t)(cl->max_alloc / sizeof(float));
    if (per > ((size_t)1 << 26))
        per = (size_t)1 << 26;
    cl_kernel k;
    cl_mem in, out;
    opk_status st;
    static const char *const names[] = {"opk_math_E", "opk_math_Lg",
                                        "opk_math_Sq"};
    if ((st = opk_cl_kernel(ctx, "mathtest", names[which], &k)) ||
        (st = opk_cl_buffer(ctx, 0, per * sizeof(float), &in)) ||
        (st = opk_cl_buffer(ctx, 1, per * sizeof(float), &out)))
        return st;
    for (size_t i0 = 0; i0 < n; i0 += per) {
        size_t m = n - i0 < per ? n - i0 : per;
        if ((st = opk_cl_write(ctx, in, x + i0, 1, m, m)))
            return st;
        cl_uint um = (cl_uint)m;
        cl_int err = clSetKernelArg(k, 0, sizeof in, &in);
        err |= clSetKernelArg(k, 1, sizeof out, &out);
        err |= clSetKernelArg(k, 2, sizeof um, &um);
        if (err != CL_SUCCESS)
            return opk_cl_fail(ctx, CL_INVALID_KERNEL_ARGS, "math: clSetKernelArg");
        size_t global = (m + 255) / 256 * 256;
        if ((st = opk_cl_launch(ctx, k, "math kernel", 1, &global, NULL)) ||
            (st = opk_cl_read(ctx, y + i0, out, 1, m, m)))
            return st;
    }
    return OPK_OK;
}

opk_status opk_cl_math(opk_ctx *ctx, int which, const float *x, float *y,
                       size_t n)
{
    if (!ctx || !ctx->cl)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG, "opk_cl_math: not an opencl context");
    if (which < 0 || which > 2)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG, "opk_cl_math: which (%d) must be 0, 1 or 2",
                        which);
    opk_cl_lock(ctx->cl);
    opk_status st = run(ctx, which, x, y, n);
    if (st == OPK_ERR_BACKEND)
        opk_cl_recover(ctx);
    opk_cl_unlock(ctx->cl);
    return st;
}
