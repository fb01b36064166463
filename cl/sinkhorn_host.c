/* Sinkhorn on an OpenCL device (cl/sinkhorn.cl): the whole solve of one
 * validated call (kernels/sinkhorn_entry.c checked the arguments and the
 * scores). S is uploaded once and stays on the device, in one buffer or,
 * when it is larger than the device's largest allocation, in chunks of
 * whole rows (the column pass then runs in two stages over the chunks: the
 * maximum, then the sum carried from chunk to chunk in row order, so the
 * bits do not change); the iteration
 * mirrors opk_sinkhorn_solve (kernels/sinkhorn.c) step by step, so the
 * results are the same: the error of iteration k is computed in the row
 * pass of iteration k+1 (whose update is discarded on convergence), and
 * only that scalar comes back at check iterations. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
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
#define SKC_MAX 1 /* OPK_SKC_* stages */
#define SKC_SUM 2
#define SKC_FIRST 4
#define SKC_LAST 8

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

/* Device buffers of one solve (slots of opk_cl_buffer). */
enum { B_S, B_LA, B_LB, B_A, B_F0, B_F1, B_G, B_R, B_ERR, B_CM, B_CS,
       B_COUNT };

typedef struct sk_dev {
    cl_mem b[B_COUNT];
    cl_kernel rows, plan, cols, err;
    cl_uint n, m;
    cl_float beta;
    /* S's chunks: chunk c holds rows c * per ... (the last may be short).
     * One chunk is slot B_S; several are buffers of this call alone. */
    size_t nchunks, per;
    cl_mem *chunk, one;
} sk_dev;

#define OPK_CL_WHO "sinkhorn"

opk_status opk_cl_sk_rows(const opk_ctx *ctx, cl_kernel k, cl_mem s,
                          cl_uint n, cl_uint m, cl_float beta, cl_mem la,
                          cl_mem f, cl_mem fnew, cl_mem g, cl_mem r,
                          cl_int mode, cl_uint row0)
{
    cl_int err = CL_SUCCESS;
    ARG(k, 0, s), ARG(k, 1, n), ARG(k, 2, m), ARG(k, 3, beta);
    ARG(k, 4, la), ARG(k, 5, f), ARG(k, 6, fnew), ARG(k, 7, g);
    ARG(k, 8, r), ARG(k, 9, mode), ARG(k, 10, row0);
    ARGS_OK("rows");
    size_t global[2] = {16, round_up(n, SK_ROWS)}, local[2] = {16, SK_ROWS};
    return opk_cl_launch(ctx, k, "sinkhorn row kernel", 2, global, local);
}

opk_status opk_cl_sk_plan(const opk_ctx *ctx, cl_kernel k, cl_mem s,
                          cl_uint n, cl_uint m, cl_float beta, cl_mem f,
                          cl_mem g, cl_mem r, cl_uint row0)
{
    cl_int err = CL_SUCCESS;
    ARG(k, 0, s), ARG(k, 1, n), ARG(k, 2, m), ARG(k, 3, beta);
    ARG(k, 4, f), ARG(k, 5, g), ARG(k, 6, r), ARG(k, 7, row0);
    ARGS_OK("plan");
    size_t global[2] = {16, round_up(n, SK_ROWS)}, local[2] = {16, SK_ROWS};
    return opk_cl_launch(ctx, k, "sinkhorn plan kernel", 2, global, local);
}

opk_status opk_cl_sk_cols(const opk_ctx *ctx, cl_kernel k, cl_mem s,
                          cl_uint n, cl_uint m, cl_float beta, cl_mem f,
                          cl_mem lb, cl_mem g, cl_uint row0, cl_mem cm,
                          cl_mem cs, cl_int stage)
{
    cl_int err = CL_SUCCESS;
    ARG(k, 0, s), ARG(k, 1, n), ARG(k, 2, m), ARG(k, 3, beta);
    ARG(k, 4, f), ARG(k, 5, lb), ARG(k, 6, g), ARG(k, 7, row0);
    ARG(k, 8, cm), ARG(k, 9, cs), ARG(k, 10, stage);
    ARGS_OK("cols");
    size_t global[2] = {round_up(m, SK_COLS_PER_GROUP), SK_COL_WORKERS};
    size_t local[2] = {SK_COLS_PER_GROUP, SK_COL_WORKERS};
    return opk_cl_launch(ctx, k, "sinkhorn column kernel", 2, global, local);
}

static cl_uint chunk_rows(const sk_dev *d, size_t c)
{
    size_t r0 = c * d->per;
    return (cl_uint)(d->n - r0 < d->per ? d->n - r0 : d->per);
}

static opk_status launch_rows(const opk_ctx *ctx, const sk_dev *d, int fi,
                              cl_int mode)
{
    opk_status st = OPK_OK;
    for (size_t c = 0; !st && c < d->nchunks; c++)
        st = opk_cl_sk_rows(ctx, d->rows, d->chunk[c], chunk_rows(d, c), d->m,
                            d->beta, d->b[B_LA], d->b[fi ? B_F1 : B_F0],
                            d->b[fi ? B_F0 : B_F1], d->b[B_G], d->b[B_R],
                            mode, (cl_uint)(c * d->per));
    return st;
}

static opk_status launch_plan(const opk_ctx *ctx, const sk_dev *d, int fi)
{
    opk_status st = OPK_OK;
    for (size_t c = 0; !st && c < d->nchunks; c++)
        st = opk_cl_sk_plan(ctx, d->plan, d->chunk[c], chunk_rows(d, c), d->m,
                            d->beta, d->b[fi ? B_F1 : B_F0], d->b[B_G],
                            d->b[B_R], (cl_uint)(c * d->per));
    return st;
}

static opk_status launch_cols(const opk_ctx *ctx, const sk_dev *d, int fi)
{
    cl_mem f = d->b[fi ? B_F1 : B_F0];
    if (d->nchunks == 1)
        return opk_cl_sk_cols(ctx, d->cols, d->chunk[0], d->n, d->m, d->beta,
                              f, d->b[B_LB], d->b[B_G], 0, d->b[B_CM],
                              d->b[B_CS], 0);
    opk_status st = OPK_OK;
    for (int stage = SKC_MAX; !st && stage <= SKC_SUM; stage++)
        for (size_t c = 0; !st && c < d->nchunks; c++) {
            cl_int s = stage | (c == 0 ? SKC_FIRST : 0) |
                       (c + 1 == d->nchunks ? SKC_LAST : 0);
            st = opk_cl_sk_cols(ctx, d->cols, d->chunk[c], chunk_rows(d, c),
                                d->m, d->beta, f, d->b[B_LB], d->b[B_G],
                                (cl_uint)(c * d->per), d->b[B_CM],
                                d->b[B_CS], s);
        }
    return st;
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

/* The chunks of S: as many rows as the largest allocation holds. */
static opk_status setup_chunks(const opk_ctx *ctx, const opk_sinkhorn_job *j,
                               sk_dev *d)
{
    opk_cl *cl = ctx->cl;
    const size_t n = j->rows, m = j->cols, row = m * sizeof(float);
    d->per = (size_t)(cl->max_alloc / row);
    d->per = d->per < n ? d->per : n;
    d->nchunks = (n + d->per - 1) / d->per;
    if (d->nchunks == 1) {
        d->chunk = &d->one;
        return opk_cl_buffer(ctx, B_S, n * row, &d->one);
    }
    d->chunk = opk_alloc(d->nchunks * sizeof(cl_mem));
    if (d->chunk)
        memset(d->chunk, 0, d->nchunks * sizeof(cl_mem));
    else
        return opk_fail(ctx, OPK_ERR_NOMEM, "sinkhorn: cannot allocate the "
                        "list of %zu chunks of S", d->nchunks);
    for (size_t c = 0; c < d->nchunks; c++) {
        cl_int err;
        d->chunk[c] = clCreateBuffer(cl->context, CL_MEM_READ_WRITE,
                                     chunk_rows(d, c) * row, NULL, &err);
        if (!d->chunk[c]) {
            char what[96];
            snprintf(what, sizeof what, "sinkhorn: chunk %zu of S "
                     "(clCreateBuffer)", c);
            return opk_cl_fail(ctx, err, what);
        }
    }
    return OPK_OK;
}

static void release_chunks(sk_dev *d)
{
    if (d->nchunks <= 1 || !d->chunk)
        return;
    for (size_t c = 0; c < d->nchunks; c++)
        if (d->chunk[c])
            clReleaseMemObject(d->chunk[c]);
    opk_free(d->chunk);
}

static opk_status setup(const opk_ctx *ctx, const opk_sinkhorn_job *j,
                        const float *a, sk_dev *d)
{
    const size_t n = j->rows, m = j->cols;
    if (n > UINT32_MAX || m > UINT32_MAX)
        return opk_fail(ctx, OPK_ERR_BACKEND,
                        "sinkhorn: S (%zu x %zu) has a dimension over 2^32 - 1 "
                        "(the OpenCL kernels' index range)", n, m);
    const size_t fb = sizeof(float);
    if (m * fb > ctx->cl->max_alloc) /* the unit of the chunks */
        return opk_fail(ctx, OPK_ERR_BACKEND,
                        "sinkhorn: a row of S (%zu floats) exceeds the largest "
                        "allocation of %s (%llu bytes)", m,
                        ctx->cl->info.name,
                        (unsigned long long)ctx->cl->max_alloc);
    const size_t sizes[B_COUNT] = {0,      n * fb, m * fb, n * fb, n * fb, n * fb,
                                   m * fb, n * fb, fb,     m * fb, m * fb};
    opk_status st;
    d->n = (cl_uint)n, d->m = (cl_uint)m, d->beta = j->beta;
    for (int i = 1; i < B_COUNT; i++)
        if ((st = opk_cl_buffer(ctx, i, sizes[i], &d->b[i])))
            return st;
    if ((st = setup_chunks(ctx, j, d)) ||
        (st = opk_cl_kernel(ctx, "sinkhorn", "opk_sk_rows", &d->rows)) ||
        (st = opk_cl_kernel(ctx, "sinkhorn", "opk_sk_plan", &d->plan)) ||
        (st = opk_cl_kernel(ctx, "sinkhorn", "opk_sk_cols", &d->cols)) ||
        (st = opk_cl_kernel(ctx, "sinkhorn", "opk_sk_err", &d->err)))
        return st;
    for (size_t c = 0; c < d->nchunks; c++)
        if ((st = opk_cl_write(ctx, d->chunk[c], j->s + c * d->per * j->lds,
                               chunk_rows(d, c), m, j->lds)))
            return st;
    if ((st = opk_cl_write(ctx, d->b[B_LA], j->la, 1, n, n)) ||
        (st = opk_cl_write(ctx, d->b[B_LB], j->lb, 1, m, m)) ||
        (a && (st = opk_cl_write(ctx, d->b[B_A], a, 1, n, n))))
        return st;
    return opk_cl_fill(ctx, d->b[B_G], 0.0f, m, "sinkhorn"); /* g = 0 */
}

static opk_status iterate(const opk_ctx *ctx, const opk_sinkhorn_job *j,
                          const float *a, const opk_sinkhorn_opts *opts,
                          float tol, opk_sinkhorn_info *info, sk_dev *dp)
{
    const sk_dev d = *dp;
    opk_status st;
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
        (st = opk_cl_read(ctx, j->g, d.b[B_G], 1, m, m)))
        return st;
    for (size_t c = 0; j->p && c < d.nchunks; c++)
        if ((st = opk_cl_read(ctx, j->p + c * d.per * j->ldp, d.chunk[c],
                              chunk_rows(&d, c), m, j->ldp)))
            return st;
    info->iterations = it;
    info->err = err;
    info->converged = err <= tol;
    return OPK_OK;
}

static opk_status solve(const opk_ctx *ctx, const opk_sinkhorn_job *j,
                        const float *a, const opk_sinkhorn_opts *opts,
                        float tol, opk_sinkhorn_info *info)
{
    sk_dev d;
    memset(&d, 0, sizeof d);
    opk_status st = setup(ctx, j, a, &d);
    if (!st)
        st = iterate(ctx, j, a, opts, tol, info, &d);
    release_chunks(&d);
    return st;
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
