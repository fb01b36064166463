/* libFuzzer harness: CSR validation (opk_csr_check, as every entry point
 * taking a CSR runs it). The input gives rows, cols, nnz and the three
 * arrays in exact-size buffers; the harness restates the rules (SPEC 7:
 * row_ptr[0] = 0, non-decreasing, row_ptr[rows] = nnz, columns in range)
 * and the check must agree. An accepted matrix is then used: opk_laplacian
 * on it must not read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int64_t rows = data[0] % 9, cols = data[1] % 9;
    int64_t nnz = data[2] % 20;
    data += 3, size -= 3;
    /* Occasionally hostile header values. */
    if (rows == 8)
        rows = -1;
    if (cols == 8) /* valid: col_idx need only be < cols */
        cols = (int64_t)1 << 40;
    size_t nrp = rows >= 0 ? (size_t)rows + 1 : 1, nnzu = nnz > 0 ? (size_t)nnz : 0;
    int64_t *rp = malloc(nrp * sizeof *rp);
    int32_t *ci = malloc((nnzu ? nnzu : 1) * sizeof *ci);
    float *v = malloc((nnzu ? nnzu : 1) * sizeof *v);
    if (!rp || !ci || !v)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < nrp; i++)
        rp[i] = k < size ? (int64_t)(data[k++] % 24) - 2 : 0;
    for (size_t i = 0; i < nnzu; i++)
        ci[i] = k < size ? (int32_t)(data[k++] % 12) - 1 : 0;
    for (size_t i = 0; i < nnzu; i++)
        v[i] = k < size ? (float)data[k++] / 16.0f : 1.0f;
    int valid = rows >= 0 && cols >= 0 && rp[0] == 0 &&
                rp[rows] == nnz;
    for (int64_t i = 0; valid && i < rows; i++)
        valid = rp[i] <= rp[i + 1];
    for (size_t i = 0; valid && i < nnzu; i++)
        valid = ci[i] >= 0 && ci[i] < cols;
    opk_csr A = {rows, cols, nnz, rows >= 0 ? rp : NULL, ci, v};
    opk_status st = opk_csr_check(NULL, A);
    if (valid != (st == OPK_OK))
        abort(); /* the check disagrees with SPEC 7 */
    if (st && !*opk_ctx_last_error(NULL))
        abort();
    if (st == OPK_OK && rows == cols) {
        opk_csr L;
        memset(&L, 0, sizeof L);
        if (opk_laplacian(A, OPK_LAPLACIAN_COMBINATORIAL, &L) == OPK_OK)
            opk_csr_free(&L);
    }
    free(rp), free(ci), free(v);
    return 0;
}
