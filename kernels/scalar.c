/* The scalar backend's table: the reference every other backend matches. */
#include "scalar.h"

const opk_ops opk_ops_scalar = {
    .id = OPK_BACKEND_SCALAR,
    .softmax_rows = opk_softmax_rows_scalar,
    .softmax_cols = opk_softmax_cols_scalar,
    .sinkhorn_rows = opk_sinkhorn_rows_scalar,
    .sinkhorn_cols = opk_sinkhorn_cols_scalar,
};
