/* Chebyshev propagation on an OpenCL device (cl/cheb.cl): the whole call,
 * validated by kernels/cheb.c. The CSR arrays and X go up once, every order
 * is one launch on the device with the T blocks rotating there (as the CPU
 * path rotates them), and only Y comes back. */
#include <stdint.h>
#include <string.h>

#include "../dispatch/backend.h"
#include "../dispatch/ctx.h"
#include "../kernels/common.h"
#include "runtime.h"

#define GROUP 64

/* Device buffers of one call (slots of opk_cl_buffer). */
enum { B_RP, B_COL, B_VAL, B_X, B_T0, B_T1, B_Y, B_COUNT };

#define OPK_CL_WHO "cheb"

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

static opk_status run(const opk_ctx *ctx, const opk_cheb_job *j,
                      const float *c, size_t K, opk_cmat X, opk_mat Y)
{
    opk_cl *cl = ctx->cl;
    const size_t n = j->n, F = j->F, nF = n * F;
    const int64_t nnz = j->row_ptr[n]; /* validated: row_ptr[0] = 0 */
    const size_t nblk = K >= 3 ? 2 : K == 2 ? 1 : 0;
    const size_t sizes[B_COUNT] = {(n + 1) * 8, (size_t)nnz * 4,
                                   (size_t)nnz * 4, nF * 4,
                                   nblk >= 1 ? nF * 4 : 4,
                                   nblk >= 2 ? nF * 4 : 4, nF * 4};
    cl_mem b[B_COUNT];
    opk_status st;
    for (int i = 0; i < B_COUNT; i++)
        if ((st = opk_cl_buffer(ctx, i, sizes[i], &b[i])))
            return st; /* L and the blocks stay on the device: no chunks */
    cl_kernel k;
    if ((st = opk_cl_kernel(ctx, "cheb", K ? "opk_cheb_order" : "opk_cheb_scale",
                            &k)))
        return st;
    if ((st = opk_cl_write(ctx, b[B_X], X.data, n, F, X.ld)))
        return st;
    size_t global = round_up(nF, GROUP), local = GROUP;
    cl_int err = CL_SUCCESS;
    if (K == 0) {
        cl_ulong count = nF;
        cl_float c0 = c[0];
        ARG(k, 0, b[B_X]), ARG(k, 1, b[B_Y]), ARG(k, 2, count), ARG(k, 3, c0);
        if (err != CL_SUCCESS)
            return opk_cl_fail(ctx, CL_INVALID_KERNEL_ARGS, "cheb: clSetKernelArg");
        if ((st = opk_cl_launch(ctx, k, "cheb scale kernel", 1, &global, &local)))
            return st;
        return opk_cl_read(ctx, Y.data, b[B_Y], n, F, Y.ld);
    }
    cl_int e1 = clEnqueueWriteBuffer(cl->queue, b[B_RP], CL_FALSE, 0, sizes[B_RP],
                                     j->row_ptr, 0, NULL, NULL);
    if (e1 == CL_SUCCESS && nnz)
        e1 = clEnqueueWriteBuffer(cl->queue, b[B_COL], CL_FALSE, 0,
                                  sizes[B_COL], j->col_idx, 0, NULL, NULL);
    if (e1 == CL_SUCCESS && nnz)
        e1 = clEnqueueWriteBuffer(cl->queue, b[B_VAL], CL_FALSE, 0,
                                  sizes[B_VAL], j->val, 0, NULL, NULL);
    if (e1 != CL_SUCCESS)
        return opk_cl_fail(ctx, e1, "cheb: host-to-device copy of L");
    cl_ulong un = n, uF = F;
    cl_float alpha = j->alpha, gamma = j->gamma, c0 = c[0];
    ARG(k, 0, b[B_RP]), ARG(k, 1, b[B_COL]), ARG(k, 2, b[B_VAL]);
    ARG(k, 3, un), ARG(k, 4, uF), ARG(k, 5, alpha), ARG(k, 6, gamma);
    ARG(k, 10, b[B_Y]), ARG(k, 12, c0);
    /* T_{k-1} lives in: X (k-1 = 0), T0 (odd k-1), T1 (even k-1 >= 2). */
    const cl_mem T[2] = {b[B_T0], b[B_T1]};
    for (size_t o = 1; o <= K; o++) {
        cl_mem v = o == 1 ? b[B_X] : T[(o - 2) % 2];
        cl_mem w = o == 1 ? b[B_X] : o == 2 ? b[B_X] : T[(o - 1) % 2];
        cl_mem t = o == K ? b[B_Y] : T[(o - 1) % 2]; /* unused when last */
        cl_float co = c[o];
        cl_int has_w = o >= 2, store_t = o < K;
        ARG(k, 7, v), ARG(k, 8, w), ARG(k, 9, t), ARG(k, 11, co);
        ARG(k, 13, has_w), ARG(k, 14, store_t);
        if (err != CL_SUCCESS)
            return opk_cl_fail(ctx, CL_INVALID_KERNEL_ARGS, "cheb: clSetKernelArg");
        if ((st = opk_cl_launch(ctx, k, "cheb order kernel", 1, &global, &local)))
            return st;
    }
    return opk_cl_read(ctx, Y.data, b[B_Y], n, F, Y.ld);
}

opk_status opk_cl_cheb(opk_ctx *ctx, const opk_cheb_job *j, const float *c,
                       size_t K, opk_cmat X, opk_mat Y)
{
    opk_cl_lock(ctx->cl);
    opk_status st = run(ctx, j, c, K, X, Y);
    if (st == OPK_ERR_BACKEND)
        opk_cl_recover(ctx); /* the context stays usable */
    opk_cl_unlock(ctx->cl);
    return st;
}
