/* Decisions shared by the AVX2 and AVX-512 Chebyshev kernels (no
 * intrinsics here). Both keep SPEC 3.3's order exactly: p_if is one fma
 * chain over row i's entries in stored order.
 *
 * Layout: lanes are feature columns (a masked vector when F is not a
 * multiple of the width; plain scalar fmas when F = 1), rows one after
 * another. What bounds a large graph is memory: the rows of v that random
 * columns point to (one per stored entry) and the column/value streams.
 * So v rows are prefetched OPK_CHEB_PREFETCH stored entries ahead (random
 * columns defeat the hardware prefetcher), and the column/value lines
 * OPK_CHEB_STREAM entries ahead, non-temporally.
 *
 * Measured alternatives (AMD EPYC, AVX-512, this project's 2-core VM):
 * - lanes = rows with hardware gathers (SELL-C-sigma without a
 *   conversion), the first version (git history): a 16-lane vpgatherdd
 *   costs about 20 ns here, 1.2 ns per element, and the kernel needs three
 *   per step (column, value, v[col]): 2.7 ns per stored entry for F = 1 in
 *   cache against about 1 ns with plain loads. A SELL conversion kept in a
 *   handle would still gather v[col] at 1.2 ns per entry.
 * - G rows interleaved (G independent fma chains): 20% faster in cache,
 *   30-50% slower on the 1M-node graph, where the prefetch distance is
 *   what matters. */
#ifndef OPK_SIMD_CHEB_H
#define OPK_SIMD_CHEB_H

#include <math.h>
#include <stdint.h>

#include "../dispatch/backend.h"

/* Stored entries ahead whose column and value lines are prefetched
 * non-temporally: they are read once per order, and on this machine's
 * victim-filled L3 a plain stream of them would evict the v rows that the
 * random columns keep coming back to. */
#ifndef OPK_CHEB_STREAM
#define OPK_CHEB_STREAM 512
#endif

/* Prefetches (non-temporal) the column and value lines of stored entries
 * [a, b) + OPK_CHEB_STREAM, clamped to nnz: the rows a few ahead, each
 * line once or twice. */
static inline void opk_cheb_stream(const opk_cheb_job *j, int64_t a, int64_t b,
                                   int64_t nnz)
{
    if (!OPK_CHEB_STREAM)
        return;
    a += OPK_CHEB_STREAM, b += OPK_CHEB_STREAM;
    b = b < nnz ? b : nnz;
    for (int64_t q = a & ~(int64_t)15; q < b; q += 16) {
        __builtin_prefetch(j->col_idx + q, 0, 0);
        __builtin_prefetch(j->val + q, 0, 0);
    }
}

/* Stored entries ahead whose v row is prefetched. */
#ifndef OPK_CHEB_PREFETCH
#define OPK_CHEB_PREFETCH 32
#endif

/* F = 1: one scalar fma chain per row (compiled in each ISA's files,
 * with -mfma), with the prefetches above. */
static inline void opk_cheb_rows_f1(const opk_cheb_job *j,
                                    const opk_cheb_step *s, size_t r0,
                                    size_t r1)
{
    const int32_t *col = j->col_idx;
    const float *val = j->val, *v = s->v;
    const size_t ldv = s->ldv;
    const int64_t nnz = j->row_ptr[j->n];
    for (size_t i = r0; i < r1; i++) {
        const int64_t q0 = j->row_ptr[i], q1 = j->row_ptr[i + 1];
        opk_cheb_stream(j, q0, q1, nnz);
        float p = 0.0f;
        for (int64_t q = q0; q < q1; q++) {
            if (q + OPK_CHEB_PREFETCH < nnz)
                __builtin_prefetch(v + (size_t)col[q + OPK_CHEB_PREFETCH] * ldv);
            p = fmaf(val[q], v[(size_t)col[q] * ldv], p);
        }
        const float vi = v[i * ldv], gv = j->gamma * vi;
        const float b = fmaf(j->alpha, p, gv);
        float t, y;
        if (s->w) {
            const float d = 2.0f * b;
            t = d - s->w[i * s->ldw];
            y = fmaf(s->c, t, s->y[i * s->ldy]);
        } else {
            const float y0 = s->c0 * vi;
            t = b;
            y = fmaf(s->c, t, y0);
        }
        if (s->t)
            s->t[i * s->ldt] = t;
        s->y[i * s->ldy] = y;
    }
}

#endif
