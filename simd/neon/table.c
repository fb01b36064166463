/* The NEON backend's table (AArch64 Advanced SIMD, usable when AT_HWCAP has
 * ASIMD: see dispatch/backends.c). */
#include "neon.h"

const opk_ops opk_ops_neon = {
    .id = OPK_BACKEND_NEON,
    .softmax_rows = opk_softmax_rows_neon,
    .softmax_cols = opk_softmax_cols_neon,
    .sinkhorn_rows = opk_sinkhorn_rows_neon,
    .sinkhorn_cols = opk_sinkhorn_cols_neon,
};
