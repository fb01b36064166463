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

/* Column ranges handed to kernels start at multiples of this. */
#define OPK_COL_ALIGN 16

/* One Sinkhorn solve (SPEC 3.2), already validated. The generic layer owns
 * the iteration; kernels do one pass over S for a range of rows or columns.
 * t_ij = fl(beta * s_ij) is recomputed on every pass (S is never copied). */
typedef struct opk_sinkhorn_job {
    const float *s;
    size_t lds;
    size_t rows, cols;
    float beta;
    const float *la;  /* Lg(a_i), n; -inf marks a zero mass */
    const float *lb;  /* Lg(b_j), m; -inf marks a zero mass */
    const float *f;   /* the current f: read by CHECK/PLAN and the column pass */
    float *fnew;      /* UPDATE writes the new f here */
    float *g;         /* read by the row pass, written by the column pass */
    const float *cmax; /* column pass: max_i fl(t_ij + f_i), m */
    float *r;         /* CHECK: r_i = lane16_j P_ij, n */
    float *p;         /* PLAN: P_ij = E(fl(fl(t_ij + f_i) + g_j)) */
    size_t ldp;
} opk_sinkhorn_job;

/* Row pass modes (combinable, except PLAN with UPDATE: P may be S). */
#define OPK_SK_UPDATE 1u /* fnew_i = fl(la_i - LSE_j fl(t_ij + g_j)), and
                            cmax_j = max(cmax_j, fl(t_ij + fnew_i)) */
#define OPK_SK_CHECK 2u  /* r_i from f and g */
#define OPK_SK_PLAN 4u   /* CHECK, and write P */

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

    /* Whole-call entry points, for device backends (opencl) that take a
     * validated call at once instead of per-thread ranges. The generic layer
     * calls one when non-NULL, after its argument checks and the zero-size
     * early return, and returns its status. CPU backends leave them NULL. */
    opk_status (*softmax_call)(opk_ctx *ctx, const opk_softmax_job *j,
                               opk_axis axis);

    /* Sinkhorn row pass over rows [r0, r1) (see OPK_SK_*). cmax: this
     * thread's m column maxima, which UPDATE raises (NaN-aware max).
     * scratch: cols + 64 floats, 64-byte aligned, private. */
    void (*sinkhorn_rows)(const opk_sinkhorn_job *j, size_t r0, size_t r1,
                          unsigned mode, float *cmax, float *scratch);
    /* Sinkhorn column pass: g_j for columns [c0, c1), c0 a multiple of
     * OPK_COL_ALIGN, from f and cmax; rows in ascending order (seq).
     * scratch: c1 - c0 + 64 floats, 64-byte aligned, private. */
    void (*sinkhorn_cols)(const opk_sinkhorn_job *j, size_t c0, size_t c1,
                          float *scratch);
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

#ifdef OPK_HAVE_OPENCL
/* The opencl table (cl/table.c): whole-call entry points of the kernels
 * ported to OpenCL; NULL elsewhere (see opk_unported). */
const opk_ops *opk_ops_opencl(void);
#endif

/* The table for a concrete backend if compiled in, else NULL. */
const opk_ops *opk_ops_for(opk_backend b);

#endif
