/* Softmax (SPEC 3.1): argument checks, work splitting, scalar reference. */
#include <math.h>
#include <string.h>

#include "../dispatch/ctx.h"
#include "common.h"
#include "lane16.h"
#include "scalar.h"
#include "sleef1.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- scalar reference ---------------------------------------------------- */

/* The row/column class SPEC 3.1 singles out, from max m and a NaN/+inf flag. */
enum { REGULAR, ALL_NEG_INF, HAS_NAN };

static int classify(float m, int bad)
{
    return bad ? HAS_NAN : (m == -INFINITY ? ALL_NEG_INF : REGULAR);
}

static float special_value(int cls, int log)
{
    return cls == HAS_NAN ? NAN : (log ? -INFINITY : 0.0f);
}

static void softmax_row_scalar(const opk_softmax_job *jb, size_t i)
{
    const float *x = jb->x + i * jb->ldx;
    float *y = jb->y + i * jb->ldy;
    const size_t n = jb->cols;
    const float beta = jb->beta;
    float m = -INFINITY;
    int bad = 0;
    for (size_t j = 0; j < n; j++) {
        float t = beta * x[j];
        bad |= !(t < INFINITY); /* NaN or +inf */
        m = t > m ? t : m;
    }
    int cls = classify(m, bad);
    if (cls != REGULAR) {
        float v = special_value(cls, jb->log);
        for (size_t j = 0; j < n; j++)
            y[j] = v;
        return;
    }
    opk_lane16 acc;
    opk_lane16_init(&acc);
    for (size_t j = 0; j < n; j++) {
        float e = opk_E(beta * x[j] - m);
        opk_lane16_add(&acc, j, e);
        if (!jb->log)
            y[j] = e; /* same index as x[j]: safe in place */
    }
    float s = opk_lane16_result(&acc);
    if (jb->log) {
        float ls = opk_Lg(s);
        for (size_t j = 0; j < n; j++)
            y[j] = (beta * x[j] - m) - ls;
    } else {
        float r = 1.0f / s;
        for (size_t j = 0; j < n; j++)
            y[j] = y[j] * r;
    }
}

void opk_softmax_rows_scalar(const opk_softmax_job *jb, size_t r0, size_t r1,
                             float *scratch)
{
    (void)scratch;
    for (size_t i = r0; i < r1; i++)
        softmax_row_scalar(jb, i);
}

void opk_softmax_cols_scalar(const opk_softmax_job *jb, size_t c0, size_t c1,
                             float *scratch)
{
    const size_t w = c1 - c0, rows = jb->rows;
    const float beta = jb->beta;
    float *m = scratch, *s = scratch + w;
    unsigned char bad[OPK_COL_ALIGN * 4];
    /* Column stats live in scratch; walk the range in chunks so the flags
     * fit on the stack. */
    for (size_t b0 = 0; b0 < w; b0 += sizeof bad) {
        size_t b1 = w - b0 < sizeof bad ? w : b0 + sizeof bad;
        for (size_t c = b0; c < b1; c++)
            m[c] = -INFINITY, s[c] = 0.0f, bad[c - b0] = 0;
        for (size_t i = 0; i < rows; i++) {
            const float *x = jb->x + i * jb->ldx + c0;
            for (size_t c = b0; c < b1; c++) {
                float t = beta * x[c];
                bad[c - b0] |= !(t < INFINITY);
                m[c] = t > m[c] ? t : m[c];
            }
        }
        for (size_t i = 0; i < rows; i++) {
            const float *x = jb->x + i * jb->ldx + c0;
            float *y = jb->y + i * jb->ldy + c0;
            for (size_t c = b0; c < b1; c++) {
                if (classify(m[c], bad[c - b0]) != REGULAR)
                    continue;
                float e = opk_E(beta * x[c] - m[c]);
                s[c] = s[c] + e; /* seq: rows ascending */
                if (!jb->log)
                    y[c] = e;
            }
        }
        for (size_t c = b0; c < b1; c++)
            if (classify(m[c], bad[c - b0]) == REGULAR)
                s[c] = jb->log ? opk_Lg(s[c]) : 1.0f / s[c];
        for (size_t i = 0; i < rows; i++) {
            const float *x = jb->x + i * jb->ldx + c0;
            float *y = jb->y + i * jb->ldy + c0;
            for (size_t c = b0; c < b1; c++) {
                int cls = classify(m[c], bad[c - b0]);
                if (cls != REGULAR)
                    y[c] = special_value(cls, jb->log);
                else if (jb->log)
                    y[c] = (beta * x[c] - m[c]) - s[c];
                else
                    y[c] = y[c] * s[c];
            }
        }
    }
}

/* ---- entry point ----------------------------------------------------------- */

opk_status opk_softmax(opk_ctx *ctx, opk_cmat X, opk_mat Y, float beta,
                       opk_axis axis, unsigned flags)
{
    if (!ctx)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "softmax: ctx is NULL");
    opk_span sx, sy;
    opk_status st;
    if ((st = opk_check_mat(ctx, "softmax: X", X.data, X.rows, X.cols, X.ld, &sx)) ||
        (st = opk_check_mat(ctx, "softmax: Y", Y.data, Y.rows, Y.cols, Y.ld, &sy)) ||
        (st = opk_check_shape(ctx, "softmax: Y", Y.rows, Y.cols, X.rows, X.cols)))
        return st;
    if (!isfinite(beta))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "softmax: beta (%g) must be finite", (double)beta);
    if (axis != OPK_ROWS && axis != OPK_COLS)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "softmax: axis (%d) must be OPK_ROWS or OPK_COLS",
                        (int)axis);
    if (flags & ~OPK_LOG)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "softmax: unknown flags 0x%x", flags & ~OPK_LOG);
    int in_place = (const float *)Y.data == X.data;
    if (in_place && X.ld != Y.ld && X.rows > 1)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "softmax: in-place needs equal ld (X.ld %zu, Y.ld %zu)",
                        X.ld, Y.ld);
    if (!in_place && opk_spans_overlap(sx, sy))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "softmax: X and Y overlap (only X == Y with equal ld "
                        "is allowed)");
    if (X.rows == 0 || X.cols == 0)
        return OPK_OK;

    opk_softmax_job jb = {X.data, X.ld, Y.data, Y.ld, X.rows, X.cols, beta,
                          (flags & OPK_LOG) != 0};
    const opk_ops *ops = ctx->ops;
    if (ops->softmax_call) /* a device backend takes the whole call */
        return ops->softmax_call(ctx, &jb, axis);
    if (!ops->softmax_rows || !ops->softmax_cols)
        return opk_unported(ctx, "softmax");
    if (axis == OPK_ROWS) {
        int nt = opk_threads_for(ctx, X.rows, X.cols * 8);
        size_t per = (X.cols + 15) & ~(size_t)15;
        float *scratch = opk_alloc((size_t)nt * per * sizeof(float));
        if (!scratch)
            return opk_fail(ctx, OPK_ERR_NOMEM,
                            "softmax: cannot allocate %d x %zu floats of "
                            "scratch", nt, per);
#pragma omp parallel num_threads(nt) if (nt > 1)
        {
            int me = 0, all = 1;
#ifdef _OPENMP
            me = omp_get_thread_num();
            all = omp_get_num_threads();
#endif
            size_t r0 = X.rows * (size_t)me / (size_t)all;
            size_t r1 = X.rows * (size_t)(me + 1) / (size_t)all;
            if (r0 < r1)
                ops->softmax_rows(&jb, r0, r1, scratch + (size_t)me * per);
        }
        opk_free(scratch);
    } else {
        size_t units = (X.cols + OPK_COL_ALIGN - 1) / OPK_COL_ALIGN;
        int nt = opk_threads_for(ctx, units, X.rows * OPK_COL_ALIGN * 8);
        size_t per = 2 * ((X.cols + 15) & ~(size_t)15) + 64;
        float *scratch = opk_alloc((size_t)nt * per * sizeof(float));
        if (!scratch)
            return opk_fail(ctx, OPK_ERR_NOMEM,
                            "softmax: cannot allocate %d x %zu floats of "
                            "scratch", nt, per);
#pragma omp parallel num_threads(nt) if (nt > 1)
        {
            int me = 0, all = 1;
#ifdef _OPENMP
            me = omp_get_thread_num();
            all = omp_get_num_threads();
#endif
            size_t u0 = units * (size_t)me / (size_t)all;
            size_t u1 = units * (size_t)(me + 1) / (size_t)all;
            size_t c0 = u0 * OPK_COL_ALIGN, c1 = u1 * OPK_COL_ALIGN;
            if (c1 > X.cols)
                c1 = X.cols;
            if (c0 < c1)
                ops->softmax_cols(&jb, c0, c1, scratch + (size_t)me * per);
        }
        opk_free(scratch);
    }
    return OPK_OK;
}
