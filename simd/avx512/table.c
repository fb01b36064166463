/* The AVX-512 backend's table. Every entry must give the bits of the scalar
 * reference (kernels/scalar.c). */
#include "kernels.h"

const opk_ops opk_ops_avx512 = {
    .id = OPK_BACKEND_AVX512,
    .softmax_rows = opk_softmax_rows_avx512,
    .softmax_cols = opk_softmax_cols_avx512,
    .sinkhorn_rows = opk_sinkhorn_rows_avx512,
    .sinkhorn_cols = opk_sinkhorn_cols_avx512,
};
