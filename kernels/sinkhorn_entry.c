/* opk_sinkhorn (SPEC 3.2, 7): argument checks, the scan of the scores for
 * NaN/+inf and infeasible rows/columns, scratch, and the outputs, which are
 * written only after everything has been checked and the solve is done. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../dispatch/ctx.h"
#include "common.h"
#include "sinkhorn_impl.h"
#include "sleef1.h"

#ifdef _OPENMP
#include <omp.h>
#endif

opk_sinkhorn_opts opk_sinkhorn_opts_default(void)
{
    opk_sinkhorn_opts o = {1000, -1.0f, 10};
    return o;
}

static opk_status check_masses(const opk_ctx *ctx, const char *name,
                               const float *x, size_t len, double *sum)
{
    double s = 0.0;
    for (size_t i = 0; i < len; i++) {
        const char *why = isnan(x[i])   ? "is NaN"
                          : x[i] < 0.0f ? "is negative"
                          : isinf(x[i]) ? "is infinite"
                                        : NULL;
        if (why)
            return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                            "sinkhorn: %s[%zu] %s (%g); masses must be finite "
                            "and nonnegative",
                            name, i, why, (double)x[i]);
        s += x[i];
    }
    *sum = s;
    return OPK_OK;
}

static opk_span vec_span(const float *p, size_t len)
{
    opk_span s = {(uintptr_t)p, (uintptr_t)p};
    if (p)
        s.hi = (uintptr_t)p + len * sizeof(float);
    return s;
}

/* Outputs (f, g, P) must not overlap each other or the inputs (S, a, b),
 * except P == S with the same ld (in place: each row of P is written after
 * its row of S has been read for the last time). */
static opk_status check_overlaps(const opk_ctx *ctx, opk_cmat S, opk_span sS,
                                 opk_span sa, opk_span sb, opk_span sf,
                                 opk_span sg, opk_span sP, const opk_mat *P)
{
    const char *in_names[] = {"S", "a", "b"}, *out_names[] = {"f", "g", "P"};
    opk_span in[] = {sS, sa, sb}, out[] = {sf, sg, sP};
    int p_in_place = P && (const float *)P->data == S.data &&
                     (P->ld == S.ld || S.rows <= 1);
    if (P && (const float *)P->data == S.data && !p_in_place)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "sinkhorn: in-place P needs P.ld == S.ld (%zu, %zu)",
                        P->ld, S.ld);
    for (int o = 0; o < 3; o++) {
        for (int k = o + 1; k < 3; k++)
            if (opk_spans_overlap(out[o], out[k]))
                return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                                "sinkhorn: outputs %s and %s overlap",
                                out_names[o], out_names[k]);
        for (int k = 0; k < 3; k++)
            if (!(o == 2 && k == 0 && p_in_place) &&
                opk_spans_overlap(out[o], in[k]))
                return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                                "sinkhorn: output %s overlaps input %s%s",
                                out_names[o], in_names[k],
                                o == 2 && k == 0 ? " (only P == S with the "
                                                   "same ld is allowed)"
                                                 : "");
    }
    return OPK_OK;
}

/* One thread's findings in the score scan: the first bad t (row-major), the
 * first infeasible row; colok[j] != 0 where column j has a finite t in a row
 * of positive mass. The loop is written for the vectorizer: 32-bit flags,
 * and "finite t in a column of positive mass" as t + bmask_j > -inf with
 * bmask_j = 0 or -inf (t + 0 is finite iff t is; no finite sum reaches
 * -inf). */
typedef struct scan_result {
    size_t bad_i, bad_j, infeasible_row;
} scan_result;

static void scan_rows(const opk_sk_problem *pb, const opk_sk_scratch *sc,
                      const float *bmask, size_t r0, size_t r1, int *colok,
                      scan_result *res)
{
    const size_t m = pb->S.cols, none = SIZE_MAX;
    const float beta = pb->beta;
    res->bad_i = res->bad_j = res->infeasible_row = none;
    for (size_t i = r0; i < r1; i++) {
        const float *s = pb->S.data + i * pb->S.ld;
        int bad = 0, ok = 0;
        const int apos = sc->la[i] != -INFINITY;
        const float amask = apos ? 0.0f : -INFINITY;
        for (size_t j = 0; j < m; j++) {
            float t = beta * s[j];
            bad |= !(t < INFINITY); /* NaN or +inf */
            ok |= t + bmask[j] > -INFINITY;
            colok[j] |= t + amask > -INFINITY;
        }
        if (bad && res->bad_i == none) {
            size_t j = 0;
            while (beta * s[j] < INFINITY)
                j++;
            res->bad_i = i, res->bad_j = j;
        }
        if (apos && !ok && res->infeasible_row == none)
            res->infeasible_row = i;
    }
}

static opk_status scan_scores(const opk_ctx *ctx, const opk_sk_problem *pb,
                              opk_sk_scratch *sc)
{
    const size_t n = pb->S.rows, m = pb->S.cols, none = SIZE_MAX;
    const int nt = sc->nt;
    /* Per-thread column flags live in the (not yet used) partial maxima,
     * the column mass mask in the merged maxima. */
    int *flags = (int *)sc->parts;
    const size_t fld = sc->part_ld;
    float *bmask = sc->cmax;
    for (size_t j = 0; j < m; j++)
        bmask[j] = sc->lb[j] == -INFINITY ? -INFINITY : 0.0f;
    /* ... and their findings in the (not yet used) column-pass scratch. */
    scan_result *res0 = (scan_result *)sc->scr;
    const size_t rld = sc->scr_ld * sizeof(float) / sizeof(scan_result);
    memset(flags, 0, (size_t)nt * fld * sizeof(int));
    int used = 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int me = 0, all = 1;
#ifdef _OPENMP
        me = omp_get_thread_num();
        all = omp_get_num_threads();
#pragma omp single
        used = all;
#endif
        scan_rows(pb, sc, bmask, n * (size_t)me / (size_t)all,
                  n * (size_t)(me + 1) / (size_t)all, flags + (size_t)me * fld,
                  &res0[(size_t)me * rld]);
    }
    /* Threads hold ascending row ranges: the first finding is the first. */
    for (int t = 0; t < used; t++)
        if (res0[(size_t)t * rld].bad_i != none) {
            size_t i = res0[(size_t)t * rld].bad_i, j = res0[(size_t)t * rld].bad_j;
            float v = pb->S.data[i * pb->S.ld + j];
            return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                            "sinkhorn: S[%zu][%zu] = %g gives t = beta*S = %g; "
                            "NaN and +inf are invalid (-inf forbids a pair)",
                            i, j, (double)v, (double)(pb->beta * v));
        }
    for (int t = 0; t < used; t++)
        if (res0[(size_t)t * rld].infeasible_row != none)
            return opk_fail(ctx, OPK_ERR_INFEASIBLE,
                            "sinkhorn: row %zu has positive mass and no finite "
                            "score in a column of positive mass",
                            res0[(size_t)t * rld].infeasible_row);
    for (size_t j = 0; j < m; j++) {
        int ok = 0;
        for (int t = 0; t < used; t++)
            ok |= flags[(size_t)t * fld + j];
        if (!ok && sc->lb[j] != -INFINITY)
            return opk_fail(ctx, OPK_ERR_INFEASIBLE,
                            "sinkhorn: column %zu has positive mass and no "
                            "finite score in a row of positive mass",
                            j);
    }
    return OPK_OK;
}

static opk_status alloc_scratch(const opk_ctx *ctx, size_t n, size_t m,
                                opk_sk_scratch *sc)
{
    /* Rounded to 16 floats so that every array starts 64-byte aligned. */
    const size_t n16 = (n + 15) & ~(size_t)15, m16 = (m + 15) & ~(size_t)15;
    const size_t nt = (size_t)sc->nt;
    sc->part_ld = m16;
    sc->scr_ld = m16 + 64;
    size_t total = 4 * n16 + 3 * m16 + nt * (sc->part_ld + sc->scr_ld);
    float *mem = total < SIZE_MAX / sizeof(float)
                     ? opk_alloc(total * sizeof(float))
                     : NULL;
    if (!mem)
        return opk_fail(ctx, OPK_ERR_NOMEM,
                        "sinkhorn: cannot allocate %zu floats of scratch",
                        total);
    sc->mem = mem;
    sc->la = mem, mem += n16;
    sc->f[0] = mem, mem += n16;
    sc->f[1] = mem, mem += n16;
    sc->r = mem, mem += n16;
    sc->lb = mem, mem += m16;
    sc->g = mem, mem += m16;
    sc->cmax = mem, mem += m16;
    sc->parts = mem, mem += nt * sc->part_ld;
    sc->scr = mem;
    return OPK_OK;
}

opk_status opk_sinkhorn(opk_ctx *ctx, opk_cmat S, float beta, const float *a,
                        const float *b, const opk_sinkhorn_opts *opts,
                        float *f, float *g, const opk_mat *P,
                        opk_sinkhorn_info *info)
{
    if (!ctx)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "sinkhorn: ctx is NULL");
    opk_span sS, sP = {0, 0};
    opk_status st;
    if ((st = opk_check_mat(ctx, "sinkhorn: S", S.data, S.rows, S.cols, S.ld,
                            &sS)))
        return st;
    if (P && ((st = opk_check_mat(ctx, "sinkhorn: P", P->data, P->rows,
                                  P->cols, P->ld, &sP)) ||
              (st = opk_check_shape(ctx, "sinkhorn: P", P->rows, P->cols,
                                    S.rows, S.cols))))
        return st;
    if (!isfinite(beta))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "sinkhorn: beta (%g) must be finite", (double)beta);
    opk_sk_problem pb = {S, beta, a, b, opts ? *opts : opk_sinkhorn_opts_default(),
                         0.0f, P};
    if (pb.opts.max_iter < 1)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "sinkhorn: opts.max_iter (%d) must be >= 1",
                        pb.opts.max_iter);
    if (pb.opts.check_every < 1)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "sinkhorn: opts.check_every (%d) must be >= 1",
                        pb.opts.check_every);
    if (!isfinite(pb.opts.tol)) /* negative asks for the default: -1 */
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "sinkhorn: opts.tol (%g) must be finite (negative: the "
                        "default)",
                        (double)pb.opts.tol);
    const size_t n = S.rows, m = S.cols;
    if (!ctx->ops->sinkhorn_call &&
        (!ctx->ops->sinkhorn_rows || !ctx->ops->sinkhorn_cols))
        return opk_unported(ctx, "sinkhorn");
    /* Masses are arguments: checked even when a zero size makes the call
     * do nothing. */
    double sa = (double)n, sb = 0.0;
    if ((a && (st = check_masses(ctx, "a", a, n, &sa))) ||
        (b && (st = check_masses(ctx, "b", b, m, &sb))))
        return st;
    if (n == 0 || m == 0) { /* SPEC 2: zero sizes do nothing */
        if (info)
            *info = (opk_sinkhorn_info){0, 0.0f, 1};
        return OPK_OK;
    }
    const float bdef = (float)n / (float)m;
    if (!b)
        sb = (double)m * bdef;
    if (fabs(sa - sb) > 1e-4 * sa)
        return opk_fail(ctx, OPK_ERR_INFEASIBLE,
                        "sinkhorn: the masses differ: sum(a) = %.9g, sum(b) = "
                        "%.9g (more than 1e-4 relative)",
                        sa, sb);
    if ((st = check_overlaps(ctx, S, sS, vec_span(a, n), vec_span(b, m),
                             vec_span(f, n), vec_span(g, m), sP, P)))
        return st;

    opk_sk_scratch sc = {0};
    sc.nt = opk_threads_for(ctx, n, m * sizeof(float));
    if ((st = alloc_scratch(ctx, n, m, &sc)))
        return st;
    float sum_a = 0.0f; /* seq(a), for the default tolerance */
    for (size_t i = 0; i < n; i++) {
        float ai = a ? a[i] : 1.0f;
        sum_a = sum_a + ai;
        sc.la[i] = ai == 0.0f ? -INFINITY : opk_Lg(ai);
    }
    for (size_t j = 0; j < m; j++) {
        float bj = b ? b[j] : bdef;
        sc.lb[j] = bj == 0.0f ? -INFINITY : opk_Lg(bj);
    }
    pb.tol = pb.opts.tol < 0.0f ? 1e-6f * sum_a : pb.opts.tol;
    if ((st = scan_scores(ctx, &pb, &sc))) {
        opk_free(sc.mem);
        return st;
    }
    opk_sinkhorn_info res;
    if (ctx->ops->sinkhorn_call) { /* a device backend takes the solve */
        opk_sinkhorn_job jb = {
            .s = S.data, .lds = S.ld, .rows = n, .cols = m, .beta = beta,
            .la = sc.la, .lb = sc.lb, .fnew = sc.f[0], .g = sc.g,
            .p = P ? P->data : NULL, .ldp = P ? P->ld : 0};
        st = ctx->ops->sinkhorn_call(ctx, &jb, a, &pb.opts, pb.tol, &res);
        if (st) {
            opk_free(sc.mem);
            return st;
        }
        sc.fcur = sc.f[0];
    } else {
        opk_sinkhorn_solve(ctx, &pb, &sc, &res);
    }
    if (f)
        memcpy(f, sc.fcur, n * sizeof(float));
    if (g)
        memcpy(g, sc.g, m * sizeof(float));
    if (info)
        *info = res;
    opk_free(sc.mem);
    return OPK_OK;
}
