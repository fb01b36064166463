/* Damped attention on an OpenCL device (cl/attention.cl): the whole call,
 * validated by kernels/attention_entry.c, which also computed the graph
 * term G (on the device, through opk_cheb). Q, K, V, H and G go up once,
 * packed; O comes back only after everything that can fail has passed
 * (the linear mode's zero-norm checks included). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "../dispatch/backend.h"
#include "../dispatch/ctx.h"
#include "../kernels/common.h"
#include "../kernels/scalar.h"
#include "runtime.h"

#define AT_B 64  /* OPK_AT_B in attention.cl */
#define AT_R 8   /* OPK_AT_R */
#define AT_FW 256 /* OPK_AT_FC * OPK_AT_B: features per fused launch */
#define KV_TILE 16 /* OPK_KV_TILE */

/* Device buffers (slots of opk_cl_buffer). The mode-specific ones share
 * slots: sinkhorn S/la/lb/f0/f1/g/r, linear KV/rq/rk/ks/vs/-/sum. */
enum { B_Q, B_K, B_V, B_H, B_G, B_O, B_X0, B_X1, B_X2, B_X3, B_X4, B_X5,
       B_X6, B_COUNT };

typedef struct at_dev {
    cl_mem b[B_COUNT];
    cl_mem h, g; /* H (V's buffer when H = V), G (O's when none; unread) */
    cl_uint n, m, d, dv;
    cl_int has_g;
} at_dev;

#define OPK_CL_WHO "attention"

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

/* Buffer `slot` of `floats` floats (at least one). */
static opk_status buf(const opk_ctx *ctx, at_dev *a, int slot, size_t floats)
{
    return opk_cl_buffer(ctx, slot, (floats ? floats : 1) * sizeof(float),
                         &a->b[slot]);
}

static opk_status fill(const opk_ctx *ctx, cl_mem m, float v, size_t count)
{
    return opk_cl_fill(ctx, m, v, count, "attention");
}

/* count copies of Lg(x), computed on the device (the host side has no
 * SLEEF here: this file is not built with -mfma). */
static opk_status fill_lg(const opk_ctx *ctx, cl_mem m, float x, size_t count)
{
    cl_kernel k;
    opk_status st = opk_cl_kernel(ctx, "attention", "opk_at_fill_lg", &k);
    if (st)
        return st;
    cl_int err = CL_SUCCESS;
    cl_uint c = (cl_uint)count;
    cl_float v = x;
    ARG(k, 0, m), ARG(k, 1, c), ARG(k, 2, v);
    ARGS_OK("fill_lg");
    size_t global = round_up(count, 64), local = 64;
    return opk_cl_launch(ctx, k, "attention fill kernel", 1, &global, &local);
}

/* Uploads the operands. */
static opk_status setup(const opk_ctx *ctx, const opk_attn_job *j, at_dev *a)
{
    opk_cl *cl = ctx->cl;
    if (j->n > UINT32_MAX || j->m > UINT32_MAX || j->d > UINT32_MAX ||
        j->dv > UINT32_MAX)
        return opk_fail(ctx, OPK_ERR_BACKEND,
                        "attention: sizes above 2^32 - 1 are not supported "
                        "on %s", cl->info.name);
    const size_t n = j->n, m = j->m, d = j->d, dv = j->dv;
    const int h_is_v = j->h == j->v && j->ldh == j->ldv && n == m;
    opk_status st;
    if ((st = buf(ctx, a, B_Q, n * d)) || (st = buf(ctx, a, B_K, m * d)) ||
        (st = buf(ctx, a, B_V, m * dv)) ||
        (st = buf(ctx, a, B_H, h_is_v ? 1 : n * dv)) ||
        (st = buf(ctx, a, B_G, j->g ? n * dv : 1)) ||
        (st = buf(ctx, a, B_O, n * dv)))
        return st;
    a->h = h_is_v ? a->b[B_V] : a->b[B_H];
    a->g = j->g ? a->b[B_G] : a->b[B_O];
    a->n = (cl_uint)n, a->m = (cl_uint)m, a->d = (cl_uint)d;
    a->dv = (cl_uint)dv, a->has_g = j->g != NULL;
    if ((st = opk_cl_write(ctx, a->b[B_Q], j->q, n, d, j->ldq)) ||
        (st = opk_cl_write(ctx, a->b[B_K], j->k, m, d, j->ldk)) ||
        (st = opk_cl_write(ctx, a->b[B_V], j->v, m, dv, j->ldv)) ||
        (!h_is_v && (st = opk_cl_write(ctx, a->b[B_H], j->h, n, dv, j->ldh))) ||
        (j->g && (st = opk_cl_write(ctx, a->b[B_G], j->g, n, dv, j->ldg))))
        return st;
    return OPK_OK;
}

/* The mixing arguments (tau, a1, a2, a3) at index i.. of k. */
static cl_int mix_args(cl_kernel k, cl_uint i, const opk_attn_job *j)
{
    cl_int err = CL_SUCCESS;
    cl_float tau = j->tau, a1 = j->a1, a2 = j->a2, a3 = j->a3;
    ARG(k, i, tau), ARG(k, i + 1, a1), ARG(k, i + 2, a2), ARG(k, i + 3, a3);
    return err;
}

/* ---- softmax and sigmoid: the fused kernel ------------------------------ */

static opk_status run_fused(const opk_ctx *ctx, const opk_attn_job *j,
                            at_dev *a)
{
    cl_kernel k;
    opk_status st = opk_cl_kernel(ctx, "attention", "opk_at_fused", &k);
    if (st)
        return st;
    cl_int err = CL_SUCCESS;
    cl_float gamma = j->gamma;
    cl_int soft = j->norm == OPK_NORM_SOFTMAX;
    ARG(k, 0, a->b[B_Q]), ARG(k, 1, a->b[B_K]), ARG(k, 2, a->b[B_V]);
    ARG(k, 3, a->h), ARG(k, 4, a->g), ARG(k, 5, a->b[B_O]);
    ARG(k, 6, a->n), ARG(k, 7, a->m), ARG(k, 8, a->d), ARG(k, 9, a->dv);
    ARG(k, 11, gamma), ARG(k, 12, soft), ARG(k, 13, a->has_g);
    err |= mix_args(k, 14, j);
    ARGS_OK("fused");
    size_t global = round_up(j->n, AT_R) / AT_R * AT_B, local = AT_B;
    for (size_t f0 = 0; f0 < j->dv; f0 += AT_FW) { /* wide V: more passes */
        cl_uint uf0 = (cl_uint)f0;
        ARG(k, 10, uf0);
        ARGS_OK("fused");
        if ((st = opk_cl_launch(ctx, k, "attention fused kernel", 1, &global,
                                &local)))
            return st;
    }
    return OPK_OK;
}

/* ---- sinkhorn: scores, half-steps, plan, P V ---------------------------- */

static opk_status run_sinkhorn(const opk_ctx *ctx, const opk_attn_job *j,
                               at_dev *a, int iters)
{
    opk_cl *cl = ctx->cl;
    const size_t n = j->n, m = j->m;
    if (n * m > cl->max_alloc / sizeof(float))
        return opk_fail(ctx, OPK_ERR_BACKEND,
                        "attention: sinkhorn mode needs the %zu x %zu score "
                        "matrix in one buffer on %s (largest allocation %llu "
                        "bytes)", n, m, cl->info.name,
                        (unsigned long long)cl->max_alloc);
    cl_kernel ks, kr, kc, kp, kv;
    opk_status st;
    if ((st = buf(ctx, a, B_X0, n * m)) || (st = buf(ctx, a, B_X1, n)) ||
        (st = buf(ctx, a, B_X2, m)) || (st = buf(ctx, a, B_X3, n)) ||
        (st = buf(ctx, a, B_X4, n)) || (st = buf(ctx, a, B_X5, m)) ||
        (st = buf(ctx, a, B_X6, n)) ||
        (st = opk_cl_kernel(ctx, "attention", "opk_at_scores", &ks)) ||
        (st = opk_cl_kernel(ctx, "sinkhorn", "opk_sk_rows", &kr)) ||
        (st = opk_cl_kernel(ctx, "sinkhorn", "opk_sk_cols", &kc)) ||
        (st = opk_cl_kernel(ctx, "sinkhorn", "opk_sk_plan", &kp)) ||
        (st = opk_cl_kernel(ctx, "attention", "opk_at_pv", &kv)))
        return st;
    /* a_i = 1, b_j = n/m, f = g = 0 at the start (SPEC 3.4). */
    if ((st = fill_lg(ctx, a->b[B_X1], 1.0f, n)) ||
        (st = fill_lg(ctx, a->b[B_X2], (float)n / (float)m, m)) ||
        (st = fill(ctx, a->b[B_X3], 0.0f, n)) ||
        (st = fill(ctx, a->b[B_X5], 0.0f, m)))
        return st;
    cl_int err = CL_SUCCESS;
    cl_float gamma = j->gamma;
    ARG(ks, 0, a->b[B_Q]), ARG(ks, 1, a->b[B_K]), ARG(ks, 2, a->b[B_X0]);
    ARG(ks, 3, a->n), ARG(ks, 4, a->m), ARG(ks, 5, a->d), ARG(ks, 6, gamma);
    ARGS_OK("scores");
    size_t sg[2] = {round_up(n, AT_R) / AT_R * AT_B, round_up(m, AT_B) / AT_B};
    size_t sl[2] = {AT_B, 1};
    if ((st = opk_cl_launch(ctx, ks, "attention scores kernel", 2, sg, sl)))
        return st;
    const cl_mem F[2] = {a->b[B_X3], a->b[B_X4]};
    int fi = 0;
    for (int h = 0; h < iters; h++) { /* row update first, alternating */
        if (h % 2 == 0) {
            if ((st = opk_cl_sk_rows(ctx, kr, a->b[B_X0], a->n, a->m, 1.0f,
                                     a->b[B_X1], F[fi], F[fi ^ 1],
                                     a->b[B_X5], a->b[B_X6], 1, 0)))
                return st;
            fi ^= 1;
        } else if ((st = opk_cl_sk_cols(ctx, kc, a->b[B_X0], a->n, a->m,
                                        1.0f, F[fi], a->b[B_X2],
                                        a->b[B_X5], 0, a->b[B_X5],
                                        a->b[B_X5], 0))) {
            return st;
        }
    }
    if ((st = opk_cl_sk_plan(ctx, kp, a->b[B_X0], a->n, a->m, 1.0f, F[fi],
                             a->b[B_X5], a->b[B_X6], 0)))
        return st;
    ARG(kv, 0, a->b[B_X0]), ARG(kv, 1, a->b[B_V]), ARG(kv, 2, a->h);
    ARG(kv, 3, a->g), ARG(kv, 4, a->b[B_O]), ARG(kv, 5, a->n);
    ARG(kv, 6, a->m), ARG(kv, 7, a->dv), ARG(kv, 8, a->has_g);
    err |= mix_args(kv, 9, j);
    ARGS_OK("pv");
    size_t vg[2] = {round_up(j->dv, 64), n}, vl[2] = {64, 1};
    return opk_cl_launch(ctx, kv, "attention P V kernel", 2, vg, vl);
}

/* ---- linear ------------------------------------------------------------- */

static opk_status launch_rowdots(const opk_ctx *ctx, cl_kernel k, cl_mem x,
                                 cl_uint rows, cl_uint d, cl_int inv,
                                 cl_mem r)
{
    cl_int err = CL_SUCCESS;
    ARG(k, 0, x), ARG(k, 1, rows), ARG(k, 2, d), ARG(k, 3, inv), ARG(k, 4, r);
    ARGS_OK("rowdots");
    size_t global = round_up(rows, 64), local = 64;
    return opk_cl_launch(ctx, k, "attention row norm kernel", 1, &global,
                         &local);
}

/* The global norm's sum of dots in r (count floats), read back. */
static opk_status seqsum(const opk_ctx *ctx, cl_kernel k, cl_mem r,
                         cl_uint count, cl_mem out, float *s)
{
    cl_int err = CL_SUCCESS;
    ARG(k, 0, r), ARG(k, 1, count), ARG(k, 2, out);
    ARGS_OK("seqsum");
    size_t one = 1;
    opk_status st = opk_cl_launch(ctx, k, "attention sum kernel", 1, &one, &one);
    return st ? st : opk_cl_read(ctx, s, out, 1, 1, 1);
}

/* The first +inf (a zero norm: 1 / Sq(0)) of count scales in r, or
 * SIZE_MAX; the scales are read back for it. */
static opk_status first_zero(const opk_ctx *ctx, cl_mem r, size_t count,
                             size_t *first)
{
    float *h = opk_calloc(count, sizeof(float));
    if (!h)
        return opk_fail(ctx, OPK_ERR_NOMEM, "attention: cannot allocate %zu "
                        "floats for the row norms", count);
    opk_status st = opk_cl_read(ctx, h, r, 1, count, count);
    *first = SIZE_MAX;
    for (size_t i = 0; !st && i < count; i++)
        if (h[i] == INFINITY) {
            *first = i;
            break;
        }
    opk_free(h);
    return st;
}

static opk_status run_linear(const opk_ctx *ctx, const opk_attn_job *j,
                             at_dev *a, int global)
{
    const size_t n = j->n, m = j->m, d = j->d, dv = j->dv;
    cl_kernel kd, kss, kkv, kl;
    opk_status st;
    if ((st = buf(ctx, a, B_X0, d * dv)) || (st = buf(ctx, a, B_X1, n)) ||
        (st = buf(ctx, a, B_X2, m)) || (st = buf(ctx, a, B_X3, d)) ||
        (st = buf(ctx, a, B_X4, dv)) || (st = buf(ctx, a, B_X6, 1)) ||
        (st = opk_cl_kernel(ctx, "attention", "opk_at_rowdots", &kd)) ||
        (st = opk_cl_kernel(ctx, "attention", "opk_at_seqsum", &kss)) ||
        (st = opk_cl_kernel(ctx, "attention", "opk_at_kv", &kkv)) ||
        (st = opk_cl_kernel(ctx, "attention", "opk_at_linear", &kl)))
        return st;
    cl_mem rq = a->b[B_X1], rk = a->b[B_X2];
    if ((st = launch_rowdots(ctx, kd, a->b[B_Q], a->n, a->d, !global, rq)) ||
        (st = launch_rowdots(ctx, kd, a->b[B_K], a->m, a->d, !global, rk)))
        return st;
    if (global) { /* one Frobenius norm each: every scale fl(1 / Sq(sum)) */
        float sq, sk;
        if ((st = seqsum(ctx, kss, rq, a->n, a->b[B_X6], &sq)) ||
            (st = seqsum(ctx, kss, rk, a->m, a->b[B_X6], &sk)))
            return st;
        if (sq == 0.0f || sk == 0.0f)
            return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                            "attention: %s is all zero (linear mode needs a "
                            "nonzero norm)", sq == 0.0f ? "Q" : "K");
        /* Sq: SLEEF's, as on the CPU backends (SPEC 1; this file is
         * built without -mfma, which SLEEF's purecfma needs). */
        float s[2] = {sq, sk};
        opk_math_n_scalar(2, s, s, 2);
        if ((st = fill(ctx, rq, 1.0f / s[0], n)) ||
            (st = fill(ctx, rk, 1.0f / s[1], m)))
            return st;
    } else {
        size_t zq, zk;
        if ((st = first_zero(ctx, rq, n, &zq)) ||
            (st = first_zero(ctx, rk, m, &zk)))
            return st;
        if (zq != SIZE_MAX || zk != SIZE_MAX)
            return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                            "attention: row %zu of %s has norm zero (linear "
                            "mode divides by row norms)",
                            zq != SIZE_MAX ? zq : zk,
                            zq != SIZE_MAX ? "Q" : "K");
    }
    cl_int err = CL_SUCCESS;
    ARG(kkv, 0, a->b[B_K]), ARG(kkv, 1, a->b[B_V]), ARG(kkv, 2, rk);
    ARG(kkv, 3, a->m), ARG(kkv, 4, a->d), ARG(kkv, 5, a->dv);
    ARG(kkv, 6, a->b[B_X0]), ARG(kkv, 7, a->b[B_X3]), ARG(kkv, 8, a->b[B_X4]);
    ARGS_OK("kv");
    size_t kvg[2] = {round_up(dv + 1, KV_TILE), round_up(d + 1, KV_TILE)};
    size_t kvl[2] = {KV_TILE, KV_TILE};
    if ((st = opk_cl_launch(ctx, kkv, "attention KV kernel", 2, kvg, kvl)))
        return st;
    cl_float fm = (float)m;
    ARG(kl, 0, a->b[B_Q]), ARG(kl, 1, rq), ARG(kl, 2, a->b[B_X0]);
    ARG(kl, 3, a->b[B_X3]), ARG(kl, 4, a->b[B_X4]), ARG(kl, 5, a->h);
    ARG(kl, 6, a->g), ARG(kl, 7, a->b[B_O]), ARG(kl, 8, a->n);
    ARG(kl, 9, a->d), ARG(kl, 10, a->dv), ARG(kl, 11, fm);
    ARG(kl, 12, a->has_g);
    err |= mix_args(kl, 13, j);
    ARGS_OK("linear");
    /* 16 outputs of 16 rows: the rows' q and the KV columns are shared. */
    size_t lg[2] = {round_up(dv, 16), round_up(n, 16)}, ll[2] = {16, 16};
    return opk_cl_launch(ctx, kl, "attention linear kernel", 2, lg, ll);
}

static opk_status run(const opk_ctx *ctx, const opk_attn_job *j, int iters,
                      int global)
{
    at_dev a;
    opk_status st = setup(ctx, j, &a);
    if (st)
        return st;
    switch (j->norm) {
    case OPK_NORM_SOFTMAX:
    case OPK_NORM_SIGMOID:
        st = run_fused(ctx, j, &a);
        break;
    case OPK_NORM_LINEAR:
        st = run_linear(ctx, j, &a, global);
        break;
    default:
        st = run_sinkhorn(ctx, j, &a, iters);
        break;
    }
    if (st)
        return st;
    return opk_cl_read(ctx, j->o, a.b[B_O], j->n, j->dv, j->ldo);
}

opk_status opk_cl_attention(opk_ctx *ctx, const opk_attn_job *j,
                            int sinkhorn_iters, int linear_global_norm)
{
    opk_cl_lock(ctx->cl);
    opk_status st = run(ctx, j, sinkhorn_iters, linear_global_norm);
    if (st == OPK_ERR_BACKEND)
        opk_cl_recover(ctx); /* the context stays usable */
    else if (st)
        clFinish(ctx->cl->queue); /* an argument error: nothing pending */
    opk_cl_unlock(ctx->cl);
    return st;
}
