/* The avx2 backend's kernels, gathered into opk_ops_avx2 by table.c. Each
 * kernel lives in its own simd/avx2/<op>.c; add declarations here. */
#ifndef OPK_AVX2_KERNELS_H
#define OPK_AVX2_KERNELS_H

#include "../../dispatch/backend.h"

void opk_softmax_rows_avx2(const opk_softmax_job *j, size_t r0, size_t r1,
                           float *scratch);
void opk_softmax_cols_avx2(const opk_softmax_job *j, size_t c0, size_t c1,
                           float *scratch);

void opk_sinkhorn_rows_avx2(const opk_sinkhorn_job *j, size_t r0, size_t r1,
                            unsigned mode, float *cmax, float *scratch);
void opk_sinkhorn_cols_avx2(const opk_sinkhorn_job *j, size_t c0, size_t c1,
                            float *scratch);

#endif
