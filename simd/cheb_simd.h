/* Decisions shared by the AVX2 and AVX-512 Chebyshev kernels (no
 * intrinsics here). Both keep SPEC 3.3's order exactly: p_if is one fma
 * chain over row i's entries in stored order, whatever runs in the lanes.
 *
 * F < 8: lanes are rows. A group of W consecutive rows advances one stored
 * entry per step, each lane gathering its own row's column, value and
 * v[col][f]; lanes whose row has ended are masked (their p is kept
 * exactly, so -0 stays -0). A row much longer than its thread's average
 * (a hub of a power-law graph) would idle the other W-1 lanes for its
 * whole length: such rows leave the group and run through the scalar
 * reference (the same chain, so the same bits).
 * F >= 8: lanes are feature columns; rows one after another, entries in
 * stored order, v rows prefetched a few entries ahead (random columns
 * defeat the hardware prefetcher). */
#ifndef OPK_SIMD_CHEB_H
#define OPK_SIMD_CHEB_H

#include <stdint.h>

#include "../dispatch/backend.h"

/* Rows longer than this leave the lane groups (see above). */
static inline int64_t opk_cheb_long_row(const opk_cheb_job *j, size_t r0,
                                        size_t r1)
{
    int64_t avg = (j->row_ptr[r1] - j->row_ptr[r0]) / (int64_t)(r1 - r0);
    int64_t t = 4 * avg;
    return t > 64 ? t : 64;
}

/* Whether every gather index of the lane-per-row path fits in int32:
 * col * ldv + f for v, lane * ld + f for v, w, t, y rows of a group, and
 * the entry offsets inside a group (checked per group). */
static inline int opk_cheb_lanes_fit(const opk_cheb_job *j,
                                     const opk_cheb_step *s)
{
    const uint64_t lim = INT32_MAX;
    uint64_t ld = s->ldv;
    if (s->w && s->ldw > ld)
        ld = s->ldw;
    if (s->t && s->ldt > ld)
        ld = s->ldt;
    if (s->ldy > ld)
        ld = s->ldy;
    return ld <= (lim >> 5) && (uint64_t)(j->n - 1) * s->ldv + j->F <= lim;
}

/* Entries ahead of the current one whose v row is prefetched. */
#define OPK_CHEB_PREFETCH 24

#endif
