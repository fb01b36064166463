/* Golden attention cases (SPEC 4): Q = fill(seed, -1, 2), K = fill(seed+1,
 * -1, 2), V = fill(seed+2, -1.5, 1), H = fill(seed+3, -0.5, 2) or NULL.
 * Parameters: n m d dv norm=softmax|sigmoid|sinkhorn|linear tau beta seed
 * [h=0|1 (default 1)] [iters] [global=0|1] [pad] (pad adds to every ld; the
 * padding holds NaN). Graph term (with grows, gcols; n = m = grows * gcols):
 * L = symmetric-normalized Laplacian of opk_graph_grid(grows, gcols, extra,
 * seed+4), lmin 0, lmax 2, c = fill(seed+5, -1, 0.5) (1 x (K+1)), weight
 * lg. Output O. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "refdouble.h"

static const char *const norm_names[] = {"softmax", "sinkhorn", "linear",
                                         "sigmoid"};

int golden_parse_norm(const char *s, opk_norm *norm)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, norm_names[i])) {
            *norm = (opk_norm)i;
            return 0;
        }
    return -1;
}

/* The graph term of a case: L and c (SPEC 4); 0, or -1 with r set. */
static int case_graph(const golden_case *c, uint64_t seed, size_t n,
                      opk_attention_opts *op, opk_csr *L, float **coef,
                      golden_result *r)
{
    size_t gr, gc, extra = 0, K;
    if (golden_get_size(c, "gcols", &gc) || golden_get_size(c, "K", &K) ||
        golden_get_float(c, "lg", &op->lambda_g) ||
        golden_get_size(c, "grows", &gr) || gr * gc != n)
        return golden_bad(r, "line %d: a graph case needs grows x gcols = n "
                             "= m, K, lg", c->line);
    golden_get_size(c, "extra", &extra);
    opk_csr A;
    if (opk_graph_grid(gr, gc, extra, seed + 4, &A))
        return golden_bad(r, "line %d: grid: %s", c->line,
                          opk_ctx_last_error(NULL));
    opk_status st = opk_laplacian(A, OPK_LAPLACIAN_SYMMETRIC, L);
    opk_csr_free(&A);
    *coef = malloc((K + 1) * sizeof(float));
    if (st || !*coef) {
        free(*coef);
        return golden_bad(r, "line %d: laplacian: %s", c->line,
                          opk_ctx_last_error(NULL));
    }
    opk_fill(seed + 5, -1.0f, 0.5f, (opk_mat){*coef, 1, K + 1, K + 1});
    op->graph = L;
    op->lmin = 0.0f;
    op->lmax = 2.0f;
    op->cheb_c = *coef;
    op->cheb_K = (int)K;
    return 0;
}

/* G as opk_cheb computes it (scalar backend: every backend gives these
 * bits) and its error/bound ratio against the double recurrence. */
static float *graph_term(const opk_attention_opts *op, const float *v,
                         size_t ldv, size_t n, size_t dv, double *ratio)
{
    opk_config cfg = opk_config_default();
    cfg.backend = OPK_BACKEND_SCALAR;
    cfg.num_threads = 1;
    opk_ctx *sc;
    float *g = malloc((n * dv > 0 ? n * dv : 1) * sizeof(float));
    if (!g || opk_ctx_create(&cfg, &sc)) {
        free(g);
        return NULL;
    }
    const opk_csr *L = op->graph;
    if (opk_cheb(sc, *L, op->lmin, op->lmax, op->cheb_c, (size_t)op->cheb_K,
                 (opk_cmat){v, n, dv, ldv}, (opk_mat){g, n, dv, dv})) {
        free(g);
        g = NULL;
    } else {
        double tol;
        *ratio = ref_cheb_error(L->row_ptr, L->col_idx, L->val, n, op->lmin,
                                op->lmax, op->cheb_c, (size_t)op->cheb_K, v,
                                ldv, g, dv, dv, &tol) / tol;
    }
    opk_ctx_destroy(sc);
    return g;
}

int golden_run_attention(opk_ctx *ctx, const golden_case *c, int with_ref,
                         golden_result *r)
{
    size_t n, m, d, dv, pad = 0, has_h = 1, iters = 3, global = 0;
    uint64_t seed;
    char norm_s[16];
    opk_attention_opts op = opk_attention_opts_default();
    if (golden_get_size(c, "n", &n) || golden_get_size(c, "m", &m) ||
        golden_get_size(c, "d", &d) || golden_get_size(c, "dv", &dv) ||
        golden_get_u64(c, "seed", &seed) ||
        golden_get_str(c, "norm", norm_s, sizeof norm_s) ||
        golden_parse_norm(norm_s, &op.norm))
        return golden_bad(r, "line %d: attention needs n, m, d, dv, seed, "
                             "norm=softmax|sigmoid|sinkhorn|linear", c->line);
    golden_get_size(c, "pad", &pad);
    golden_get_size(c, "h", &has_h);
    golden_get_size(c, "iters", &iters);
    golden_get_size(c, "global", &global);
    golden_get_float(c, "tau", &op.tau);
    golden_get_float(c, "beta", &op.beta);
    op.sinkhorn_iters = (int)iters;
    op.linear_global_norm = (int)global;
    opk_csr L = {0};
    float *coef = NULL, *gref = NULL;
    size_t grows;
    if (!golden_get_size(c, "grows", &grows) &&
        (n != m || case_graph(c, seed, n, &op, &L, &coef, r)))
        return n != m ? golden_bad(r, "line %d: a graph needs n = m", c->line)
                      : -1;
    float *q = golden_matrix(n, d, pad), *k = golden_matrix(m, d, pad);
    float *v = golden_matrix(m, dv, pad), *o = golden_matrix(n, dv, pad);
    float *h = has_h ? golden_matrix(n, dv, pad) : NULL;
    if (!q || !k || !v || !o || (has_h && !h)) {
        free(q), free(k), free(v), free(o), free(h), free(coef);
        opk_csr_free(&L);
        r->status = OPK_ERR_NOMEM;
        return golden_bad(r, "out of memory");
    }
    opk_mat Q = {q, n, d, d + pad}, K = {k, m, d, d + pad};
    opk_mat V = {v, m, dv, dv + pad}, Hm = {h, n, dv, dv + pad};
    opk_mat O = {o, n, dv, dv + pad};
    opk_fill(seed, -1.0f, 2.0f, Q);
    opk_fill(seed + 1, -1.0f, 2.0f, K);
    opk_fill(seed + 2, -1.5f, 1.0f, V);
    if (h)
        opk_fill(seed + 3, -0.5f, 2.0f, Hm);
    opk_cmat Hc = opk_cmat_of(Hm);
    r->status = opk_attention(ctx, opk_cmat_of(Q), opk_cmat_of(K),
                              opk_cmat_of(V), h ? &Hc : NULL, &op, O);
    if (r->status != OPK_OK) {
        golden_bad(r, "%s", opk_ctx_last_error(ctx));
    } else {
        golden_add_hash(r, "O", opk_cmat_of(O));
        if (with_ref) {
            ref_attn_in a = {q, k, v, h, Q.ld, K.ld, V.ld, Hm.ld, n, m, d, dv,
                             (int)op.norm, op.beta, op.tau, op.sinkhorn_iters,
                             op.linear_global_norm, NULL, dv, op.lambda_g, 0.0};
            if (op.graph && !(a.g = gref = graph_term(&op, v, V.ld, n, dv,
                                                     &a.g_ratio))) {
                r->status = OPK_ERR_NOMEM;
                golden_bad(r, "graph term reference failed");
            } else {
                r->max_err = ref_attention_error(&a, o, O.ld, &r->tol);
            }
        }
    }
    free(q), free(k), free(v), free(o), free(h), free(coef), free(gref);
    opk_csr_free(&L);
    return r->status == OPK_OK ? 0 : -1;
}
