/* Sinkhorn (SPEC 3.2): the scalar reference passes and the solver that
 * drives any backend's passes (argument checks are in sinkhorn_check.c).
 *
 * Passes over S per iteration: 2.
 *   row pass    (rows split across threads): M_i, the lane16 sum and the new
 *               f_i, then, while the row is in cache, the column maxima of
 *               fl(t_ij + f_i) that the column update needs (max ignores
 *               order, so per-thread partial maxima are merged afterwards);
 *               after a check iteration the same pass also computes the row
 *               sums of P for the error (old f, current g).
 *   column pass (columns split across threads, rows streamed in ascending
 *               order, so each column's sum is seq): g_j.
 * Plus one validation pass before the first iteration and, at the end, one
 * row pass for the error (when max_iter is reached) or for P (when asked
 * for after convergence). The error of iteration k is thus computed in the
 * row pass of iteration k+1, whose update is discarded if it converged. */
#include <math.h>
#include <string.h>

#include "../dispatch/ctx.h"
#include "common.h"
#include "lane16.h"
#include "scalar.h"
#include "sinkhorn_impl.h"
#include "sleef1.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- scalar reference ---------------------------------------------------- */

/* NaN-aware max (SPEC 1). With ±0 the sign of the result depends on order,
 * but no result depends on it: M is only used as fl(u - M) (E(±0) = 1) and
 * as fl(M + Lg(s)) with Lg(s) >= +0. */
static inline float sk_max(float m, float u)
{
    return (u > m || u != u) ? u : m;
}

/* r_i = lane16_j P_ij with P_ij = E(fl(fl(t_ij + f_i) + g_j)), written to P
 * when asked (same index as S: safe in place). */
static float row_check(const opk_sinkhorn_job *jb, size_t i, float *p)
{
    const float *s = jb->s + i * jb->lds;
    const float beta = jb->beta, fi = jb->f[i];
    opk_lane16 acc;
    opk_lane16_init(&acc);
    for (size_t j = 0; j < jb->cols; j++) {
        float e = opk_E((beta * s[j] + fi) + jb->g[j]);
        opk_lane16_add(&acc, j, e);
        if (p)
            p[j] = e;
    }
    return opk_lane16_result(&acc);
}

static void row_update(const opk_sinkhorn_job *jb, size_t i, float *cmax)
{
    if (jb->la[i] == -INFINITY) { /* zero mass: -inf directly, no column */
        jb->fnew[i] = -INFINITY;   /* maximum can change (t + -inf = -inf) */
        return;
    }
    const float *s = jb->s + i * jb->lds, *g = jb->g;
    const float beta = jb->beta;
    const size_t m = jb->cols;
    float M = -INFINITY;
    for (size_t j = 0; j < m; j++)
        M = sk_max(M, beta * s[j] + g[j]);
    float lse = -INFINITY;
    if (M != -INFINITY) {
        opk_lane16 acc;
        opk_lane16_init(&acc);
        for (size_t j = 0; j < m; j++)
            opk_lane16_add(&acc, j, opk_E((beta * s[j] + g[j]) - M));
        lse = M + opk_Lg(opk_lane16_result(&acc));
    }
    float f = jb->la[i] - lse;
    jb->fnew[i] = f;
    for (size_t j = 0; j < m; j++)
        cmax[j] = sk_max(cmax[j], beta * s[j] + f);
}

void opk_sinkhorn_rows_scalar(const opk_sinkhorn_job *jb, size_t r0,
                              size_t r1, unsigned mode, float *cmax,
                              float *scratch)
{
    (void)scratch;
    for (size_t i = r0; i < r1; i++) {
        if (mode & (OPK_SK_CHECK | OPK_SK_PLAN))
            jb->r[i] = row_check(jb, i,
                                 mode & OPK_SK_PLAN ? jb->p + i * jb->ldp : NULL);
        if (mode & OPK_SK_UPDATE)
            row_update(jb, i, cmax);
    }
}

void opk_sinkhorn_cols_scalar(const opk_sinkhorn_job *jb, size_t c0,
                              size_t c1, float *scratch)
{
    const size_t w = c1 - c0;
    const float beta = jb->beta, *cm = jb->cmax + c0;
    float *sum = scratch;
    for (size_t c = 0; c < w; c++)
        sum[c] = 0.0f;
    for (size_t i = 0; i < jb->rows; i++) {
        const float fi = jb->f[i];
        if (fi == -INFINITY) /* adds E(-inf) = +0, or NaN to a column whose */
            continue;        /* M = -inf discards its sum anyway */
        const float *s = jb->s + i * jb->lds + c0;
        for (size_t c = 0; c < w; c++)
            sum[c] = sum[c] + opk_E((beta * s[c] + fi) - cm[c]);
    }
    for (size_t c = 0; c < w; c++)
        jb->g[c0 + c] = opk_sinkhorn_g(jb->lb[c0 + c], cm[c], opk_Lg(sum[c]));
}

/* ---- the solver ------------------------------------------------------------- */

/* Threads' shares: rows [*r0, *r1) and columns [*c0, *c1) (whole units of
 * OPK_COL_ALIGN). Only the split depends on the thread count, never a
 * result. */
static void shares(size_t n, size_t m, int me, int all, size_t *r0,
                   size_t *r1, size_t *c0, size_t *c1)
{
    size_t units = (m + OPK_COL_ALIGN - 1) / OPK_COL_ALIGN;
    *r0 = n * (size_t)me / (size_t)all;
    *r1 = n * (size_t)(me + 1) / (size_t)all;
    *c0 = units * (size_t)me / (size_t)all * OPK_COL_ALIGN;
    *c1 = units * (size_t)(me + 1) / (size_t)all * OPK_COL_ALIGN;
    if (*c1 > m)
        *c1 = m;
    if (*c0 > *c1)
        *c0 = *c1;
}

/* err = seq_i |r_i - a_i| (SPEC 3.2). */
static float marginal_error(const float *r, const float *a, size_t n)
{
    float e = 0.0f;
    for (size_t i = 0; i < n; i++)
        e = e + fabsf(r[i] - (a ? a[i] : 1.0f));
    return e;
}

opk_status opk_sinkhorn_solve(const opk_ctx *ctx, const opk_sk_problem *pb,
                              opk_sk_scratch *sc, opk_sinkhorn_info *out)
{
    const opk_ops *ops = ctx->ops;
    const size_t n = pb->S.rows, m = pb->S.cols;
    const int nt = sc->nt, max_iter = pb->opts.max_iter,
              every = pb->opts.check_every;
    opk_sinkhorn_job tmpl = {
        .s = pb->S.data, .lds = pb->S.ld, .rows = n, .cols = m,
        .beta = pb->beta, .la = sc->la, .lb = sc->lb, .f = sc->f[0],
        .fnew = sc->f[1], .g = sc->g, .cmax = sc->cmax, .r = sc->r,
        .p = pb->P ? pb->P->data : NULL, .ldp = pb->P ? pb->P->ld : 0};
    for (size_t j = 0; j < m; j++)
        sc->g[j] = 0.0f; /* SPEC 3.2: start from g = 0 */
    /* Shared between the threads; written by one thread inside `single`,
     * read by all after its barrier. */
    int stop = 0, iterations = 0, planned = 0, cur = 0;
    float err = 0.0f;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int me = 0, all = 1;
#ifdef _OPENMP
        me = omp_get_thread_num();
        all = omp_get_num_threads();
#endif
        size_t r0, r1, c0, c1;
        shares(n, m, me, all, &r0, &r1, &c0, &c1);
        float *part = all > 1 ? sc->parts + (size_t)me * sc->part_ld : sc->cmax;
        float *scr = sc->scr + (size_t)me * sc->scr_ld;
        opk_sinkhorn_job jb = tmpl;
        int it = 0, pending = 0, fi = 0; /* identical in every thread */
        for (;;) {
            jb.f = sc->f[fi];
            jb.fnew = sc->f[fi ^ 1];
            if (it == max_iter) { /* the last check; P with it */
                unsigned mode = OPK_SK_CHECK | (jb.p ? OPK_SK_PLAN : 0u);
                if (r0 < r1)
                    ops->sinkhorn_rows(&jb, r0, r1, mode, part, scr);
#pragma omp barrier
#pragma omp single
                {
                    err = marginal_error(sc->r, pb->a, n);
                    planned = jb.p != NULL;
                }
                break;
            }
            for (size_t j = 0; j < m; j++)
                part[j] = -INFINITY;
            if (r0 < r1)
                ops->sinkhorn_rows(&jb, r0, r1,
                                   OPK_SK_UPDATE | (pending ? OPK_SK_CHECK : 0u),
                                   part, scr);
#pragma omp barrier
            if (pending) {
#pragma omp single
                {
                    err = marginal_error(sc->r, pb->a, n);
                    stop = err <= pb->tol;
                }
                if (stop)
                    break; /* the update just made is discarded */
            }
            it++;
            fi ^= 1;
            jb.f = sc->f[fi];
            if (all > 1) /* merge the partial column maxima of my columns */
                for (size_t j = c0; j < c1; j++) {
                    float v = sc->parts[j];
                    for (int t = 1; t < all; t++)
                        v = sk_max(v, sc->parts[(size_t)t * sc->part_ld + j]);
                    sc->cmax[j] = v;
                }
            if (c0 < c1)
                ops->sinkhorn_cols(&jb, c0, c1, scr);
#pragma omp barrier
            pending = it % every == 0 || it == max_iter;
        }
        if (!planned && jb.p && r0 < r1) /* converged: P from the final f, g */
            ops->sinkhorn_rows(&jb, r0, r1, OPK_SK_PLAN, part, scr);
#pragma omp single nowait
        {
            iterations = it;
            cur = fi;
        }
    }
    out->iterations = iterations;
    out->err = err;
    out->converged = err <= pb->tol;
    sc->fcur = sc->f[cur];
    return OPK_OK;
}
