/* Golden softmax cases (SPEC 4): X = fill(seed, -6, 9); mask=1 sets
 * X_k = -inf where R(seed+9, k) mod 7 = 0 and makes row 0 all -inf.
 * Parameters: rows cols axis=rows|cols log=0|1 beta seed [mask] [pad]
 * [inplace]; pad adds to ld of X and Y (the padding holds NaN). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "refdouble.h"

int golden_run_softmax(opk_ctx *ctx, const golden_case *c, int with_ref,
                       golden_result *r)
{
    size_t rows, cols, pad = 0, mask = 0, inplace = 0, log = 0;
    uint64_t seed;
    float beta = 1.0f;
    char axis[8];
    if (golden_get_size(c, "rows", &rows) || golden_get_size(c, "cols", &cols) ||
        golden_get_u64(c, "seed", &seed) ||
        golden_get_str(c, "axis", axis, sizeof axis) ||
        (strcmp(axis, "rows") && strcmp(axis, "cols")))
        return golden_bad(r, "line %d: softmax needs rows, cols, seed, "
                             "axis=rows|cols", c->line);
    golden_get_size(c, "pad", &pad);
    golden_get_size(c, "mask", &mask);
    golden_get_size(c, "inplace", &inplace);
    golden_get_size(c, "log", &log);
    golden_get_float(c, "beta", &beta);
    int by_cols = !strcmp(axis, "cols");
    size_t ld = cols + pad;
    float *x = golden_matrix(rows, cols, pad);
    float *y = inplace ? NULL : golden_matrix(rows, cols, pad);
    float *x0 = with_ref || inplace ? golden_matrix(rows, cols, pad) : NULL;
    if (!x || (!inplace && !y) || ((with_ref || inplace) && !x0)) {
        free(x), free(y), free(x0);
        r->status = OPK_ERR_NOMEM;
        return golden_bad(r, "out of memory");
    }
    opk_mat X = {x, rows, cols, ld};
    opk_fill(seed, -6.0f, 9.0f, X);
    if (mask)
        for (size_t k = 0; k < rows * cols; k++)
            if (k < cols || opk_rand(seed + 9, k) % 7 == 0)
                x[(k / cols) * ld + k % cols] = -INFINITY;
    if (x0)
        memcpy(x0, x, rows * ld * sizeof(float));
    opk_mat Y = {inplace ? x : y, rows, cols, ld};
    r->status = opk_softmax(ctx, opk_cmat_of(X), Y, beta,
                            by_cols ? OPK_COLS : OPK_ROWS, log ? OPK_LOG : 0);
    if (r->status != OPK_OK) {
        golden_bad(r, "%s", opk_ctx_last_error(ctx));
    } else {
        golden_add_hash(r, "Y", opk_cmat_of(Y));
        if (with_ref)
            r->max_err = ref_softmax_error(x0, ld, Y.data, ld, rows, cols,
                                           beta, by_cols, (int)log, &r->tol);
    }
    free(x), free(y), free(x0);
    return r->status == OPK_OK ? 0 : -1;
}
