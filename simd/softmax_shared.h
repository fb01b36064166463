/* What the SIMD softmax kernels of every ISA share (no intrinsics here).
 *
 * 1. How they find SPEC 3.1's max and special rows with fewer operations
 * than the scalar reference, same bits.
 *
 * The max of t_j = fl(beta * x_j) comes from one reduction of x: fl is
 * monotone, so max_j t_j = fl(beta * max_j x_j) for beta >= 0 and
 * fl(beta * min_j x_j) for beta < 0 (+inf, overflow and beta = 0 included:
 * 0 * +-inf is NaN, which marks a NaN row as SPEC asks). maxps/minps with
 * the accumulator second ignore a NaN x, so pass 1 is a load and a max.
 *
 * NaNs are found by the sum instead: pass 2 runs with m' = m, or 0 when
 * m = -inf, so e = E(fl(t - m')) is NaN exactly where t is NaN (E(NaN) is
 * NaN, E(-inf) = +0) and s = sum of e is NaN iff the row holds a NaN. An
 * all -inf row then has s = +0.
 *
 * A zero max (+0 or -0) may differ in sign from the scalar one; that never
 * shows: every t equal to it gives d = +-0 and E(d) = 1, and log-softmax's
 * d - Lg(s) could only keep the sign of d if s = 1, i.e. one zero t, which
 * is then the max itself (d = +0 either way).
 *
 * 2. Column mode's blocking. Each block of columns needs three passes over
 * all rows. Its row segments are short and, with a leading dimension that
 * is a multiple of the page size, all at the same page offset: they alias
 * to a few cache sets, cost a TLB miss each and defeat the hardware
 * prefetchers. So pass 1 copies the block into a contiguous per-thread
 * buffer (rows x width) while it takes the max; passes 2 and 3 work on
 * the copy (softmax's e overwrites x there), and X is read once, Y
 * written once (streamed when it exceeds the last-level cache). The passes
 * of three consecutive blocks run in one sweep down the rows (max and copy
 * of block k + 1, exps of block k, output of block k - 1), so memory
 * traffic overlaps the exps. Rows ahead of pass 1 are prefetched. */
#ifndef OPK_SIMD_SOFTMAX_SHARED_H
#define OPK_SIMD_SOFTMAX_SHARED_H

#include <math.h>
#include <stddef.h>

#include "../kernels/common.h"
#include "cache.h"

enum { OPK_SM_REGULAR, OPK_SM_LOW, OPK_SM_NAN };

/* m = max_j t_j from the max (beta >= 0) or min (beta < 0) of x. */
static inline float opk_sm_max_t(float beta, float x_extreme)
{
    return beta * x_extreme;
}

/* The m' pass 2 subtracts. */
static inline float opk_sm_shift(float m)
{
    return m == -INFINITY ? 0.0f : m;
}

/* The class from m and the pass-2 sum s. */
static inline int opk_sm_class(float m, float s)
{
    if (m != m || m == INFINITY || s != s)
        return OPK_SM_NAN;
    return m == -INFINITY ? OPK_SM_LOW : OPK_SM_REGULAR;
}

/* The value of every element of a special row. */
static inline float opk_sm_special(int cls, int log)
{
    return cls == OPK_SM_NAN ? NAN : (log ? -INFINITY : 0.0f);
}

/* Column mode's three block copies, rows x ldw floats each; NULL when
 * above 64 MiB (they would not stay cached: the passes then read X and
 * softmax keeps e in Y) or out of memory. */
static inline float *opk_sm_col_bufs(size_t rows, size_t ldw)
{
    if (rows > ((size_t)64 << 20) / sizeof(float) / ldw / 3)
        return NULL;
    return (float *)opk_alloc(3 * rows * ldw * sizeof(float));
}

/* Rows ahead that the column passes prefetch. */
#define OPK_SM_COL_PF_ROWS 8

/* Columns per block: a multiple of 16 in [16, max_w], such that the
 * three block copies of a thread take at most a quarter of the last-level
 * cache (two threads, headroom). */
static inline size_t opk_sm_col_block(size_t rows, size_t max_w)
{
    size_t w = opk_llc_bytes() / 4 / (rows * sizeof(float) * 3);
    w &= ~(size_t)15;
    return w < 16 ? 16 : w > max_w ? max_w : w;
}

#endif
