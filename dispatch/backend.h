/* The backend table: one opk_ops per backend, filled by the backend's own
 * files (simd/<isa>/table.c, kernels/scalar_table.c). Generic code calls
 * kernels only through it and never includes an intrinsics header. */
#ifndef OPK_BACKEND_H
#define OPK_BACKEND_H

#include <stddef.h>
#include "opk.h"

/* One softmax call, already validated. Rows/columns are independent, so the
 * generic layer hands each thread a range; a kernel writes only that range. */
typedef struct opk_softmax_job {
    const float *x;
    size_t ldx;
    float *y;
    size_t ldy;
    size_t rows, cols;
    float beta;
    int log; /* log-softmax */
} opk_softmax_job;

/* One opk_cheb call, already validated (SPEC 3.3): L (n x n CSR, stored
 * order = summation order), F feature columns, alpha and gamma of L~. */
typedef struct opk_cheb_job {
    const int64_t *row_ptr;
    const int32_t *col_idx;
    const float *val;
    size_t n, F;
    float alpha, gamma;
} opk_cheb_job;

/* One order k >= 1 of the recurrence, fused with the Y update. For each row
 * i and column f, with p_if the fma chain over row i's entries of v:
 *   a = fma(alpha, p_if, fl(gamma * v_if))
 *   w == NULL (k = 1):  t_if = a;                 y_if = fma(c, t_if, fl(c0 * v_if))
 *   else (k >= 2):      t_if = fl(fl(2 a) - w_if); y_if = fma(c, t_if, y_if)
 * t may be w (T_k overwrites T_{k-2}: row i reads only its own w row);
 * t == NULL: T_k is not stored (the last order). v is never written. */
typedef struct opk_cheb_step {
    const float *v; /* T_{k-1} (X when k = 1), gathered by column */
    size_t ldv;
    const float *w; /* T_{k-2}, NULL when k = 1 */
    size_t ldw;
    float *t;
    size_t ldt;
    float *y;
    size_t ldy;
    float c, c0;
} opk_cheb_step;

/* Column ranges handed to kernels start at multiples of this. */
#define OPK_COL_ALIGN 16


/* One attention call (SPEC 3.4), already validated; see kernels/attention.c.
 * Query rows are independent: threads get row ranges. */
typedef struct opk_attn_job {
    const float *q, *k, *v, *h; /* h is V when the caller passed H = NULL */
    size_t ldq, ldk, ldv, ldh;
    const float *g; /* graph term G (n x dv), NULL without a graph */
    size_t ldg;
    float *o;
    size_t ldo;
    size_t n, m, d, dv;
    int norm;    /* opk_norm */
    float gamma; /* fl(beta / Sq(d)) */
    /* Mixing: g ? fma(a3, G, fma(a2, B, fl(a1 H))) : fma(tau, B, fl(a1 H)) */
    float tau, a1, a2, a3;
    /* Key blocks of OPK_ATTN_BLOCK packed by opk_attn_pack (NULL if the
     * backend packs nothing): per block, K^T (d x 64, zero-padded keys),
     * then V (64 x dvp, zero-padded); block stride OPK_ATTN_BLOCK*(d+dvp). */
    const float *pack;
    size_t dvp; /* dv rounded up to a multiple of 16 */
} opk_attn_job;

/* The shared packing of key blocks (plain C, kernels/attention.c), for the
 * attn_pack entries of the SIMD tables. */
void opk_attn_pack_blocks(const opk_attn_job *j, size_t b0, size_t b1,
                          float *pack);

/* Keys per online-softmax block (SPEC 3.4). */
#define OPK_ATTN_BLOCK 64
/* Query rows per tile of the fused kernels: their running state (max, sum,
 * dvp accumulators) lives in the thread's scratch. */
#define OPK_ATTN_TILE 64
/* Scratch floats per thread for attn_fused_rows. */
#define OPK_ATTN_SCRATCH(dvp) \
    ((size_t)OPK_ATTN_TILE * ((dvp) + 2 * OPK_ATTN_BLOCK + 16))

/* Scratch floats per thread for attn_linear_rows: a transposed block of up
 * to 64 query rows, their scales and denominators. */
#define OPK_ATTN_LINEAR_SCRATCH(d, dvp) (64 * ((d) + 16) + (dvp) + 64)

/* Rows a call of attn_linear_kv prefetches into L2, spread over its keys:
 * what its thread reads next (rows of K whose scales it may compute).
 * rows = 0: none. Hints only. */
typedef struct opk_attn_pf {
    const float *x;
    size_t ld, cols, rows;
} opk_attn_pf;

/* Linear mode (SPEC 3.4): the key-side sums, reduced over all keys in one
 * fixed order. kv: d x dvp (KV_kf), ks: d, vs: dvp. */
typedef struct opk_attn_linear {
    const float *rk; /* m scales of K (global norm), or NULL: the KV kernel
                      * computes the row scales fl(1 / Sq(dot)) itself */
    const float *rq; /* n scales of Q (global norm), or NULL: the rows
                      * kernel computes the row scales itself */
    float *kv, *ks, *vs;
    /* 1: O = fma(tau, B, fl(a1 H)) with a1 = +0 (tau = 1), no graph, H = V
     * and V finite (every column sum vs is): fl(a1 H) is a zero with H's
     * sign, which shows only where B is +-0, so H is read only for those
     * vectors of O (the rows kernel skips H's 4 n dv bytes otherwise). */
    int h_sign_only;
    opk_attn_pf pf; /* per call of attn_linear_kv */
} opk_attn_linear;
/* One Sinkhorn solve (SPEC 3.2), already validated. The generic layer owns
 * the iteration; kernels do one pass over S for a range of rows or columns.
 * t_ij = fl(beta * s_ij) is recomputed on every pass (S is never copied). */
typedef struct opk_sinkhorn_job {
    const float *s;
    size_t lds;
    size_t rows, cols;
    float beta;
    const float *la;  /* Lg(a_i), n; -inf marks a zero mass */
    const float *lb;  /* Lg(b_j), m; -inf marks a zero mass */
    const float *f;   /* the current f: read by CHECK/PLAN and the column pass */
    float *fnew;      /* UPDATE writes the new f here */
    float *g;         /* read by the row pass, written by the column pass */
    const float *cmax; /* column pass: max_i fl(t_ij + f_i), m */
    float *r;         /* CHECK: r_i = lane16_j P_ij, n */
    float *p;         /* PLAN: P_ij = E(fl(fl(t_ij + f_i) + g_j)) */
    size_t ldp;
} opk_sinkhorn_job;

/* Row pass modes (combinable, except PLAN with UPDATE: P may be S). */
#define OPK_SK_UPDATE 1u /* fnew_i = fl(la_i - LSE_j fl(t_ij + g_j)), and
                            cmax_j = max(cmax_j, fl(t_ij + fnew_i)) */
#define OPK_SK_CHECK 2u  /* r_i from f and g */
#define OPK_SK_PLAN 4u   /* CHECK, and write P */

typedef struct opk_ops {
    opk_backend id;
    /* Rows [r0, r1). scratch: cols floats, 64-byte aligned, private to the
     * calling thread. */
    void (*softmax_rows)(const opk_softmax_job *j, size_t r0, size_t r1,
                         float *scratch);
    /* Columns [c0, c1), c0 a multiple of OPK_COL_ALIGN. scratch: at least
     * 2 * (c1 - c0) + 64 floats, 64-byte aligned, private to the thread. */
    void (*softmax_cols)(const opk_softmax_job *j, size_t c0, size_t c1,
                         float *scratch);

    /* Whole-call entry points, for device backends (opencl) that take a
     * validated call at once instead of per-thread ranges. The generic layer
     * calls one when non-NULL, after its argument checks and the zero-size
     * early return, and returns its status. CPU backends leave them NULL. */
    opk_status (*softmax_call)(opk_ctx *ctx, const opk_softmax_job *j,
                               opk_axis axis);

    /* ---- attention (kernels/attention.c) ---- */
    /* Packs key blocks [b0, b1) for the fused kernels; NULL: none needed. */
    void (*attn_pack)(const opk_attn_job *j, size_t b0, size_t b1,
                      float *pack);
    /* Softmax or sigmoid mode, fused; query rows [r0, r1). scratch:
     * OPK_ATTN_SCRATCH(dvp) floats, 64-byte aligned, private. */
    void (*attn_fused_rows)(const opk_attn_job *j, size_t r0, size_t r1,
                            float *scratch);
    /* Linear mode. r[i] = dot(x_i, x_i) for rows [r0, r1) of X (cols
     * wide, row stride ld), or fl(1 / Sq(dot)) with inv (+inf: a zero row). */
    void (*attn_row_dots)(const float *x, size_t ld, size_t cols, size_t r0,
                          size_t r1, int inv, float *r);
    /* Adds keys [j0, j1) to rows [k0, k1) of KV and ks, in key order, and
     * to vs with do_vs. Without l->rk, *zero gets the first key in
     * [j0, j1) of norm zero (SIZE_MAX if none; nothing else promised). */
    void (*attn_linear_kv)(const opk_attn_job *j, const opk_attn_linear *l,
                           size_t k0, size_t k1, size_t j0, size_t j1,
                           int do_vs, size_t *zero);
    /* Query rows [r0, r1) of the linear mode, with the mixing. scratch:
     * OPK_ATTN_LINEAR_SCRATCH(d, dvp) floats, 64-byte aligned, private. */
    void (*attn_linear_rows)(const opk_attn_job *j, const opk_attn_linear *l,
                             size_t r0, size_t r1, float *scratch);
    /* Sinkhorn mode. Scores S_ij (SPEC 3.4) of rows [r0, r1) into s (row
     * stride lds >= m rounded up to 16; columns up to that may be written).
     * Uses the packed blocks when the backend packs. */
    void (*attn_scores)(const opk_attn_job *j, size_t r0, size_t r1, float *s,
                        size_t lds);
    /* B = P V (fma chain over j ascending from +0), mixed into O, for rows
     * [r0, r1). scratch: OPK_ATTN_SCRATCH(dvp) floats, private. */
    void (*attn_pv_rows)(const opk_attn_job *j, const float *p, size_t ldp,
                         size_t r0, size_t r1, float *scratch);
    /* Sinkhorn row pass over rows [r0, r1) (see OPK_SK_*). cmax: this
     * thread's m column maxima, which UPDATE raises (NaN-aware max).
     * scratch: cols + 64 floats, 64-byte aligned, private. */
    void (*sinkhorn_rows)(const opk_sinkhorn_job *j, size_t r0, size_t r1,
                          unsigned mode, float *cmax, float *scratch);
    /* Sinkhorn column pass: g_j for columns [c0, c1), c0 a multiple of
     * OPK_COL_ALIGN, from f and cmax; rows in ascending order (seq).
     * scratch: c1 - c0 + 64 floats, 64-byte aligned, private. */
    void (*sinkhorn_cols)(const opk_sinkhorn_job *j, size_t c0, size_t c1,
                          float *scratch);
    /* One Chebyshev order over rows [r0, r1) (see opk_cheb_step). */
    void (*cheb_rows)(const struct opk_cheb_job *j,
                      const struct opk_cheb_step *s, size_t r0, size_t r1);

    /* Whole-call Sinkhorn for device backends (see softmax_call), called
     * after every check (scores scanned, masses and Lg of the masses ready).
     * j: s, lds, rows, cols, beta, la, lb, and p/ldp (NULL: no plan); the
     * result potentials go to j->fnew (n) and j->g (m), written only on
     * success. a: the row masses for the error (NULL: 1); tol resolved. */
    opk_status (*sinkhorn_call)(opk_ctx *ctx, const opk_sinkhorn_job *j,
                                const float *a, const opk_sinkhorn_opts *opts,
                                float tol, opk_sinkhorn_info *info);
    /* Whole-call Chebyshev propagation for device backends (see
     * softmax_call): Y = sum_k c_k T_k X for the validated j (n, F >= 1). */
    opk_status (*cheb_call)(opk_ctx *ctx, const struct opk_cheb_job *j,
                            const float *c, size_t K, opk_cmat X, opk_mat Y);
    /* Whole-call attention for device backends (see softmax_call), called
     * after every check and after the graph term G (j->g) is computed:
     * writes O (j->o) only on success. */
    opk_status (*attention_call)(opk_ctx *ctx, const opk_attn_job *j,
                                 int sinkhorn_iters, int linear_global_norm);
    /* Linear mode: the first row in [r0, r1) of X (cols wide, row stride
     * ld) whose dot(x_i, x_i) is +0, else SIZE_MAX. */
    size_t (*attn_zero_row)(const float *x, size_t ld, size_t cols, size_t r0,
                            size_t r1);
    /* y_i = E(x_i) (fn 0), Lg(x_i) (fn 1), Sq(x_i) (fn 2) or E(x_i) for
     * x_i <= 0 or NaN (fn 3, v_E_le0) with the backend's own vector
     * functions: for tests/test_math.c (CPU backends). */
    void (*math_n)(int fn, const float *x, float *y, size_t n);
} opk_ops;

extern const opk_ops opk_ops_scalar;
#ifdef OPK_HAVE_AVX2
extern const opk_ops opk_ops_avx2;
#endif
#ifdef OPK_HAVE_AVX512
extern const opk_ops opk_ops_avx512;
#endif
#ifdef OPK_HAVE_NEON
extern const opk_ops opk_ops_neon;
#endif

#ifdef OPK_HAVE_OPENCL
/* The opencl table (cl/table.c): whole-call entry points of the kernels
 * ported to OpenCL; NULL elsewhere (see opk_unported). */
const opk_ops *opk_ops_opencl(void);
#endif

/* The table for a concrete backend if compiled in, else NULL. */
const opk_ops *opk_ops_for(opk_backend b);

#endif
