/* Softmax on an OpenCL device (cl/softmax.cl): the whole call, already
 * validated by kernels/softmax.c. The matrix goes through one packed device
 * buffer in chunks of whole rows (axis rows) or whole columns (axis cols)
 * that fit the device's largest allocation; the kernel works in place. */
#include <stdint.h>

#include "../dispatch/backend.h"
#include "../dispatch/ctx.h"
#include "../kernels/common.h"
#include "runtime.h"

#define ROWS_PER_GROUP 4 /* OPK_SM_ROWS in softmax.cl */
#define COLS_PER_GROUP 64

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static opk_status run(const opk_ctx *ctx, const opk_softmax_job *j, int by_rows)
{
    opk_cl *cl = ctx->cl;
    /* A unit is a row (by_rows) or a column: independent, never split. */
    const size_t units = by_rows ? j->rows : j->cols;
    const size_t line = by_rows ? j->cols : j->rows;
    const size_t unit_bytes = line * sizeof(float);
    if (unit_bytes > cl->max_alloc || line > UINT32_MAX)
        return opk_fail(ctx, OPK_ERR_BACKEND,
                        "softmax: one %s of %zu floats does not fit in one "
                        "buffer on %s (largest allocation %llu bytes)",
                        by_rows ? "row" : "column", line, cl->info.name,
                        (unsigned long long)cl->max_alloc);
    size_t per = (size_t)(cl->max_alloc / unit_bytes);
    if (per > units)
        per = units;
    if (per > UINT32_MAX / 2)
        per = UINT32_MAX / 2;
    cl_kernel k;
    cl_mem buf;
    opk_status st;
    if ((st = opk_cl_kernel(ctx, "softmax",
                            by_rows ? "opk_softmax_rows" : "opk_softmax_cols",
                            &k)) ||
        (st = opk_cl_buffer(ctx, 0, per * unit_bytes, &buf)))
        return st;
    for (size_t u0 = 0; u0 < units; u0 += per) {
        const size_t nu = units - u0 < per ? units - u0 : per;
        const size_t r = by_rows ? nu : j->rows, c = by_rows ? j->cols : nu;
        const float *x = by_rows ? j->x + u0 * j->ldx : j->x + u0;
        float *y = by_rows ? j->y + u0 * j->ldy : j->y + u0;
        if ((st = opk_cl_write(ctx, buf, x, r, c, j->ldx)))
            return st;
        cl_uint ur = (cl_uint)r, uc = (cl_uint)c;
        cl_ulong ld = c;
        cl_float beta = j->beta;
        cl_int log = j->log;
        cl_int err = clSetKernelArg(k, 0, sizeof buf, &buf);
        err |= clSetKernelArg(k, 1, sizeof ur, &ur);
        err |= clSetKernelArg(k, 2, sizeof uc, &uc);
        err |= clSetKernelArg(k, 3, sizeof ld, &ld);
        err |= clSetKernelArg(k, 4, sizeof beta, &beta);
        err |= clSetKernelArg(k, 5, sizeof log, &log);
        if (err != CL_SUCCESS)
            return opk_cl_fail(ctx, CL_INVALID_KERNEL_ARGS, "softmax: clSetKernelArg");
        if (by_rows) {
            size_t global[2] = {16, round_up(r, ROWS_PER_GROUP)};
            size_t local[2] = {16, ROWS_PER_GROUP};
            st = opk_cl_launch(ctx, k, "softmax rows kernel", 2, global, local);
        } else {
            size_t global[1] = {round_up(c, COLS_PER_GROUP)};
            size_t local[1] = {COLS_PER_GROUP};
            st = opk_cl_launch(ctx, k, "softmax cols kernel", 1, global, local);
        }
        if (st || (st = opk_cl_read(ctx, y, buf, r, c, j->ldy)))
            return st;
    }
    return OPK_OK;
}

opk_status opk_cl_softmax(opk_ctx *ctx, const opk_softmax_job *j,
                          opk_axis axis)
{
    opk_cl_lock(ctx->cl);
    opk_status st = run(ctx, j, axis == OPK_ROWS);
    if (st == OPK_ERR_BACKEND)
        opk_cl_recover(ctx); /* the context stays usable */
    opk_cl_unlock(ctx->cl);
    return st;
}
