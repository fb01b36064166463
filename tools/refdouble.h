/* Double-precision evaluations of the kernels' math, for error reports and
 * tests. Each returns the largest error metric over the output and stores
 * the bound that metric must stay under in *tol.
 *
 * Metric: softmax |y - yd| / max(|yd|, FLT_MIN) (relative, and absolute
 * against FLT_MIN for values that underflow); log-softmax
 * |y - yd| / max(|yd|, 1). NaN where the reference is NaN counts as 0;
 * any other NaN disagreement as +inf.
 *
 * Bound, with u = 2^-24, T = max |beta * x| over finite entries, L the
 * summation bound (n/16 + 4 for lane16 over n, n for seq over n):
 *   u * (8T + L + 2 log2(n) + 8)
 * from: t and t - m rounding (<= 4T u in the exp argument, i.e. 4T u
 * relative in e), E's 1 ULP (2u), the sum of positive terms (L u relative),
 * the reciprocal and product (2u); log-softmax adds Lg's ULP and one
 * subtraction. */
#ifndef OPK_REFDOUBLE_H
#define OPK_REFDOUBLE_H

#include <stddef.h>

double ref_softmax_error(const float *x, size_t ldx, const float *y,
                         size_t ldy, size_t rows, size_t cols, float beta,
                         int by_cols, int is_log, double *tol);

#endif
