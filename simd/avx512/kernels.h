/* The avx512 backend's kernels, gathered into opk_ops_avx512 by table.c. Each
 * kernel lives in its own simd/avx512/<op>.c; add declarations here. */
#ifndef OPK_AVX512_KERNELS_H
#define OPK_AVX512_KERNELS_H

#include "../../dispatch/backend.h"

void opk_softmax_rows_avx512(const opk_softmax_job *j, size_t r0, size_t r1,
                           float *scratch);
void opk_softmax_cols_avx512(const opk_softmax_job *j, size_t c0, size_t c1,
                           float *scratch);

/* attention.c (simd/attention_fused.h) */
void opk_attn_fused_rows_avx512(const opk_attn_job *j, size_t r0, size_t r1,
                             float *scratch);
void opk_attn_scores_avx512(const opk_attn_job *j, size_t r0, size_t r1,
                         float *s, size_t lds);
void opk_attn_row_dots_avx512(const float *x, size_t ld, size_t cols,
                            size_t r0, size_t r1, int inv, float *r);
void opk_attn_linear_kv_avx512(const opk_attn_job *j, const opk_attn_linear *l,
                            size_t k0, size_t k1, size_t j0, size_t j1,
                            int do_vs, size_t *zero);
void opk_attn_linear_rows_avx512(const opk_attn_job *j,
                              const opk_attn_linear *l, size_t r0, size_t r1,
                              float *scratch);
void opk_attn_pv_rows_avx512(const opk_attn_job *j, const float *p, size_t ldp,
                          size_t r0, size_t r1, float *scratch);
void opk_cheb_rows_avx512(const opk_cheb_job *j, const opk_cheb_step *s,
                        size_t r0, size_t r1);
void opk_math_n_avx512(int fn, const float *x, float *y, size_t n);
void opk_sinkhorn_rows_avx512(const opk_sinkhorn_job *j, size_t r0, size_t r1,
                            unsigned mode, float *cmax, float *scratch);
void opk_sinkhorn_cols_avx512(const opk_sinkhorn_job *j, size_t c0, size_t c1,
                            float *scratch);

size_t opk_attn_zero_row_avx512(const float *x, size_t ld, size_t cols,
                                size_t r0, size_t r1);

#endif
