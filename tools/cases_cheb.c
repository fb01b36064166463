/* Golden Chebyshev cases (SPEC 4): L = Laplacian (default symmetric
 * normalized) of a canonical graph, X = fill(seed+1, -1, 2) (n x F),
 * c = fill(seed+2, -1, 0.5) (1 x (K+1)), output Y.
 *
 * Parameters: F K seed graph=grid|powerlaw|mtx [lap=sym|comb|rw]
 * [lmin=0] [lmax=2] [pad=0] [isolate=M] [shuffle=1], and per graph:
 *   grid      rows cols extra: opk_graph_grid(rows, cols, extra, seed)
 *   powerlaw  n m: edges e = 0..m-1 between u_e = floor(n x^4),
 *             x = (R(seed,2e) >> 11) 2^-53 (so low node numbers are hubs
 *             with very dense rows), and v_e = R(seed,2e+1) mod n; then
 *             opk_graph_from_edges (self-loops skipped, duplicates merged)
 *   mtx       file=NAME: tests/data/NAME, compiled into the tooling
 * isolate=M removes every adjacency entry of node i (row and column) where
 * R(seed+3, i) mod M = 0, leaving isolated nodes (empty rows of L).
 * shuffle=1 permutes each row of L (unsorted columns): for j = len-1 down
 * to 1, swap positions j and R(seed+4, row_ptr[i] + j) mod (j+1).
 * pad adds to ld of X and Y (the padding holds NaN). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "refdouble.h"

extern const char opk_data_cheb_weighted_mtx[];
extern const unsigned long opk_data_cheb_weighted_mtx_len;

static const struct {
    const char *name;
    const char *text;
    const unsigned long *len;
} mtx_files[] = {
    {"cheb_weighted.mtx", opk_data_cheb_weighted_mtx,
     &opk_data_cheb_weighted_mtx_len},
};

static opk_status powerlaw(const golden_case *c, uint64_t seed, opk_csr *A,
                           golden_result *r)
{
    size_t n, m;
    if (golden_get_size(c, "n", &n) || golden_get_size(c, "m", &m) || n == 0 ||
        n > INT32_MAX)
        return golden_bad(r, "line %d: powerlaw needs n >= 1, m", c->line),
               OPK_ERR_INVALID_ARG;
    int32_t *u = malloc((m ? m : 1) * sizeof *u), *v = malloc((m ? m : 1) * sizeof *v);
    if (!u || !v) {
        free(u), free(v);
        return OPK_ERR_NOMEM;
    }
    for (size_t e = 0; e < m; e++) {
        double x = (double)(opk_rand(seed, 2 * (uint64_t)e) >> 11) * 0x1p-53;
        double x2 = x * x;
        u[e] = (int32_t)((double)n * (x2 * x2));
        v[e] = (int32_t)(opk_rand(seed, 2 * (uint64_t)e + 1) % n);
    }
    opk_status st = opk_graph_from_edges((int64_t)n, m, u, v, A);
    free(u), free(v);
    return st;
}

static opk_status make_graph(const golden_case *c, uint64_t seed, opk_csr *A,
                             golden_result *r)
{
    char g[16], file[64];
    if (golden_get_str(c, "graph", g, sizeof g))
        return golden_bad(r, "line %d: cheb needs graph=grid|powerlaw|mtx",
                          c->line),
               OPK_ERR_INVALID_ARG;
    if (!strcmp(g, "grid")) {
        size_t rows, cols, extra;
        if (golden_get_size(c, "rows", &rows) ||
            golden_get_size(c, "cols", &cols) ||
            golden_get_size(c, "extra", &extra))
            return golden_bad(r, "line %d: grid needs rows, cols, extra",
                              c->line),
                   OPK_ERR_INVALID_ARG;
        return opk_graph_grid(rows, cols, extra, seed, A);
    }
    if (!strcmp(g, "powerlaw"))
        return powerlaw(c, seed, A, r);
    if (!strcmp(g, "mtx") && !golden_get_str(c, "file", file, sizeof file)) {
        for (size_t k = 0; k < sizeof mtx_files / sizeof mtx_files[0]; k++)
            if (!strcmp(mtx_files[k].name, file))
                return opk_mtx_parse(mtx_files[k].text, *mtx_files[k].len,
                                     file, A);
        return golden_bad(r, "line %d: no data file '%s' in this build",
                          c->line, file),
               OPK_ERR_INVALID_ARG;
    }
    return golden_bad(r, "line %d: unknown graph '%s'", c->line, g),
           OPK_ERR_INVALID_ARG;
}

/* Drops the entries of nodes with R(seed+3, i) mod M = 0, in place. */
static void isolate(opk_csr *A, uint64_t seed, size_t M)
{
    int64_t *rp = (int64_t *)A->row_ptr;
    int32_t *ci = (int32_t *)A->col_idx;
    float *v = (float *)A->val;
    int64_t w = 0;
    for (int64_t i = 0; i < A->rows; i++) {
        int64_t q0 = rp[i], q1 = rp[i + 1];
        int drop_row = opk_rand(seed + 3, (uint64_t)i) % M == 0;
        rp[i] = w;
        for (int64_t q = q0; q < q1; q++)
            if (!drop_row && opk_rand(seed + 3, (uint64_t)ci[q]) % M != 0)
                ci[w] = ci[q], v[w] = v[q], w++;
    }
    rp[A->rows] = w;
    A->nnz = w;
}

static void shuffle(opk_csr *L, uint64_t seed)
{
    int32_t *ci = (int32_t *)L->col_idx;
    float *v = (float *)L->val;
    for (int64_t i = 0; i < L->rows; i++) {
        int64_t q0 = L->row_ptr[i], len = L->row_ptr[i + 1] - q0;
        for (int64_t j = len - 1; j >= 1; j--) {
            int64_t k = (int64_t)(opk_rand(seed + 4, (uint64_t)(q0 + j)) %
                                  (uint64_t)(j + 1));
            int32_t tc = ci[q0 + j];
            float tv = v[q0 + j];
            ci[q0 + j] = ci[q0 + k], v[q0 + j] = v[q0 + k];
            ci[q0 + k] = tc, v[q0 + k] = tv;
        }
    }
}

int golden_run_cheb(opk_ctx *ctx, const golden_case *c, int with_ref,
                    golden_result *r)
{
    size_t F, K, pad = 0, iso = 0, shuf = 0;
    uint64_t seed;
    float lmin = 0.0f, lmax = 2.0f;
    char lap[8] = "sym";
    if (golden_get_size(c, "F", &F) || golden_get_size(c, "K", &K) ||
        golden_get_u64(c, "seed", &seed))
        return golden_bad(r, "line %d: cheb needs F, K, seed", c->line);
    golden_get_size(c, "pad", &pad);
    golden_get_size(c, "isolate", &iso);
    golden_get_size(c, "shuffle", &shuf);
    golden_get_float(c, "lmin", &lmin);
    golden_get_float(c, "lmax", &lmax);
    golden_get_str(c, "lap", lap, sizeof lap);
    opk_laplacian_kind kind = !strcmp(lap, "comb") ? OPK_LAPLACIAN_COMBINATORIAL
                              : !strcmp(lap, "rw") ? OPK_LAPLACIAN_RANDOM_WALK
                                                   : OPK_LAPLACIAN_SYMMETRIC;
    if (strcmp(lap, "sym") && strcmp(lap, "comb") && strcmp(lap, "rw"))
        return golden_bad(r, "line %d: lap must be sym, comb or rw", c->line);
    opk_csr A, L;
    opk_status st = make_graph(c, seed, &A, r);
    if (st) {
        r->status = st;
        return r->msg[0] ? -1
                         : golden_bad(r, "line %d: graph: %s", c->line,
                                      opk_ctx_last_error(NULL));
    }
    if (iso)
        isolate(&A, seed, iso);
    st = opk_laplacian(A, kind, &L);
    opk_csr_free(&A);
    if (st) {
        r->status = st;
        return golden_bad(r, "line %d: laplacian: %s", c->line,
                          opk_ctx_last_error(NULL));
    }
    if (shuf)
        shuffle(&L, seed);
    const size_t n = (size_t)L.rows, ld = F + pad;
    float *x = golden_matrix(n, F, pad), *y = golden_matrix(n, F, pad);
    float *cf = malloc((K + 1) * sizeof *cf);
    if (!x || !y || !cf) {
        free(x), free(y), free(cf);
        opk_csr_free(&L);
        r->status = OPK_ERR_NOMEM;
        return golden_bad(r, "out of memory");
    }
    opk_mat X = {x, n, F, ld}, Y = {y, n, F, ld}, C = {cf, 1, K + 1, K + 1};
    opk_fill(seed + 1, -1.0f, 2.0f, X);
    opk_fill(seed + 2, -1.0f, 0.5f, C);
    r->status = opk_cheb(ctx, L, lmin, lmax, cf, K, opk_cmat_of(X), Y);
    if (r->status != OPK_OK) {
        golden_bad(r, "%s", opk_ctx_last_error(ctx));
    } else {
        golden_add_hash(r, "Y", opk_cmat_of(Y));
        if (with_ref)
            r->max_err = ref_cheb_error(L.row_ptr, L.col_idx, L.val, n, lmin,
                                        lmax, cf, K, x, ld, y, ld, F, &r->tol);
    }
    free(x), free(y), free(cf);
    opk_csr_free(&L);
    return r->status == OPK_OK ? 0 : -1;
}
