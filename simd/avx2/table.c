/* The AVX2 backend's table. Every entry must give the bits of the scalar
 * reference (kernels/scalar.c). */
#include "kernels.h"

const opk_ops opk_ops_avx2 = {
    .id = OPK_BACKEND_AVX2,
    .softmax_rows = opk_softmax_rows_avx2,
    .softmax_cols = opk_softmax_cols_avx2,
    .sinkhorn_rows = opk_sinkhorn_rows_avx2,
    .sinkhorn_cols = opk_sinkhorn_cols_avx2,
};
