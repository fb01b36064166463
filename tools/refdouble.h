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

/* Damped attention (SPEC 3.4), tools/ref_attention.c. norm is an opk_norm
 * value; h NULL means H = V; g (n x dv) is the graph term G as opk_cheb
 * computes it (float; checked on its own by ref_cheb_error, whose
 * error/bound ratio is g_ratio), or NULL.
 *
 * Metric: max |o - od| / scale, scale = max|V| + max|H| + max|G|, od =
 * (1-tau) H + tau ((1-lambda_g) B + lambda_g G) in double with the float
 * parameters and B = A V in double. Bound u * (C_B + 6) with C_B B's error
 * over u max|V|:
 *   softmax: 2 D_S + 2 (nb + 1)(2 Smax + 2) + 3 nb + m + 12
 *   sigmoid: 2 (4 + D_S) + m + nb + 12
 *   linear:  L * 2m (1 + 2m / den_min) / den_min + 4,
 *            L = m + 3d + 16 (+ 2(n + m) with the global norm)
 *   sinkhorn: 2 D_S h + 2 h (4 Smax + 16 + max(n, m) / 16) + m + 8
 * where D_S = (d + 3) |gamma| max_ij sum_k |q_ik k_jk| bounds S's error
 * over u (the dot's fma chain, gamma's two roundings, the product), Smax =
 * max |S|, nb = ceil(m / 64) key blocks (each rescale multiplies errors of
 * E(fl(m - mn)) into every earlier term: 2 Smax u from the subtraction,
 * 2u from E), m u the fma chain over the keys, den_min the smallest
 * denominator m + q^.ks (its reciprocal amplifies the sums' errors), h the
 * Sinkhorn half-steps (each LSE: E's and Lg's ULPs, subtractions of
 * arguments up to 2 Smax plus the potentials, the lane16 sum; carried into
 * every later half-step and into both potentials of P). Each factor 2 on a
 * weight's error: a softmax weight enters numerator and denominator.
 * With a graph the metric becomes max(that, g_ratio * bound), so that the
 * one number covers both parts. */
typedef struct ref_attn_in {
    const float *q, *k, *v, *h;
    size_t ldq, ldk, ldv, ldh;
    size_t n, m, d, dv;
    int norm;
    float beta, tau;
    int iters, global;
    const float *g;
    size_t ldg;
    float lambda_g;
    double g_ratio;
} ref_attn_in;

/* B = A V (n x dv, dense) in double and C_B; -1 on a zero norm (linear). */
int ref_attention_B(const ref_attn_in *a, double *B, double *cb);
double ref_attention_error(const ref_attn_in *a, const float *o, size_t ldo,
                           double *tol);
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
