/* Decisions shared by the AVX2 and AVX-512 Chebyshev kernels (no
 * intrinsics here). Both keep SPEC 3.3's order exactly: p_if is one fma
 * chain over row i's entries in stored order.
 *
 * Layout: lanes are feature columns (a masked vector when F is not a
 * multiple of the width; plain scalar fmas when F = 1), rows one after
 * another. What bounds a large graph is memory: the rows of v that random
 * columns point to (one per stored entry) and the column/value streams.
 * So v rows are prefetched OPK_CHEB_PREFETCH stored entries ahead: random
 * columns defeat the hardware prefetcher.
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
 *   what matters.
 * - non-temporal prefetch of the column/value streams (to keep them from
 *   evicting v from the L3): 10-20% slower for F = 1, no gain for F = 16.
 * - F = 1 with no branch per row (tried, not kept): a block's entries
 *   in 4 interleaved streams, each one fma chain zeroed after a row's last
 *   entry by a mask, row sums picked up afterwards. 12% faster on a
 *   90K-node graph, 2-3% (noise) on the 1M-node one, where `opk bench`'s
 *   F = 1 gather row (the loads alone, 8 independent sums) is only 1.4x
 *   faster than this kernel.
 * - Where F = 1's time goes on the 1M-node graph (p alone, 20 orders, 2
 *   threads, ranges over 6 interleaved runs; not the same bits where the
 *   graph is changed): as stored 152-194 ms; every v read confined to
 *   64 KB (L1) 141-177 ms, so the L3 reads of v cost 6-15%; every row 11
 *   entries long (the same nnz, loop exits predictable) 124-140 ms, so the
 *   mispredicted end of each row costs about 20%; both 104-112 ms. Two ways
 *   around the branch, same bits, both slower (prototypes, not kept):
 *   the stored entries of a block of 256 rows as one flat stream in NS
 *   interleaved chains, each zeroed by an and-mask after a row's last
 *   entry, p stored per entry and picked up per row: NS = 1 198-202 ms
 *   against 153 for this kernel in the same runs; NS = 2, 4, 8: 235,
 *   311-327, 448-483 against 190-217 (more chains, slower: not explained
 *   without counters); and columns in 4-16 panels (v's panel in L2, each
 *   row's chain carried across the panels in order, valid for ascending
 *   rows only): 440-730 ms, each row now P short segments, each with its
 *   own unpredictable end.
 * - SELL-16 kept in a handle, with no hardware gather (prototype, not
 *   kept): per chunk of 16 rows, v[col] for every slot by scalar loads
 *   into an L1 buffer, then masked 16-lane fmas, same bits as this kernel.
 *   On the 1M-node graph, p alone for 20 orders: 246 ms against 148 ms
 *   with 2 threads, 513 against 308 with 1. Padding (1.43x slots without
 *   sigma sorting) and a store and reload per slot cost more than the
 *   row chains they remove. */
#ifndef OPK_SIMD_CHEB_H
#define OPK_SIMD_CHEB_H

#include <math.h>
#include <stdint.h>

#include "../dispatch/backend.h"

/* Stored entries ahead whose v row is prefetched. */
#ifndef OPK_CHEB_PREFETCH
#define OPK_CHEB_PREFETCH 32
#endif

/* F = 1: one scalar fma chain per row (compiled in each ISA's files,
 * with -mfma), with the prefetches above. ld: the row stride of v, w, t
 * and y when all are 1 (a constant: no integer multiply per entry; 4-9%
 * faster with one thread), else 0 (their own strides). */
static inline __attribute__((always_inline)) void
opk_cheb_rows_f1_ld(const opk_cheb_job *j, const opk_cheb_step *s, size_t r0,
                    size_t r1, const size_t ld)
{
    const int32_t *col = j->col_idx;
    const float *val = j->val, *v = s->v;
    const size_t ldv = ld ? ld : s->ldv;
    const size_t ldw = ld ? ld : s->ldw, ldt = ld ? ld : s->ldt;
    const size_t ldy = ld ? ld : s->ldy;
    const int64_t nnz = j->row_ptr[j->n];
    for (size_t i = r0; i < r1; i++) {
        const int64_t q0 = j->row_ptr[i], q1 = j->row_ptr[i + 1];
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
            t = d - s->w[i * ldw];
            y = fmaf(s->c, t, s->y[i * ldy]);
        } else {
            const float y0 = s->c0 * vi;
            t = b;
            y = fmaf(s->c, t, y0);
        }
        if (s->t)
            s->t[i * ldt] = t;
        s->y[i * ldy] = y;
    }
}

static inline void opk_cheb_rows_f1(const opk_cheb_job *j,
                                    const opk_cheb_step *s, size_t r0,
                                    size_t r1)
{
    if (s->ldv == 1 && (!s->w || s->ldw == 1) && (!s->t || s->ldt == 1) &&
        s->ldy == 1)
        opk_cheb_rows_f1_ld(j, s, r0, r1, 1);
    else
        opk_cheb_rows_f1_ld(j, s, r0, r1, 0);
}

#endif
