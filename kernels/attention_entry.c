/* Damped attention (SPEC 3.4): the public entry point, its argument checks
 * and the graph term; each normalization's run is in attention_run.c and
 * the kernels are in the backend tables (scalar: attention.c). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../dispatch/ctx.h"
#include "attention_run.h"
#include "common.h"
#include "csr.h"
#include "sleef1.h"

opk_attention_opts opk_attention_opts_default(void)
{
    opk_attention_opts o;
    memset(&o, 0, sizeof o);
    o.beta = 1.0f;
    o.tau = 1.0f;
    o.norm = OPK_NORM_SOFTMAX;
    o.sinkhorn_iters = 3;
    o.linear_global_norm = 0;
    o.graph = NULL;
    o.lmin = 0.0f;
    o.lmax = 2.0f;
    o.cheb_c = NULL;
    o.cheb_K = 0;
    o.lambda_g = 0.0f;
    return o;
}

static int param_in_01(float x) { return x >= 0.0f && x <= 1.0f; }

static opk_status check_params(const opk_ctx *ctx,
                               const opk_attention_opts *op)
{
    if (!isfinite(op->beta))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.beta (%g) must be finite",
                        (double)op->beta);
    if (!param_in_01(op->tau))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.tau (%g) must be in [0, 1]",
                        (double)op->tau);
    if (op->norm != OPK_NORM_SOFTMAX && op->norm != OPK_NORM_SINKHORN &&
        op->norm != OPK_NORM_LINEAR && op->norm != OPK_NORM_SIGMOID)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.norm (%d) is not an opk_norm",
                        (int)op->norm);
    if (op->sinkhorn_iters < 1)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.sinkhorn_iters (%d) must be >= 1",
                        op->sinkhorn_iters);
    if (op->linear_global_norm != 0 && op->linear_global_norm != 1)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.linear_global_norm (%d) must be 0 "
                        "or 1",
                        op->linear_global_norm);
    if (!param_in_01(op->lambda_g))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.lambda_g (%g) must be in [0, 1]",
                        (double)op->lambda_g);
    return OPK_OK;
}

static opk_span span_of(const void *p, size_t count, size_t size)
{
    opk_span s = {(uintptr_t)p, (uintptr_t)p};
    if (p)
        s.hi = (uintptr_t)p + count * size;
    return s;
}

/* The graph term: a valid n x n CSR (n = m), finite lmin < lmax, cheb_K >= 0
 * and cheb_K + 1 finite coefficients. */
static opk_status check_graph(const opk_ctx *ctx, const opk_attention_opts *op,
                              size_t n, size_t m, opk_span *sr, opk_span *sc,
                              opk_span *sv, opk_span *scoef)
{
    const opk_csr G = *op->graph;
    opk_status st = opk_check_csr(ctx, "attention: opts.graph", G,
                                  ctx->num_threads);
    if (st)
        return st;
    if (n != m)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.graph needs n = m (Q has %zu rows, "
                        "K %zu)", n, m);
    if (G.rows != G.cols || (uint64_t)G.rows != (uint64_t)n)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.graph is %lldx%lld, expected %zux%zu",
                        (long long)G.rows, (long long)G.cols, n, n);
    if (!isfinite(op->lmin) || !isfinite(op->lmax) || !(op->lmin < op->lmax) ||
        !isfinite(op->lmax - op->lmin))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.lmin, opts.lmax (%g, %g) must be "
                        "finite with lmin < lmax",
                        (double)op->lmin, (double)op->lmax);
    /* What opk_cheb also rejects (SPEC 3.3's alpha, gamma), named here as
     * the options they are, and also when O is empty. */
    const float d = op->lmax - op->lmin, s = op->lmax + op->lmin;
    const float alpha = 2.0f / d;
    if (!isfinite(s) || !isfinite(alpha) || alpha == 0.0f)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.lmin, opts.lmax (%g, %g) give no "
                        "finite 2 / (lmax - lmin) and lmax + lmin",
                        (double)op->lmin, (double)op->lmax);
    if (op->cheb_K < 0)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.cheb_K (%d) must be >= 0",
                        op->cheb_K);
    if (!op->cheb_c)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: opts.cheb_c is NULL (cheb_K + 1 = %d "
                        "coefficients needed)", op->cheb_K + 1);
    for (int k = 0; k <= op->cheb_K; k++)
        if (!isfinite(op->cheb_c[k]))
            return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                            "attention: opts.cheb_c[%d] is %g, must be finite",
                            k, (double)op->cheb_c[k]);
    *sr = span_of(G.row_ptr, (size_t)G.rows + 1, sizeof(int64_t));
    *sc = span_of(G.col_idx, (size_t)G.nnz, sizeof(int32_t));
    *sv = span_of(G.val, (size_t)G.nnz, sizeof(float));
    *scoef = span_of(op->cheb_c, (size_t)op->cheb_K + 1, sizeof(float));
    return OPK_OK;
}

/* Shapes, pointers, parameters and overlaps; nothing is written. */
static opk_status check_args(const opk_ctx *ctx, opk_cmat Q, opk_cmat K,
                             opk_cmat V, const opk_cmat *H,
                             const opk_attention_opts *op, opk_mat O)
{
    opk_span sq, sk, sv, sh = {0, 0}, so;
    opk_status st;
    if ((st = opk_check_mat(ctx, "attention: Q", Q.data, Q.rows, Q.cols, Q.ld, &sq)) ||
        (st = opk_check_mat(ctx, "attention: K", K.data, K.rows, K.cols, K.ld, &sk)) ||
        (st = opk_check_mat(ctx, "attention: V", V.data, V.rows, V.cols, V.ld, &sv)) ||
        (st = opk_check_mat(ctx, "attention: O", O.data, O.rows, O.cols, O.ld, &so)))
        return st;
    if (H && (st = opk_check_mat(ctx, "attention: H", H->data, H->rows,
                                 H->cols, H->ld, &sh)))
        return st;
    if (K.cols != Q.cols)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: K has %zu columns but Q has %zu (both "
                        "are d)", K.cols, Q.cols);
    if (V.rows != K.rows)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: V has %zu rows but K has %zu (both are "
                        "m)", V.rows, K.rows);
    if ((st = opk_check_shape(ctx, "attention: O", O.rows, O.cols, Q.rows,
                              V.cols)))
        return st;
    if (H && (st = opk_check_shape(ctx, "attention: H", H->rows, H->cols,
                                   Q.rows, V.cols)))
        return st;
    if (!H && Q.rows != V.rows)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: H is NULL (H = V) but Q has %zu rows and "
                        "V has %zu; H = V needs n = m", Q.rows, V.rows);
    if ((st = check_params(ctx, op)))
        return st;
    opk_span sgr = {0, 0}, sgc = {0, 0}, sgv = {0, 0}, sc = {0, 0};
    if (op->graph && (st = check_graph(ctx, op, Q.rows, K.rows, &sgr, &sgc,
                                       &sgv, &sc)))
        return st;
    static const char *const in_names[] = {"Q", "K", "V", "H",
                                           "opts.graph->row_ptr",
                                           "opts.graph->col_idx",
                                           "opts.graph->val", "opts.cheb_c"};
    const opk_span ins[] = {sq, sk, sv, sh, sgr, sgc, sgv, sc};
    for (int t = 0; t < 8; t++)
        if (opk_spans_overlap(so, ins[t]))
            return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                            "attention: O overlaps %s (O must not overlap "
                            "any input)", in_names[t]);
    if (O.rows && O.cols && K.rows == 0)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: K and V have no rows (m = 0), so no "
                        "attention exists for the %zu query rows", O.rows);
    if (O.rows && O.cols && Q.cols == 0)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "attention: Q and K have no columns; d must be >= 1");
    return OPK_OK;
}

opk_status opk_attention(opk_ctx *ctx, opk_cmat Q, opk_cmat K, opk_cmat V,
                         const opk_cmat *H, const opk_attention_opts *opts,
                         opk_mat O)
{
    if (!ctx)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "attention: ctx is NULL");
    opk_attention_opts op = opts ? *opts : opk_attention_opts_default();
    opk_status st = check_args(ctx, Q, K, V, H, &op, O);
    if (st)
        return st;
    if (O.rows == 0 || O.cols == 0)
        return OPK_OK;
    if (!opk_backend_implements(ctx->backend, OPK_KERNEL_ATTENTION))
        return opk_unported(ctx, "attention");
    const opk_cmat Hm = H ? *H : V;
    opk_attn_job jb;
    memset(&jb, 0, sizeof jb);
    jb.q = Q.data, jb.ldq = Q.ld;
    jb.k = K.data, jb.ldk = K.ld;
    jb.v = V.data, jb.ldv = V.ld;
    jb.h = Hm.data, jb.ldh = Hm.ld;
    jb.o = O.data, jb.ldo = O.ld;
    jb.n = Q.rows, jb.m = K.rows, jb.d = Q.cols, jb.dv = V.cols;
    jb.dvp = (jb.dv + 15) & ~(size_t)15;
    jb.norm = (int)op.norm;
    jb.gamma = op.beta / opk_Sq((float)jb.d);
    jb.tau = op.tau;
    jb.a1 = 1.0f - op.tau;
    jb.a2 = op.tau * (1.0f - op.lambda_g);
    jb.a3 = op.tau * op.lambda_g;
    float *G = NULL;
    if (op.graph) { /* G = sum_k c_k T_k(L~) V (SPEC 3.3), n x dv */
        G = opk_alloc(jb.n * jb.dv * sizeof(float));
        if (!G)
            return opk_fail(ctx, OPK_ERR_NOMEM, "attention: cannot allocate %zu "
                            "floats for the graph term", jb.n * jb.dv);
        opk_mat Gm = {G, jb.n, jb.dv, jb.dv};
        st = opk_cheb(ctx, *op.graph, op.lmin, op.lmax, op.cheb_c,
                      (size_t)op.cheb_K, V, Gm);
        if (st) {
            opk_free(G);
            return st;
        }
        jb.g = G, jb.ldg = jb.dv;
    }
    if (ctx->ops->attention_call) { /* a device backend: the whole call */
        st = ctx->ops->attention_call(ctx, &jb, op.sinkhorn_iters,
                                      op.linear_global_norm);
        opk_free(G);
        return st;
    }
    switch (op.norm) {
    case OPK_NORM_SOFTMAX:
    case OPK_NORM_SIGMOID:
        st = opk_attn_run_fused(ctx, &jb);
        break;
    case OPK_NORM_LINEAR:
        st = opk_attn_run_linear(ctx, &jb, op.linear_global_norm);
        break;
    default:
        st = opk_attn_run_sinkhorn(ctx, &jb, op.sinkhorn_iters);
        break;
    }
    opk_free(G);
    return st;
}
