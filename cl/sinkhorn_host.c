/* Sinkhorn on an OpenCL device (cl/sinkhorn.cl): the whole solve of one
 * validated call (kernels/sinkhorn_entry.c checked the arguments and the
 * scores). S is uploaded once and stays on the device; the iteration
 * mirrors opk_sinkhorn_solve (kernels/sinkhorn.c) step by step, so the
 * results are the same: the error of iteration k is computed in the row
 * pass of iteration k+1 (whose update is discarded on convergence), and
 * only that scalar comes back at check iterations. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../dispatch/backend.h"
#include "../dispatch/ctx.h"
#include "../kernels/common.h"
#include "runtime.h"

#define SK_ROWS 4 /* OPK_SK_ROWS in sinkhorn.cl */
#define SK_COLS_PER_GROUP 32 /* OPK_SKC_COLS in sinkhorn.cl */
#define SK_COL_WORKERS 8     /* OPK_SKC_WORKERS */
#define SK_UPDATE 1
#define SK_CHECK 2

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

/* Device buffers of one solve (slots of opk_cl_buffer). */
enum { B_S, B_LA, B_LB, B_A, B_F0, B_F1, B_G, B_R, B_ERR, B_COUNT };

typedef struct sk_dev {
    cl_mem b[B_COUNT];
    cl_kernel rows, plan, cols, err;
    cl_uint n, m;
    cl_float beta;
} sk_dev;

#define ARG(k, i, v) (err |= clSetKernelArg((k), (i), sizeof(v), &(v)))
#define ARGS_OK(what)                                                     \
    if (err != CL_SUCCESS)                                                \
        return opk_cl_fail(ctx, CL_INVALID_KERNEL_ARGS,                   \
                           "sinkhorn: clSetKernelArg (" what ")")

opk_status opk_cl_sk_rows(const opk_ctx *ctx, cl_kernel k, cl_mem s,
                          cl_uint n, cl_uint m, cl_float beta, cl_mem la,
                          cl_mem f, cl_mem fnew, cl_mem g, cl_mem r,
                          cl_int mode)
{
    cl_int err = CL_SUCCESS;
    ARG(k, 0, s), ARG(k, 1, n), ARG(k, 2, m), ARG(k, 3, beta);
    ARG(k, 4, la), ARG(k, 5, f), ARG(k, 6, fnew), ARG(k, 7, g);
    ARG(k, 8, r), ARG(k, 9, mode);
    ARGS_OK("rows");
    size_t global[2] = {16, round_up(n, SK_ROWS)}, local[2] = {16, SK_ROWS};
    return opk_cl_launch(ctx, k, "sinkhorn row kernel", 2, global, local);
}

opk_status opk_cl_sk_plan(const opk_ctx *ctx, cl_kernel k, cl_mem s,
                          cl_uint n, cl_uint m, cl_float beta, cl_mem f,
                          cl_mem g, cl_mem r)
{
    cl_int err = CL_SUCCESS;
    ARG(k, 0, s), ARG(k, 1, n), ARG(k, 2, m), ARG(k, 3, beta);
    ARG(k, 4, f), ARG(k, 5, g), ARG(k, 6, r);
    ARGS_OK("plan");
    size_t global[2] = {16, round_up(n, SK_ROWS)}, local[2] = {16, SK_ROWS};
    return opk_cl_launch(ctx, k, "sinkhorn plan kernel", 2, global, local);
}

opk_status opk_cl_sk_cols(const opk_ctx *ctx, cl_kernel k, cl_mem s,
                          cl_uint n, cl_uint m, cl_float beta, cl_mem f,
                          cl_mem lb, cl_mem g)
{
    cl_int err = CL_SUCCESS;
    ARG(k, 0, s), ARG(k, 1, n), ARG(k, 2, m), ARG(k, 3, beta);
    ARG(k, 4, f), ARG(k, 5, lb), ARG(k, 6, g);
    ARGS_OK("cols");
    size_t global[2] = {round_up(m, SK_COLS_PER_GROUP), SK_COL_WORKERS};
    size_t local[2] = {SK_COLS_PER_GROUP, SK_COL_WORKERS};
    return opk_cl_launch(ctx, k, "sinkhorn column kernel", 2, global, local);
}

static opk_status launch_rows(const opk_ctx *ctx, const sk_dev *d, int fi,
                              cl_int mode)
{
    return opk_cl_sk_rows(ctx, d->rows, d->b[B_S], d->n, d->m, d->beta,
                          d->b[B_LA], d->b[fi ? B_F1 : B_F0],
                          d->b[fi ? B_F0 : B_F1], d->b[B_G], d->b[B_R], mode);
}

static opk_status launch_plan(const opk_ctx *ctx, const sk_dev *d, int fi)
{
    return opk_cl_sk_plan(ctx, d->plan, d->b[B_S], d->n, d->m, d->beta,
                          d->b[fi ? B_F1 : B_F0], d->b[B_G], d->b[B_R]);
}

static opk_status launch_cols(const opk_ctx *ctx, const sk_dev *d, int fi)
{
    return opk_cl_sk_cols(ctx, d->cols, d->b[B_S], d->n, d->m, d->beta,
                          d->b[fi ? B_F1 : B_F0], d->b[B_LB], d->b[B_G]);
}

/* err from r on the device; the one scalar that comes back. */
static opk_status read_err(const opk_ctx *ctx, const sk_dev *d, cl_int has_a,
                           float *out)
{
    cl_int err = CL_SUCCESS;
    cl_kernel k = d->err;
    ARG(k, 0, d->b[B_R]), ARG(k, 1, d->b[B_A]), ARG(k, 2, d->n);
    ARG(k, 3, has_a), ARG(k, 4, d->b[B_ERR]);
    ARGS_OK("error");
    size_t one = 1;
    opk_status st = opk_cl_launch(ctx, k, "sinkhorn error kernel", 1, &one, &one);
    if (st || (st = opk_cl_read(ctx, out, d->b[B_ERR], 1, 1, 1)))
        return st;
    /* NaN payloads differ between devices (PoCL gives 0x7fffffff); the CPU
     * backends' NaN error is the default quiet NaN: return that one. */
    if (*out != *out)
        *out = NAN;
    return OPK_OK;
}

static opk_status setup(const opk_ctx *ctx, const opk_sinkhorn_job *j,
                        const float *a, sk_dev *d)
{
    opk_cl *cl = ctx->cl;
    const size_t n = j->rows, m = j->cols;
    if (n > UINT32_MAX || m > UINT32_MAX ||
        n * m > cl->max_alloc / sizeof(float))
        return opk_fail(ctx, OPK_ERR_BACKEND,
                        "sinkhorn: S (%zu x %zu) must fit one buffer on %s "
                        "(largest allocation %llu bytes): it stays on the "
                        "device for the whole solve",
                        n, m, cl->info.name, (unsigned long long)cl->max_alloc);
    const size_t fb = sizeof(float);
    const size_t sizes[B_COUNT] = {n * m * fb, n * fb, m * fb, n * fb,
                                   n * fb,     n * fb, m * fb, n * fb, fb};
    opk_status st;
    for (int i = 0; i < B_COUNT; i++)
        if ((st = opk_cl_buffer(ctx, i, sizes[i], &d->b[i])))
            return st;
    if ((st = opk_cl_kernel(ctx, "sinkhorn", "opk_sk_rows", &d->rows)) ||
        (st = opk_cl_kernel(ctx, "sinkhorn", "opk_sk_plan", &d->plan)) ||
        (st = opk_cl_kernel(ctx, "sinkhorn", "opk_sk_cols", &d->cols)) ||
        (st = opk_cl_kernel(ctx, "sinkhorn", "opk_sk_err", &d->err)))
        return st;
    d->n = (cl_uint)n, d->m = (cl_uint)m, d->beta = j->beta;
    if ((st = opk_cl_write(ctx, d->b[B_S], j->s, n, m, j->lds)) ||
        (st = opk_cl_write(ctx, d->b[B_LA], j->la, 1, n, n)) ||
        (st = opk_cl_write(ctx, d->b[B_LB], j->lb, 1, m, m)) ||
        (a && (st = opk_cl_write(ctx, d->b[B_A], a, 1, n, n))))
        return st;
    const cl_float zero = 0.0f; /* SPEC 3.2: start from g = 0 */
    cl_int err = clEnqueueFillBuffer(cl->queue, d->b[B_G], &zero, sizeof zero,
                                     0, m * fb, 0, NULL, NULL);
    return err == CL_SUCCESS ? OPK_OK
                             : opk_cl_fail(ctx, err, "sinkhorn: clEnqueueFillBuffer");
}

static opk_status solve(const opk_ctx *ctx, const opk_sinkhorn_job *j,
                        const float *a, const opk_sinkhorn_opts *opts,
                        float tol, opk_sinkhorn_info *info)
{
    sk_dev d;
    opk_status st = setup(ctx, j, a, &d);
    if (st)
        return st;
    const int max_iter = opts->max_iter, every = opts->check_every;
    const cl_int has_a = a != NULL;
    int it = 0, pending = 0, fi = 0, planned = 0;
    float err = 0.0f;
    for (;;) {
        if (it == max_iter) { /* the last check; P with it */
            if ((st = j->p ? launch_plan(ctx, &d, fi)
                           : launch_rows(ctx, &d, fi, SK_CHECK)) ||
                (st = read_err(ctx, &d, has_a, &err)))
                return st;
            planned = j->p != NULL;
            break;
        }
        if ((st = launch_rows(ctx, &d, fi, SK_UPDATE | (pending ? SK_CHECK : 0))))
            return st;
        if (pending) {
            if ((st = read_err(ctx, &d, has_a, &err)))
                return st;
            if (err <= tol)
                break; /* the update just made is discarded */
        }
        it++;
        fi ^= 1;
        if ((st = launch_cols(ctx, &d, fi)))
            return st;
        pending = it % every == 0 || it == max_iter;
    }
    if (!planned && j->p && (st = launch_plan(ctx, &d, fi)))
        return st;
    const size_t n = j->rows, m = j->cols;
    if ((st = opk_cl_read(ctx, j->fnew, d.b[fi ? B_F1 : B_F0], 1, n, n)) ||
        (st = opk_cl_read(ctx, j->g, d.b[B_G], 1, m, m)) ||
        (j->p && (st = opk_cl_read(ctx, j->p, d.b[B_S], n, m, j->ldp))))
        return st;
    info->iterations = it;
    info->err = err;
    info->converged = err <= tol;
    return OPK_OK;
}

opk_status opk_cl_sinkhorn(opk_ctx *ctx, const opk_sinkhorn_job *j,
                           const float *a, const opk_sinkhorn_opts *opts,
                           float tol, opk_sinkhorn_info *info)
{
    opk_cl_lock(ctx->cl);
    opk_status st = solve(ctx, j, a, opts, tol, info);
    if (st == OPK_ERR_BACKEND)
        opk_cl_recover(ctx); /* the context stays usable */
    opk_cl_unlock(ctx->cl);
    return st;
}
