/* Graph Laplacians (SPEC 3.3): combinatorial, symmetric normalized and
 * random walk, computed in double from the summed adjacency and rounded to
 * float once per entry. */
#include <math.h>
#include <stdlib.h>

#include "common.h"
#include "csr.h"

#define LL(x) ((long long)(x))

opk_status opk_laplacian(opk_csr A, opk_laplacian_kind kind, opk_csr *L)
{
    const char *what = "laplacian";
    opk_status st;
    if (!L)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "%s: L is NULL", what);
    if ((st = opk_check_csr(NULL, "laplacian: A", A, 1)))
        return st;
    if (A.rows != A.cols)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "laplacian: A is %lldx%lld, must be square",
                        LL(A.rows), LL(A.cols));
    if (A.rows > INT32_MAX)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "laplacian: A has %lld rows, at most 2^31 - 1",
                        LL(A.rows));
    if (kind != OPK_LAPLACIAN_COMBINATORIAL && kind != OPK_LAPLACIAN_SYMMETRIC &&
        kind != OPK_LAPLACIAN_RANDOM_WALK)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "laplacian: kind (%d) is not combinatorial, symmetric "
                        "or random walk",
                        (int)kind);
    if ((st = opk_check_csr_values(NULL, "laplacian: A", A, 1)))
        return st;
    opk_canon C;
    if ((st = opk_canon_of(NULL, A, &C)))
        return st;
    int64_t bi, bj;
    if (!opk_canon_symmetric(&C, 1e-6, &bi, &bj)) {
        int64_t p = opk_canon_find(&C, bi, (int32_t)bj);
        int64_t t = opk_canon_find(&C, bj, (int32_t)bi);
        st = opk_fail(NULL, OPK_ERR_INVALID_ARG,
                      "laplacian: A is not symmetric: A[%lld][%lld] = %g but "
                      "A[%lld][%lld] = %g",
                      LL(bi), LL(bj), p >= 0 ? C.val[p] : 0.0, LL(bj), LL(bi),
                      t >= 0 ? C.val[t] : 0.0);
        opk_canon_free(&C);
        return st;
    }
    const int64_t n = C.n;
    double *deg = opk_calloc((size_t)n + 1, sizeof *deg);
    if (!deg) {
        opk_canon_free(&C);
        return opk_fail(NULL, OPK_ERR_NOMEM,
                        "laplacian: cannot allocate %lld degrees",
                        LL(n + 1));
    }
    /* Degrees, and the size of L: each non-isolated row gains a diagonal
     * if it has none; isolated rows lose everything. */
    int64_t nnz = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = 0.0;
        for (int64_t p = C.row_ptr[i]; p < C.row_ptr[i + 1]; p++)
            d += C.val[p];
        deg[i] = d;
        if (d > 0)
            nnz += C.row_ptr[i + 1] - C.row_ptr[i] +
                   (opk_canon_find(&C, i, (int32_t)i) < 0);
    }
    int64_t *rp;
    int32_t *ci;
    float *v;
    if ((st = opk_csr_alloc(NULL, what, n, n, nnz, &rp, &ci, &v))) {
        opk_free(deg);
        opk_canon_free(&C);
        return st;
    }
    int64_t w = 0;
    for (int64_t i = 0; i < n; i++) {
        const double di = deg[i];
        if (di > 0) {
            int diag_done = 0;
            for (int64_t p = C.row_ptr[i]; p <= C.row_ptr[i + 1]; p++) {
                int at_end = p == C.row_ptr[i + 1];
                int32_t j = at_end ? INT32_MAX : C.col[p];
                if (!diag_done && j >= i) {
                    /* The diagonal, from the self-loop weight (0 if none). */
                    double a = j == i ? C.val[p] : 0.0;
                    ci[w] = (int32_t)i;
                    v[w++] = (float)(kind == OPK_LAPLACIAN_COMBINATORIAL
                                         ? di - a
                                         : 1.0 - a / di);
                    diag_done = 1;
                    if (j == i)
                        continue;
                }
                if (at_end)
                    break;
                double a = C.val[p], x;
                if (kind == OPK_LAPLACIAN_COMBINATORIAL)
                    x = -a;
                else if (kind == OPK_LAPLACIAN_RANDOM_WALK)
                    x = -a / di;
                else /* a neighbour of degree 0 has a = 0 (symmetry) */
                    x = deg[j] > 0 ? -a / sqrt(di * deg[j]) : -0.0;
                ci[w] = j;
                v[w++] = (float)x;
            }
        }
        rp[i + 1] = w;
    }
    opk_free(deg);
    opk_canon_free(&C);
    /* Combinatorial degrees (or summed duplicates) near FLT_MAX. */
    for (int64_t i = 0; i < n; i++)
        for (int64_t p = rp[i]; p < rp[i + 1]; p++)
            if (isinf(v[p])) {
                st = opk_fail(NULL, OPK_ERR_INVALID_ARG,
                              "laplacian: L[%lld][%d] is past the float range "
                              "(A's weights are too large)",
                              LL(i), ci[p]);
                opk_free(rp), opk_free(ci), opk_free(v);
                return st;
            }
    L->rows = L->cols = n;
    L->nnz = nnz;
    L->row_ptr = rp;
    L->col_idx = ci;
    L->val = v;
    return OPK_OK;
}
