/* Golden Sinkhorn cases (SPEC 4): S = fill(seed, -3, 2); mask=1 sets
 * S_k = -inf where R(seed+9, k) mod 11 = 0 (with beta > 0, so t = -inf);
 * masses=1 uses a = fill(seed+1, 0.5, 1.75), b = fill(seed+2, 0.5, 1.75),
 * b_j = fl(b_j * fl(seq(a) / seq(b))) (else the defaults, a = b = NULL);
 * zeros=1 (with masses=1) also sets a_i = 0 where R(seed+3, i) mod 5 = 0 and
 * b_j = 0 where R(seed+4, j) mod 5 = 0, before b is rescaled.
 * Parameters: rows cols beta seed [mask] [masses] [zeros] [max_iter] [tol]
 * [check_every] [pad] [inplace]; pad adds to ld of S and P (padding holds
 * NaN); inplace=1 writes P over S. Outputs f (1 x rows), g (1 x cols), P. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "refdouble.h"

/* The canonical masses (NULL, NULL when masses=0). */
static int make_masses(uint64_t seed, size_t n, size_t m, int zeros,
                       float **a, float **b)
{
    *a = malloc(n * sizeof(float));
    *b = malloc(m * sizeof(float));
    if (!*a || !*b)
        return -1;
    opk_fill(seed + 1, 0.5f, 1.75f, (opk_mat){*a, 1, n, n});
    opk_fill(seed + 2, 0.5f, 1.75f, (opk_mat){*b, 1, m, m});
    for (size_t i = 0; zeros && i < n; i++)
        if (opk_rand(seed + 3, i) % 5 == 0)
            (*a)[i] = 0.0f;
    for (size_t j = 0; zeros && j < m; j++)
        if (opk_rand(seed + 4, j) % 5 == 0)
            (*b)[j] = 0.0f;
    float sa = 0.0f, sb = 0.0f;
    for (size_t i = 0; i < n; i++)
        sa = sa + (*a)[i];
    for (size_t j = 0; j < m; j++)
        sb = sb + (*b)[j];
    const float scale = sa / sb;
    for (size_t j = 0; j < m; j++)
        (*b)[j] = (*b)[j] * scale;
    return 0;
}

int golden_run_sinkhorn(opk_ctx *ctx, const golden_case *c, int with_ref,
                        golden_result *r)
{
    size_t rows, cols, pad = 0, mask = 0, masses = 0, zeros = 0, inplace = 0;
    size_t max_iter = 1000, every = 10;
    uint64_t seed;
    float beta, tol = -1.0f;
    if (golden_get_size(c, "rows", &rows) || golden_get_size(c, "cols", &cols) ||
        golden_get_u64(c, "seed", &seed) || golden_get_float(c, "beta", &beta))
        return golden_bad(r, "line %d: sinkhorn needs rows, cols, beta, seed",
                          c->line);
    golden_get_size(c, "pad", &pad);
    golden_get_size(c, "mask", &mask);
    golden_get_size(c, "masses", &masses);
    golden_get_size(c, "zeros", &zeros);
    golden_get_size(c, "inplace", &inplace);
    golden_get_size(c, "max_iter", &max_iter);
    golden_get_size(c, "check_every", &every);
    golden_get_float(c, "tol", &tol);
    if (max_iter > 1000000 || every > 1000000 || (mask && !(beta > 0.0f)))
        return golden_bad(r, "line %d: sinkhorn: max_iter/check_every too "
                             "large, or mask=1 without beta > 0", c->line);
    size_t ld = cols + pad;
    float *s = golden_matrix(rows, cols, pad);
    float *p = inplace ? NULL : golden_matrix(rows, cols, pad);
    float *s0 = with_ref || inplace ? golden_matrix(rows, cols, pad) : NULL;
    float *f = malloc((rows + 1) * sizeof(float));
    float *g = malloc((cols + 1) * sizeof(float));
    float *a = NULL, *b = NULL;
    if (!s || (!inplace && !p) || ((with_ref || inplace) && !s0) || !f || !g ||
        (masses && make_masses(seed, rows, cols, (int)zeros, &a, &b))) {
        free(s), free(p), free(s0), free(f), free(g), free(a), free(b);
        r->status = OPK_ERR_NOMEM;
        return golden_bad(r, "out of memory");
    }
    opk_mat S = {s, rows, cols, ld};
    opk_fill(seed, -3.0f, 2.0f, S);
    if (mask)
        for (size_t k = 0; k < rows * cols; k++)
            if (opk_rand(seed + 9, k) % 11 == 0)
                s[(k / cols) * ld + k % cols] = -INFINITY;
    if (s0)
        memcpy(s0, s, rows * ld * sizeof(float));
    opk_mat P = {inplace ? s : p, rows, cols, ld};
    opk_sinkhorn_opts o = {(int)max_iter, tol, (int)every};
    opk_sinkhorn_info info;
    r->status = opk_sinkhorn(ctx, opk_cmat_of(S), beta, a, b, &o, f, g, &P,
                             &info);
    if (r->status != OPK_OK) {
        golden_bad(r, "%s", opk_ctx_last_error(ctx));
    } else {
        golden_add_hash(r, "f", (opk_cmat){f, 1, rows, rows});
        golden_add_hash(r, "g", (opk_cmat){g, 1, cols, cols});
        golden_add_hash(r, "P", opk_cmat_of(P));
        if (with_ref)
            r->max_err = ref_sinkhorn_error(s0, ld, rows, cols, beta, a, b,
                                            info.iterations, f, g, &r->tol);
    }
    free(s), free(p), free(s0), free(f), free(g), free(a), free(b);
    return r->status == OPK_OK ? 0 : -1;
}
