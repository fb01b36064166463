/* The NEON kernels, gathered into opk_ops_neon by table.c. A new kernel is
 * one file in this folder (using vec.h), its declaration here and its line
 * in table.c. */
#ifndef OPK_NEON_H
#define OPK_NEON_H

#include "../../dispatch/backend.h"

void opk_softmax_rows_neon(const opk_softmax_job *j, size_t r0, size_t r1,
                           float *scratch);
void opk_softmax_cols_neon(const opk_softmax_job *j, size_t c0, size_t c1,
                           float *scratch);

void opk_sinkhorn_rows_neon(const opk_sinkhorn_job *j, size_t r0, size_t r1,
                            unsigned mode, float *cmax, float *scratch);
void opk_sinkhorn_cols_neon(const opk_sinkhorn_job *j, size_t c0, size_t c1,
                            float *scratch);

#endif
