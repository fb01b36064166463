/* The AVX-512 backend's table. Every entry must give the bits of the scalar
 * reference (kernels/scalar.c). */
#include "kernels.h"

const opk_ops opk_ops_avx512 = {
    .id = OPK_BACKEND_AVX512,
    .softmax_rows = opk_softmax_rows_avx512,
    .softmax_cols = opk_softmax_cols_avx512,
    .attn_pack = opk_attn_pack_blocks,
    .attn_fused_rows = opk_attn_fused_rows_avx512,
    .attn_row_dots = opk_attn_row_dots_avx512,
    .attn_linear_kv = opk_attn_linear_kv_avx512,
    .attn_linear_rows = opk_attn_linear_rows_avx512,
    .attn_scores = opk_attn_scores_avx512,
    .attn_pv_rows = opk_attn_pv_rows_avx512,
    .cheb_rows = opk_cheb_rows_avx512,
    .math_n = opk_math_n_avx512,
    .sinkhorn_rows = opk_sinkhorn_rows_avx512,
    .sinkhorn_cols = opk_sinkhorn_cols_avx512,
    .attn_zero_row = opk_attn_zero_row_avx512,
};
