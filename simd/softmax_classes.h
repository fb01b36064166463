/* How the SIMD softmax kernels of every ISA find SPEC 3.1's max and special
 * rows with fewer operations than the scalar reference, same bits (no
 * intrinsics here).
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
 * is then the max itself (d = +0 either way). */
#ifndef OPK_SIMD_SOFTMAX_CLASSES_H
#define OPK_SIMD_SOFTMAX_CLASSES_H

#include <math.h>

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

#endif
