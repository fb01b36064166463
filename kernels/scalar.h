/* The scalar reference kernels, gathered into opk_ops_scalar by scalar.c. */
#ifndef OPK_SCALAR_H
#define OPK_SCALAR_H

#include "../dispatch/backend.h"

void opk_softmax_rows_scalar(const opk_softmax_job *j, size_t r0, size_t r1,
                             float *scratch);
void opk_softmax_cols_scalar(const opk_softmax_job *j, size_t c0, size_t c1,
                             float *scratch);
void opk_sinkhorn_rows_scalar(const opk_sinkhorn_job *j, size_t r0,
                              size_t r1, unsigned mode, float *cmax,
                              float *scratch);
void opk_sinkhorn_cols_scalar(const opk_sinkhorn_job *j, size_t c0,
                              size_t c1, float *scratch);

#endif
