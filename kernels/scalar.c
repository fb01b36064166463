/* The scalar backend's table: the reference every other backend matches. */
#include "scalar.h"

const opk_ops opk_ops_scalar = {
    .id = OPK_BACKEND_SCALAR,
    .softmax_rows = opk_softmax_rows_scalar,
    .softmax_cols = opk_softmax_cols_scalar,
    .attn_pack = NULL,
    .attn_fused_rows = opk_attn_fused_rows_scalar,
    .attn_row_dots = opk_attn_row_dots_scalar,
    .attn_linear_kv = opk_attn_linear_kv_scalar,
    .attn_linear_rows = opk_attn_linear_rows_scalar,
    .attn_scores = opk_attn_scores_scalar,
    .attn_pv_rows = opk_attn_pv_rows_scalar,
    .sinkhorn_rows = opk_sinkhorn_rows_scalar,
    .sinkhorn_cols = opk_sinkhorn_cols_scalar,
    .cheb_rows = opk_cheb_rows_scalar,
    .math_n = opk_math_n_scalar,
    .attn_zero_row = opk_attn_zero_row_scalar,
};
