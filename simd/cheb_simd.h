/* Decisions shared by the AVX2 and AVX-512 Chebyshev kernels (no
 * intrinsics here). Both keep SPEC 3.3's order exactly: p_if is one fma
 * chain over row i's entries in stored order.
 *
 * Layout: lanes are feature columns (a masked vector when F is not a
 * multiple of the width), and G rows are interleaved: for j below the
 * shortest of the G rows, entry j of every row is accumulated, so G
 * independent fma chains hide the fma latency (a row alone is one serial
 * chain of 4-cycle fmas); the rest of each row follows on its own. v rows
 * are prefetched a few entries ahead: random columns defeat the hardware
 * prefetcher. F = 1 runs the same interleaving on scalar fmas (below).
 *
 * Why not lanes = rows with hardware gathers (SELL-C-sigma without a
 * conversion), as planned for F < 8? That was the first version (git
 * history): on this machine (AMD EPYC, AVX-512) a 16-lane vpgatherdd costs
 * about 20 ns, 1.2 ns per element, and such a kernel needs three gathers
 * per step (column, value, v[col]): 2.7 ns per stored entry for F = 1 in
 * cache, against about 1 ns with interleaved rows and plain loads. A SELL
 * conversion kept in a handle would remove two of the three gathers and
 * still pay 1.2 ns per entry for v[col]. */
#ifndef OPK_SIMD_CHEB_H
#define OPK_SIMD_CHEB_H

#include <math.h>
#include <stdint.h>

#include "../dispatch/backend.h"

/* Stored entries ahead whose v row is prefetched. */
#ifndef OPK_CHEB_PREFETCH
#define OPK_CHEB_PREFETCH 16
#endif

/* F = 1 with plain loads: G = 4 rows interleaved (as above) on scalar
 * fmas, v prefetched ahead. Compiled in each ISA's files (with -mfma). */
static inline void opk_cheb_rows_f1(const opk_cheb_job *j,
                                    const opk_cheb_step *s, size_t r0,
                                    size_t r1)
{
    enum { G = 4 };
    const int32_t *col = j->col_idx;
    const float *val = j->val, *v = s->v;
    const size_t ldv = s->ldv;
    const int64_t nnz = j->row_ptr[j->n];
    for (size_t i = r0; i < r1; i += G) {
        const int ng = r1 - i < G ? (int)(r1 - i) : G;
        float p[G];
        int64_t q0[G], q1[G], m = INT64_MAX;
        for (int g = 0; g < ng; g++) {
            p[g] = 0.0f;
            q0[g] = j->row_ptr[i + (size_t)g];
            q1[g] = j->row_ptr[i + (size_t)g + 1];
            m = q1[g] - q0[g] < m ? q1[g] - q0[g] : m;
        }
        if (ng == G)
            for (int64_t e = 0; e < m; e++)
                for (int g = 0; g < G; g++) {
                    const int64_t q = q0[g] + e;
                    if (q + OPK_CHEB_PREFETCH < nnz)
                        __builtin_prefetch(v + (size_t)col[q + OPK_CHEB_PREFETCH] * ldv);
                    p[g] = fmaf(val[q], v[(size_t)col[q] * ldv], p[g]);
                }
        else
            m = 0;
        for (int g = 0; g < ng; g++) {
            float a = p[g];
            for (int64_t q = q0[g] + m; q < q1[g]; q++) {
                if (q + OPK_CHEB_PREFETCH < nnz)
                    __builtin_prefetch(v + (size_t)col[q + OPK_CHEB_PREFETCH] * ldv);
                a = fmaf(val[q], v[(size_t)col[q] * ldv], a);
            }
            const size_t r = i + (size_t)g;
            const float vi = v[r * ldv], gv = j->gamma * vi;
            const float b = fmaf(j->alpha, a, gv);
            float t, y;
            if (s->w) {
                const float d = 2.0f * b;
                t = d - s->w[r * s->ldw];
                y = fmaf(s->c, t, s->y[r * s->ldy]);
            } else {
                const float y0 = s->c0 * vi;
                t = b;
                y = fmaf(s->c, t, y0);
            }
            if (s->t)
                s->t[r * s->ldt] = t;
            s->y[r * s->ldy] = y;
        }
    }
}

#endif
