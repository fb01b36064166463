/* An independent implementation of SPEC.md's kernels, written from the
 * SPEC text alone (not from kernels/, simd/, cl/ or dispatch/): plain scalar
 * C11, every formula in float exactly as the SPEC writes it, every fma an
 * explicit fmaf, E/Lg/Sq straight from SLEEF's Sleef_finz_*f1_*purecfma.
 * The library's backends must reproduce these bits (tests/test_spec_order.c,
 * tests/test_cheb.c). Only valid inputs are supported: errors are tested
 * elsewhere. Outputs are dense (ld = cols); slow and simple on purpose. */
#ifndef OPK_SPEC_ORACLE_H
#define OPK_SPEC_ORACLE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "opk.h"

/* SPEC 1: E, Lg, Sq and the canonical sums. */
float oracle_E(float x);
float oracle_Lg(float x);
float oracle_Sq(float x);
/* lane16(e_0..e_{n-1}) over e[0], e[stride], ... */
float oracle_lane16(const float *e, size_t n, size_t stride);
/* seq(e_0..e_{n-1}) over e[0], e[stride], ... */
float oracle_seq(const float *e, size_t n, size_t stride);
/* dot(a, b): the fma chain from +0 over k = 0..d-1. */
float oracle_dot(const float *a, const float *b, size_t d);

/* SPEC 3.1: Y (rows x cols, dense) = softmax of beta * X along axis. */
void oracle_softmax(opk_cmat X, float beta, opk_axis axis, unsigned flags,
                    float *Y);

/* SPEC 3.2: f (n), g (m), P (n x m dense, or NULL) and info. a, b may be
 * NULL (default masses); opts NULL: the SPEC defaults. */
void oracle_sinkhorn(opk_cmat S, float beta, const float *a, const float *b,
                     const opk_sinkhorn_opts *opts, float *f, float *g,
                     float *P, opk_sinkhorn_info *info);

/* SPEC 3.3: Y (n x F, dense) = sum_k c_k T_k(L~) X, X with leading
 * dimension ldx. */
void oracle_cheb(opk_csr L, float lmin, float lmax, const float *c, size_t K,
                 const float *X, size_t ldx, size_t F, float *Y);

/* SPEC 3.4: O (n x dv, dense); H NULL means H = V; opts NULL: defaults. */
void oracle_attention(opk_cmat Q, opk_cmat K, opk_cmat V, const opk_cmat *H,
                      const opk_attention_opts *opts, float *O);

/* Bitwise equality, any NaN equal to any NaN (as the hashes see them);
 * otherwise the 32-bit patterns, so -0 != +0. */
static inline int oracle_same_bits(float a, float b)
{
    if (isnan(a) && isnan(b))
        return 1;
    uint32_t x, y;
    memcpy(&x, &a, 4), memcpy(&y, &b, 4);
    return x == y;
}

/* Index (i * cols + j) of the first element of the rows x cols matrices a
 * (leading dimension lda) and b (ldb) whose bits differ, or -1. */
static inline long oracle_first_diff(const float *a, size_t lda,
                                     const float *b, size_t ldb, size_t rows,
                                     size_t cols)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            if (!oracle_same_bits(a[i * lda + j], b[i * ldb + j]))
                return (long)(i * cols + j);
    return -1;
}

static inline uint32_t oracle_bits(float a)
{
    uint32_t x;
    memcpy(&x, &a, 4);
    return x;
}

#endif
