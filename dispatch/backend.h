/* The backend table: one opk_ops per backend, filled by the backend's own
 * files (simd/<isa>/table.c, kernels/scalar_table.c). Generic code calls
 * kernels only through it and never includes an intrinsics header. */
#ifndef OPK_BACKEND_H
#define OPK_BACKEND_H

#include <stddef.h>
#include "opk.h"

/* One softmax call, already validated. Rows/columns are independent, so the
 * generic layer hands each thread a range; a kernel writes only that range. */
typedef struct opk_softmax_job {
    const float *x;
    size_t ldx;
    float *y;
    size_t ldy;
    size_t rows, cols;
    float beta;
    int log; /* log-softmax */
} opk_softmax_job;

/* One opk_cheb call, already validated (SPEC 3.3): L (n x n CSR, stored
 * order = summation order), F feature columns, alpha and gamma of L~. */
typedef struct opk_cheb_job {
    const int64_t *row_ptr;
    const int32_t *col_idx;
    const float *val;
    size_t n, F;
    float alpha, gamma;
} opk_cheb_job;

/* One order k >= 1 of the recurrence, fused with the Y update. For each row
 * i and column f, with p_if the fma chain over row i's entries of v:
 *   a = fma(alpha, p_if, fl(gamma * v_if))
 *   w == NULL (k = 1):  t_if = a;                 y_if = fma(c, t_if, fl(c0 * v_if))
 *   else (k >= 2):      t_if = fl(fl(2 a) - w_if); y_if = fma(c, t_if, y_if)
 * t may be w (T_k overwrites T_{k-2}: row i reads only its own w row);
 * t == NULL: T_k is not stored (the last order). v is never written. */
typedef struct opk_cheb_step {
    const float *v; /* T_{k-1} (X when k = 1), gathered by column */
    size_t ldv;
    const float *w; /* T_{k-2}, NULL when k = 1 */
    size_t ldw;
    float *t;
    size_t ldt;
    float *y;
    size_t ldy;
    float c, c0;
} opk_cheb_step;

/* Column ranges handed to kernels start at multiples of this. */
#define OPK_COL_ALIGN 16

typedef struct opk_ops {
    opk_backend id;
    /* Rows [r0, r1). scratch: cols floats, 64-byte aligned, private to the
     * calling thread. */
    void (*softmax_rows)(const opk_softmax_job *j, size_t r0, size_t r1,
                         float *scratch);
    /* Columns [c0, c1), c0 a multiple of OPK_COL_ALIGN. scratch: at least
     * 2 * (c1 - c0) + 64 floats, 64-byte aligned, private to the thread. */
    void (*softmax_cols)(const opk_softmax_job *j, size_t c0, size_t c1,
                         float *scratch);
    /* One Chebyshev order over rows [r0, r1) (see opk_cheb_step). */
    void (*cheb_rows)(const struct opk_cheb_job *j,
                      const struct opk_cheb_step *s, size_t r0, size_t r1);
} opk_ops;

extern const opk_ops opk_ops_scalar;
#ifdef OPK_HAVE_AVX2
extern const opk_ops opk_ops_avx2;
#endif
#ifdef OPK_HAVE_AVX512
extern const opk_ops opk_ops_avx512;
#endif
#ifdef OPK_HAVE_NEON
extern const opk_ops opk_ops_neon;
#endif

/* The table for a concrete backend if compiled in, else NULL. */
const opk_ops *opk_ops_for(opk_backend b);

#endif
