/* The scalar backend's table: the reference every other backend matches. */
#include "scalar.h"

const opk_ops opk_ops_scalar = {
    .id = OPK_BACKEND_SCALAR,
    .softmax_rows = opk_softmax_rows_scalar,
    .softmax_cols = opk_softmax_cols_scalar,
    .cheb_rows = opk_cheb_rows_scalar,
};
