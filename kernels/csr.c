/* CSR validation, allocation, the stable COO sort and canonical sums. */
#include "csr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define LL(x) ((long long)(x))

/* Bytes of `count` elements of `size`, or 0 with *ok cleared on overflow. */
static size_t bytes_of(int64_t count, size_t size, int *ok)
{
    size_t b;
    if (count < 0 || (uint64_t)count > SIZE_MAX ||
        __builtin_mul_overflow((size_t)count, size, &b)) {
        *ok = 0;
        return 0;
    }
    return b;
}

static int wraps(const void *p, size_t bytes)
{
    return (uintptr_t)p + bytes < (uintptr_t)p;
}

/* The row holding entry q (row_ptr already checked monotone). */
static int64_t row_of(const int64_t *row_ptr, int64_t rows, int64_t q)
{
    int64_t lo = 0, hi = rows; /* row_ptr[lo] <= q < row_ptr[hi] */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (row_ptr[mid] <= q)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

opk_status opk_check_csr(const opk_ctx *ctx, const char *name, opk_csr A,
                         int nt)
{
    if (A.rows < 0 || A.cols < 0 || A.nnz < 0)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "%s: negative size (rows %lld, cols %lld, nnz %lld)",
                        name, LL(A.rows), LL(A.cols), LL(A.nnz));
    int ok = A.rows < INT64_MAX;
    size_t brp = bytes_of(ok ? A.rows + 1 : 0, sizeof(int64_t), &ok);
    size_t bval = bytes_of(A.nnz, sizeof(float), &ok);
    if (!ok || (A.row_ptr && wraps(A.row_ptr, brp)) ||
        (A.col_idx && wraps(A.col_idx, bval)) || (A.val && wraps(A.val, bval)))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "%s: rows %lld / nnz %lld overflow the address space",
                        name, LL(A.rows), LL(A.nnz));
    if (!A.row_ptr) {
        if (A.rows > 0)
            return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                            "%s: row_ptr is NULL but rows is %lld", name,
                            LL(A.rows));
        if (A.nnz > 0)
            return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                            "%s: nnz is %lld but there are no rows", name,
                            LL(A.nnz));
        return OPK_OK;
    }
    if (A.nnz > 0 && !A.col_idx)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "%s: col_idx is NULL but nnz is %lld", name, LL(A.nnz));
    if (A.nnz > 0 && !A.val)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "%s: val is NULL but nnz is %lld", name, LL(A.nnz));
    const int64_t *rp = A.row_ptr;
    if (rp[0] != 0)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "%s: row_ptr[0] is %lld, must be 0", name, LL(rp[0]));
    for (int64_t i = 0; i < A.rows; i++)
        if (rp[i + 1] < rp[i])
            return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                            "%s: row_ptr is not monotone: row_ptr[%lld] = %lld "
                            "< row_ptr[%lld] = %lld",
                            name, LL(i + 1), LL(rp[i + 1]), LL(i), LL(rp[i]));
    if (rp[A.rows] != A.nnz)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "%s: row_ptr[%lld] (rows) is %lld but nnz is %lld",
                        name, LL(A.rows), LL(rp[A.rows]), LL(A.nnz));
    /* The column scan reads nnz indices: split it, keep the first culprit
     * so the message does not depend on the thread count. */
    const int32_t *ci = A.col_idx;
    const int64_t nnz = A.nnz, cols = A.cols;
    int64_t bad = INT64_MAX;
    if (nt < 1 || nnz < ((int64_t)1 << 20))
        nt = 1;
#pragma omp parallel for num_threads(nt) reduction(min : bad) if (nt > 1)
    for (int64_t q = 0; q < nnz; q++)
        if ((ci[q] < 0 || ci[q] >= cols) && q < bad)
            bad = q;
    if (bad != INT64_MAX)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "%s: col_idx[%lld] = %d (row %lld) is out of range "
                        "[0, %lld)",
                        name, LL(bad), ci[bad], LL(row_of(rp, A.rows, bad)),
                        LL(cols));
    return OPK_OK;
}

opk_status opk_check_csr_values(const opk_ctx *ctx, const char *name,
                                opk_csr A, int nonneg)
{
    for (int64_t q = 0; q < A.nnz; q++) {
        float v = A.val[q];
        if (!isfinite(v) || (nonneg && v < 0))
            return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                            "%s: val[%lld] (row %lld, column %d) is %g; values "
                            "must be finite%s",
                            name, LL(q), LL(row_of(A.row_ptr, A.rows, q)),
                            A.col_idx[q], (double)v,
                            nonneg ? " and nonnegative" : "");
    }
    return OPK_OK;
}

opk_status opk_csr_check(const opk_ctx *ctx, opk_csr A)
{
    return opk_check_csr(ctx, "csr_check: A", A, 1);
}

opk_status opk_csr_alloc(const opk_ctx *ctx, const char *what, int64_t rows,
                         int64_t cols, int64_t nnz, int64_t **row_ptr,
                         int32_t **col_idx, float **val)
{
    (void)cols;
    int ok = 1;
    size_t brp = bytes_of(rows + 1, sizeof(int64_t), &ok);
    size_t bci = bytes_of(nnz, sizeof(int32_t), &ok);
    size_t bv = bytes_of(nnz, sizeof(float), &ok);
    int64_t *rp = ok ? opk_calloc(1, brp) : NULL;
    int32_t *ci = ok ? opk_malloc(bci) : NULL;
    float *v = ok ? opk_malloc(bv) : NULL;
    if (!rp || !ci || !v) {
        opk_free(rp), opk_free(ci), opk_free(v);
        return opk_fail(ctx, OPK_ERR_NOMEM,
                        "%s: cannot allocate a CSR with %lld rows and %lld "
                        "entries",
                        what, LL(rows), LL(nnz));
    }
    *row_ptr = rp, *col_idx = ci, *val = v;
    return OPK_OK;
}

void opk_csr_free(opk_csr *A)
{
    if (!A)
        return;
    opk_free((void *)A->row_ptr);
    opk_free((void *)A->col_idx);
    opk_free((void *)A->val);
    memset(A, 0, sizeof *A);
}

opk_status opk_coo_sort(const opk_ctx *ctx, int64_t rows, int64_t cols,
                        size_t m, const int32_t *r, const int32_t *c,
                        int64_t **row_ptr, size_t **order)
{
    /* Two stable counting sorts, by column then by row: rows ascending,
     * columns ascending inside a row, ties in input order. */
    int64_t *cc = opk_calloc((size_t)cols + 1, sizeof *cc);
    int64_t *rp = opk_calloc((size_t)rows + 1, sizeof *rp);
    size_t *tmp = opk_calloc(m, sizeof *tmp);
    size_t *ord = opk_calloc(m, sizeof *ord);
    if (!cc || !rp || !tmp || !ord) {
        opk_free(cc), opk_free(rp), opk_free(tmp), opk_free(ord);
        return opk_fail(ctx, OPK_ERR_NOMEM,
                        "cannot allocate the sort of %zu entries", m);
    }
    for (size_t e = 0; e < m; e++)
        cc[c[e] + 1]++;
    for (int64_t j = 0; j < cols; j++)
        cc[j + 1] += cc[j];
    for (size_t e = 0; e < m; e++)
        tmp[cc[c[e]]++] = e;
    opk_free(cc);
    for (size_t e = 0; e < m; e++)
        rp[r[e] + 1]++;
    for (int64_t i = 0; i < rows; i++)
        rp[i + 1] += rp[i];
    int64_t *pos = opk_malloc(((size_t)rows + 1) * sizeof *pos);
    if (!pos) {
        opk_free(rp), opk_free(tmp), opk_free(ord);
        return opk_fail(ctx, OPK_ERR_NOMEM,
                        "cannot allocate the sort of %zu entries", m);
    }
    memcpy(pos, rp, ((size_t)rows + 1) * sizeof *pos);
    for (size_t p = 0; p < m; p++) {
        size_t e = tmp[p];
        ord[pos[r[e]]++] = e;
    }
    opk_free(pos);
    opk_free(tmp);
    *row_ptr = rp;
    *order = ord;
    return OPK_OK;
}

opk_status opk_canon_of(const opk_ctx *ctx, opk_csr A, opk_canon *C)
{
    size_t m = (size_t)A.nnz;
    int32_t *r = opk_calloc(m, sizeof *r);
    if (!r)
        return opk_fail(ctx, OPK_ERR_NOMEM, "cannot allocate %zu row indices",
                        m);
    for (int64_t i = 0; i < A.rows; i++)
        for (int64_t q = A.row_ptr[i]; q < A.row_ptr[i + 1]; q++)
            r[q] = (int32_t)i;
    int64_t *rp;
    size_t *ord;
    opk_status st = opk_coo_sort(ctx, A.rows, A.cols, m, r, A.col_idx, &rp, &ord);
    opk_free(r);
    if (st)
        return st;
    int32_t *col = opk_calloc(m, sizeof *col);
    double *val = opk_calloc(m, sizeof *val);
    if (!col || !val) {
        opk_free(rp), opk_free(ord), opk_free(col), opk_free(val);
        return opk_fail(ctx, OPK_ERR_NOMEM, "cannot allocate %zu entries", m);
    }
    /* Merge equal columns; sorted ties keep the stored order. */
    int64_t w = 0;
    for (int64_t i = 0; i < A.rows; i++) {
        int64_t q0 = rp[i], q1 = rp[i + 1];
        rp[i] = w;
        for (int64_t p = q0; p < q1; p++) {
            size_t e = ord[p];
            int32_t j = A.col_idx[e];
            if (w > rp[i] && col[w - 1] == j)
                val[w - 1] += (double)A.val[e];
            else
                col[w] = j, val[w] = (double)A.val[e], w++;
        }
    }
    rp[A.rows] = w;
    opk_free(ord);
    C->n = A.rows;
    C->row_ptr = rp;
    C->col = col;
    C->val = val;
    return OPK_OK;
}

void opk_canon_free(opk_canon *C)
{
    opk_free(C->row_ptr), opk_free(C->col), opk_free(C->val);
    memset(C, 0, sizeof *C);
}

int64_t opk_canon_find(const opk_canon *C, int64_t i, int32_t j)
{
    int64_t lo = C->row_ptr[i], hi = C->row_ptr[i + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (C->col[mid] < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < C->row_ptr[i + 1] && C->col[lo] == j ? lo : -1;
}

int opk_canon_symmetric(const opk_canon *C, double rtol, int64_t *bi,
                        int64_t *bj)
{
    for (int64_t i = 0; i < C->n; i++)
        for (int64_t p = C->row_ptr[i]; p < C->row_ptr[i + 1]; p++) {
            int32_t j = C->col[p];
            if (j == i)
                continue;
            double a = C->val[p], b = 0.0;
            int64_t t = j < C->n ? opk_canon_find(C, j, (int32_t)i) : -1;
            if (t >= 0)
                b = C->val[t];
            if (fabs(a - b) > rtol * fmax(fabs(a), fabs(b))) {
                *bi = i, *bj = j;
                return 0;
            }
        }
    return 1;
}
