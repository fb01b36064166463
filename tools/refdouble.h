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

/* Sinkhorn (SPEC 3.2) in double, log domain, on t_ij = (double)fl(beta*S_ij)
 * (the float t is the problem the kernel solves), from g = 0, exactly
 * `iters` full iterations; zero masses give -inf. a, b NULL: defaults.
 * Writes fd (n), gd (m); returns B, the largest magnitude seen among the
 * finite t, potentials and LSE values of all iterations. */
double ref_sinkhorn(const float *S, size_t lds, size_t n, size_t m,
                    float beta, const float *a, const float *b, int iters,
                    double *fd, double *gd);

/* Largest |f - fd|, |g - gd| of a float run of `iters` iterations against
 * ref_sinkhorn (+inf if -inf entries disagree), with the bound *tol:
 *   iters * (d_row + d_col),
 *   d_row = u (16 B + m/16 + 2 log2 m + 12), d_col = u (16 B + n + 2 log2 n + 8)
 * because each float update is within d of the exact update of its own
 * (float) input (rounding of t + g, t + g - M, E's ULP, the lane16 or seq
 * sum, Lg, the two subtractions; every term bounded by B), and the exact
 * update x -> la - LSE(t + x) is 1-Lipschitz in the max norm, so the
 * differences add up at most linearly over the 2 * iters updates. */
double ref_sinkhorn_error(const float *S, size_t lds, size_t n, size_t m,
                          float beta, const float *a, const float *b,
                          int iters, const float *f, const float *g,
                          double *tol);

/* Row and column sums, in double, of P_ij = exp(t_ij + f_i + g_j) for float
 * potentials (t as above): rs (n), cs (m). */
void ref_sinkhorn_marginals(const float *S, size_t lds, size_t n, size_t m,
                            float beta, const float *f, const float *g,
                            double *rs, double *cs);

/* The error metric of SPEC 3.2 evaluated in double from float potentials:
 * sum_i |sum_j P_ij - a_i|. *tol bounds |err_float - err_double|:
 *   u ((6 B + m/16 + 8) sum_i r_i + (n + 1) err + n max a_i)
 * (P_ij from fl(fl(t + f) + g) and E: (5B + 2) u relative; lane16 over m;
 * the subtraction; the seq over n). */
double ref_sinkhorn_err(const float *S, size_t lds, size_t n, size_t m,
                        float beta, const float *a, const float *f,
                        const float *g, double *tol);

#endif
