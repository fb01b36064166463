/* The NEON backend's table (AArch64 Advanced SIMD, usable when AT_HWCAP has
 * ASIMD: see dispatch/backends.c). */
#include "neon.h"

const opk_ops opk_ops_neon = {
    .id = OPK_BACKEND_NEON,
    .softmax_rows = opk_softmax_rows_neon,
    .softmax_cols = opk_softmax_cols_neon,
    .sinkhorn_rows = opk_sinkhorn_rows_neon,
    .sinkhorn_cols = opk_sinkhorn_cols_neon,
    .cheb_rows = opk_cheb_rows_neon,
    .math_n = opk_math_n_neon,
    .attn_pack = opk_attn_pack_blocks,
    .attn_fused_rows = opk_attn_fused_rows_neon,
    .attn_row_dots = opk_attn_row_dots_neon,
    .attn_linear_kv = opk_attn_linear_kv_neon,
    .attn_linear_rows = opk_attn_linear_rows_neon,
    .attn_scores = opk_attn_scores_neon,
    .attn_pv_rows = opk_attn_pv_rows_neon,
    .attn_zero_row = opk_attn_zero_row_neon,
};
