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
