/* Canonical graphs (SPEC 4): undirected unit-weight adjacency CSR from an
 * edge list, and the torus grid with random extra edges. */
#include <stdlib.h>

#include "common.h"
#include "csr.h"

#define LL(x) ((long long)(x))

/* Symmetric CSR from m directed entries (r[e], c[e]), duplicates merged
 * with weight 1. Takes ownership of nothing; *A untouched on errors. */
static opk_status build_unit(const char *what, int64_t n, size_t m,
                             const int32_t *r, const int32_t *c, opk_csr *A)
{
    int64_t *srp;
    size_t *ord;
    opk_status st = opk_coo_sort(NULL, n, n, m, r, c, &srp, &ord);
    if (st)
        return st;
    /* Count unique entries first so the arrays are exact. */
    size_t u = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t p = srp[i]; p < srp[i + 1]; p++)
            u += p == srp[i] || c[ord[p]] != c[ord[p - 1]];
    int64_t *rp;
    int32_t *ci;
    float *v;
    if ((st = opk_csr_alloc(NULL, what, n, n, (int64_t)u, &rp, &ci, &v))) {
        opk_free(srp), opk_free(ord);
        return st;
    }
    size_t w = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t p = srp[i]; p < srp[i + 1]; p++)
            if (p == srp[i] || c[ord[p]] != c[ord[p - 1]])
                ci[w] = c[ord[p]], v[w] = 1.0f, w++;
        rp[i + 1] = (int64_t)w;
    }
    opk_free(srp), opk_free(ord);
    A->rows = A->cols = n;
    A->nnz = (int64_t)u;
    A->row_ptr = rp;
    A->col_idx = ci;
    A->val = v;
    return OPK_OK;
}

/* Appends both directions of the edges that are not self-loops. */
typedef struct edge_list {
    int32_t *r, *c;
    size_t m, cap;
} edge_list;

static void add_edge(edge_list *L, int32_t a, int32_t b)
{
    if (a == b)
        return;
    L->r[L->m] = a, L->c[L->m] = b, L->m++;
    L->r[L->m] = b, L->c[L->m] = a, L->m++;
}

static opk_status edges_alloc(const char *what, size_t undirected, edge_list *L)
{
    size_t cap;
    if (__builtin_mul_overflow(undirected, (size_t)2, &cap) ||
        cap > SIZE_MAX / sizeof(int32_t))
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "%s: %zu edges are too many",
                        what, undirected);
    L->r = opk_malloc(cap * sizeof(int32_t));
    L->c = opk_malloc(cap * sizeof(int32_t));
    L->m = 0, L->cap = cap;
    if (!L->r || !L->c) {
        opk_free(L->r), opk_free(L->c);
        return opk_fail(NULL, OPK_ERR_NOMEM,
                        "%s: cannot allocate %zu edge entries", what, cap);
    }
    return OPK_OK;
}

opk_status opk_graph_from_edges(int64_t n, size_t m, const int32_t *u,
                                const int32_t *v, opk_csr *A)
{
    const char *what = "graph_from_edges";
    if (!A)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "%s: A is NULL", what);
    if (n < 0 || n > INT32_MAX)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "%s: n (%lld) must be in [0, 2^31 - 1]", what, LL(n));
    if (m > 0 && (!u || !v))
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "%s: %s is NULL but there are %zu edges", what,
                        !u ? "u" : "v", m);
    for (size_t e = 0; e < m; e++)
        if (u[e] < 0 || u[e] >= n || v[e] < 0 || v[e] >= n)
            return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                            "%s: edge %zu (%d, %d) has a node outside [0, %lld)",
                            what, e, u[e], v[e], LL(n));
    edge_list L;
    opk_status st = edges_alloc(what, m, &L);
    if (st)
        return st;
    for (size_t e = 0; e < m; e++)
        add_edge(&L, u[e], v[e]);
    st = build_unit(what, n, L.m, L.r, L.c, A);
    opk_free(L.r), opk_free(L.c);
    return st;
}

opk_status opk_graph_grid(size_t rows, size_t cols, size_t extra,
                          uint64_t seed, opk_csr *A)
{
    const char *what = "graph_grid";
    if (!A)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "%s: A is NULL", what);
    size_t n;
    if (__builtin_mul_overflow(rows, cols, &n) || n > INT32_MAX)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "%s: %zu x %zu nodes exceed 2^31 - 1", what, rows, cols);
    if (n == 0 && extra > 0)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "%s: %zu extra edges on a graph without nodes", what,
                        extra);
    size_t und;
    if (__builtin_add_overflow(2 * n, extra, &und))
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "%s: too many edges", what);
    edge_list L;
    opk_status st = edges_alloc(what, und, &L);
    if (st)
        return st;
    /* Each node's right and lower neighbours cover the four torus links
     * once each; the merge removes the doubles of 2-wide grids. */
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            int32_t me = (int32_t)(r * cols + c);
            add_edge(&L, me, (int32_t)(r * cols + (c + 1) % cols));
            add_edge(&L, me, (int32_t)(((r + 1) % rows) * cols + c));
        }
    for (size_t e = 0; e < extra; e++)
        add_edge(&L, (int32_t)(opk_rand(seed, 2 * (uint64_t)e) % n),
                 (int32_t)(opk_rand(seed, 2 * (uint64_t)e + 1) % n));
    st = build_unit(what, (int64_t)n, L.m, L.r, L.c, A);
    opk_free(L.r), opk_free(L.c);
    return st;
}
