/* Sinkhorn (SPEC 3.2): the scalar reference passes and the solver that
 * drives any backend's passes (argument checks: sinkhorn_entry.c).
 *
 * Passes over S per iteration: 2.
 *   row pass    (blocks of rows handed out to threads): M_i, the lane16 sum
 *               and the new f_i, then, while the row is in cache, the
 *               column maxima of fl(t_ij + f_i) that the column update needs
 *               (max ignores order, so per-thread partial maxima are merged
 *               afterwards); after a check iteration the same pass also
 *               computes the row sums of P for the error (old f, current g).
 *   column pass (a block of columns per thread, rows streamed in ascending
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

/* Work is handed out in blocks, dynamically: a row belongs to whichever
 * thread takes its block (its partial column maxima merge in any order), a
 * column's whole sum is made by the thread that takes its block, so no
 * result depends on the assignment, and a thread slowed down by others on
 * a shared machine just takes fewer row blocks.
 *
 * The column pass must stream the rows top down (seq sums); the row pass
 * takes its blocks bottom up, so that each pass starts on the rows the
 * previous one read last, still in the last-level cache when S does not fit
 * (measured: ~8% less time per iteration at 4096 x 4096 on one thread). For
 * the same reason each thread's columns form one block: narrower column
 * strips would leave the last strip, not the last rows, in cache. */
typedef struct blocks {
    size_t n, m, rows_per, cols_per; /* cols_per: a multiple of 16 */
    size_t nr, nc;                   /* block counts */
} blocks;

static blocks make_blocks(size_t n, size_t m, int nt)
{
    /* 8 row blocks per thread, of at least 16 rows (a kernel call has a
     * fixed cost of O(m)); one block with one thread. */
    blocks b = {n, m, nt == 1 ? n : n / (8 * (size_t)nt), 0, 0, 0};
    size_t units = (m + OPK_COL_ALIGN - 1) / OPK_COL_ALIGN;
    size_t per = (units + (size_t)nt - 1) / (size_t)nt;
    if (b.rows_per < 16)
        b.rows_per = n < 16 ? (n ? n : 1) : 16;
    b.cols_per = (per < 1 ? 1 : per) * OPK_COL_ALIGN;
    b.nr = (n + b.rows_per - 1) / b.rows_per;
    b.nc = (m + b.cols_per - 1) / b.cols_per;
    return b;
}

/* One row pass over all rows, blocks shared out dynamically; ends with the
 * barrier of `omp for`. */
static void row_pass(const opk_ops *ops, const opk_sinkhorn_job *jb,
                     const blocks *bl, unsigned mode, float *part, float *scr)
{
#pragma omp for schedule(dynamic, 1)
    for (size_t k = 0; k < bl->nr; k++) {
        size_t r0 = (bl->nr - 1 - k) * bl->rows_per; /* bottom up */
        size_t r1 = r0 + bl->rows_per < bl->n ? r0 + bl->rows_per : bl->n;
        ops->sinkhorn_rows(jb, r0, r1, mode, part, scr);
    }
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
        const blocks bl = make_blocks(n, m, all);
        float *part = all > 1 ? sc->parts + (size_t)me * sc->part_ld : sc->cmax;
        float *scr = sc->scr + (size_t)me * sc->scr_ld;
        opk_sinkhorn_job jb = tmpl;
        int it = 0, pending = 0, fi = 0; /* identical in every thread */
        for (;;) {
            jb.f = sc->f[fi];
            jb.fnew = sc->f[fi ^ 1];
            if (it == max_iter) { /* the last check; P with it */
                unsigned mode = OPK_SK_CHECK | (jb.p ? OPK_SK_PLAN : 0u);
                row_pass(ops, &jb, &bl, mode, part, scr);
#pragma omp single
                {
                    err = marginal_error(sc->r, pb->a, n);
                    planned = jb.p != NULL;
                }
                break;
            }
            for (size_t j = 0; j < m; j++)
                part[j] = -INFINITY;
            row_pass(ops, &jb, &bl,
                     OPK_SK_UPDATE | (pending ? OPK_SK_CHECK : 0u), part, scr);
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
#pragma omp for schedule(dynamic, 1)
            for (size_t k = 0; k < bl.nc; k++) {
                size_t c0 = k * bl.cols_per;
                size_t c1 = c0 + bl.cols_per < m ? c0 + bl.cols_per : m;
                if (all > 1) /* merge the partial column maxima */
                    for (size_t j = c0; j < c1; j++) {
                        float v = sc->parts[j];
                        for (int t = 1; t < all; t++)
                            v = sk_max(v, sc->parts[(size_t)t * sc->part_ld + j]);
                        sc->cmax[j] = v;
                    }
                ops->sinkhorn_cols(&jb, c0, c1, scr);
            }
            pending = it % every == 0 || it == max_iter;
        }
        if (!planned && jb.p) /* converged: P from the final f, g */
            row_pass(ops, &jb, &bl, OPK_SK_PLAN, part, scr);
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
