/* Golden attention cases (SPEC 4): Q = fill(seed, -1, 2), K = fill(seed+1,
 * -1, 2), V = fill(seed+2, -1.5, 1), H = fill(seed+3, -0.5, 2) or NULL.
 * Parameters: n m d dv norm=softmax|sigmoid|sinkhorn|linear tau beta seed
 * [h=0|1 (default 1)] [iters] [global=0|1] [pad] (pad adds to every ld; the
 * padding holds NaN). Output O. */
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
    float *q = golden_matrix(n, d, pad), *k = golden_matrix(m, d, pad);
    float *v = golden_matrix(m, dv, pad), *o = golden_matrix(n, dv, pad);
    float *h = has_h ? golden_matrix(n, dv, pad) : NULL;
    if (!q || !k || !v || !o || (has_h && !h)) {
        free(q), free(k), free(v), free(o), free(h);
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
                             op.linear_global_norm, NULL, 0, 0.0f, 0.0};
            r->max_err = ref_attention_error(&a, o, O.ld, &r->tol);
        }
    }
    free(q), free(k), free(v), free(o), free(h);
    return r->status == OPK_OK ? 0 : -1;
}
