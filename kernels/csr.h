/* CSR helpers shared by the graph tooling and the Chebyshev kernel:
 * validation, allocation, and a stable COO sort that turns entry lists into
 * rows with ascending columns. */
#ifndef OPK_CSR_H
#define OPK_CSR_H

#include <stddef.h>
#include <stdint.h>

#include "opk.h"

/* Validates A (SPEC 2, SPEC 7) with `name` leading the message; the column
 * scan uses up to nt threads. */
opk_status opk_check_csr(const opk_ctx *ctx, const char *name, opk_csr A,
                         int nt);
/* Checks that every value is finite (and >= 0 when nonneg). */
opk_status opk_check_csr_values(const opk_ctx *ctx, const char *name,
                                opk_csr A, int nonneg);

/* Allocates the three arrays of a rows x cols CSR with nnz entries (row_ptr
 * zeroed). On failure everything is freed and NOMEM is returned (with a
 * message naming `what`). */
opk_status opk_csr_alloc(const opk_ctx *ctx, const char *what, int64_t rows,
                         int64_t cols, int64_t nnz, int64_t **row_ptr,
                         int32_t **col_idx, float **val);

/* Stable sort of m (row, col) entries into row-major order with ascending
 * columns; entries with equal (row, col) keep their input order. Returns
 * row_ptr (rows+1) and order[p] = input index of the p-th sorted entry,
 * both malloc'ed; NOMEM on failure. Rows < rows, cols < cols assumed. */
opk_status opk_coo_sort(const opk_ctx *ctx, int64_t rows, int64_t cols,
                        size_t m, const int32_t *r, const int32_t *c,
                        int64_t **row_ptr, size_t **order);

/* A CSR summed into canonical form: ascending unique columns per row,
 * duplicates summed in double in stored order. */
typedef struct opk_canon {
    int64_t n;        /* rows */
    int64_t *row_ptr; /* n + 1 */
    int32_t *col;
    double *val;
} opk_canon;

opk_status opk_canon_of(const opk_ctx *ctx, opk_csr A, opk_canon *C);
void opk_canon_free(opk_canon *C);
/* Position of column j in row i, or -1. */
int64_t opk_canon_find(const opk_canon *C, int64_t i, int32_t j);
/* 1 if C is symmetric within relative tolerance rtol (a missing entry
 * counts as 0); else 0 with the first offending (i, j) in *bi, *bj. */
int opk_canon_symmetric(const opk_canon *C, double rtol, int64_t *bi,
                        int64_t *bj);

#endif
