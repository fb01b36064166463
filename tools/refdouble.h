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
#include <stdint.h>

double ref_softmax_error(const float *x, size_t ldx, const float *y,
                         size_t ldy, size_t rows, size_t cols, float beta,
                         int by_cols, int is_log, double *tol);

/* ---- Chebyshev propagation (SPEC 3.3) ----
 * ref_cheb: Y = sum c_k T_k(L~) X in double with the kernel's float alpha
 * and gamma (so only the kernel's roundings differ), into yd (n x F, ld F);
 * 0, or -1 when out of memory.
 *
 * ref_cheb_error: metric max_f ||Y_f - Yd_f||_2 / B_f, bound *tol = 1.
 * B_f bounds the float error of column f when L~ = alpha L + gamma I is
 * symmetric with its spectrum in [-1, 1] (lmin <= lambda(L) <= lmax):
 *   local error of order k, row i (m_i entries, M_i = |alpha| sum|L_ij||v_j|
 *   + |gamma||v_i|, w = T_{k-2}):  d_ki <= u ((2 m_i + 8) M_i + 2 |w_i|)
 *   propagation: e_k = sum_{j<=k} U_{k-j}(L~) d_j, ||U_m(L~)||_2 <= m + 1
 *   Y: the fma chain adds u (K + 2) ||sum_k |c_k| |T_k| ||_2
 *   B_f = 2.2 (sum_k |c_k| ||e_k||_2 + that), the 2.2 covering second-order
 *   terms and float L~ reaching slightly past [-1, 1]. */
int ref_cheb(const int64_t *row_ptr, const int32_t *col_idx,
                const float *val, size_t n, float lmin, float lmax,
                const float *c, size_t K, const float *x, size_t ldx,
                size_t F, double *yd);
double ref_cheb_error(const int64_t *row_ptr, const int32_t *col_idx,
                      const float *val, size_t n, float lmin, float lmax,
                      const float *c, size_t K, const float *x, size_t ldx,
                      const float *y, size_t ldy, size_t F, double *tol);

/* Symmetric eigendecomposition by cyclic Jacobi (double): A (n x n,
 * row-major, destroyed) = V diag(w) V^T, eigenvectors in V's columns,
 * w ascending. Returns the number of sweeps, -1 if not converged. */
int ref_sym_eig(size_t n, double *A, double *w, double *V);

#endif
