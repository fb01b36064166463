/* Sinkhorn internals shared by the entry point (sinkhorn_entry.c), the
 * solver (sinkhorn.c) and the backends' column passes. */
#ifndef OPK_SINKHORN_IMPL_H
#define OPK_SINKHORN_IMPL_H

#include <math.h>

#include "../dispatch/backend.h"

/* g_j = fl(Lg(b_j) - LSE_j) with LSE = M == -inf ? -inf : fl(M + Lg(s)), and
 * -inf directly for a zero mass (lb = -inf). lgs = Lg(s_j). */
static inline float opk_sinkhorn_g(float lb, float M, float lgs)
{
    float lse = M == -INFINITY ? -INFINITY : M + lgs;
    return lb == -INFINITY ? -INFINITY : lb - lse;
}

/* A validated call. */
typedef struct opk_sk_problem {
    opk_cmat S;
    float beta;
    const float *a, *b; /* NULL: defaults */
    opk_sinkhorn_opts opts;
    float tol;          /* resolved (SPEC 3.2 default for tol < 0) */
    const opk_mat *P;   /* NULL: no plan */
} opk_sk_problem;

/* Scratch of one solve: O(n + nt * m) floats, one allocation. */
typedef struct opk_sk_scratch {
    int nt;
    float *la, *lb;   /* Lg of the masses, -inf for zero masses */
    float *f[2], *g;  /* f double-buffered: a discarded update keeps f */
    float *cmax;      /* merged column maxima */
    float *parts;     /* nt rows of part_ld: per-thread column maxima */
    size_t part_ld;
    float *r;         /* row sums of P for the error */
    float *scr;       /* nt rows of scr_ld: per-thread scratch of the passes */
    size_t scr_ld;
    float *fcur;      /* set by the solver: which f is the result */
    void *mem;
} opk_sk_scratch;

/* Runs the iteration on ctx's backend (SPEC 3.2); never fails. */
opk_status opk_sinkhorn_solve(const opk_ctx *ctx, const opk_sk_problem *pb,
                              opk_sk_scratch *sc, opk_sinkhorn_info *out);

#endif
