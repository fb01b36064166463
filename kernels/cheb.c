/* Chebyshev propagation (SPEC 3.3): argument checks, the order loop with
 * rows split across threads by nonzeros, and the scalar reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../dispatch/ctx.h"
#include "common.h"
#include "csr.h"
#include "scalar.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- scalar reference ---------------------------------------------------- */

/* The SPEC's finishing steps for one (row, column) pair. */
static inline void finish1(const opk_cheb_step *s, float alpha, float gamma,
                           float p, float vi, size_t i, size_t f)
{
    const float g = gamma * vi;
    const float a = fmaf(alpha, p, g);
    float t, y;
    if (s->w) {
        const float d = 2.0f * a;
        t = d - s->w[i * s->ldw + f];
        y = fmaf(s->c, t, s->y[i * s->ldy + f]);
    } else {
        const float y0 = s->c0 * vi;
        t = a;
        y = fmaf(s->c, t, y0);
    }
    if (s->t)
        s->t[i * s->ldt + f] = t;
    s->y[i * s->ldy + f] = y;
}

/* Features in blocks of CB whose partial sums stay in registers (a full
 * block has a constant trip count the compiler unrolls); a partial block
 * runs one column at a time. Each p_if is one fma chain over the row in
 * stored order either way. */
#define CB 8

void opk_cheb_rows_scalar(const opk_cheb_job *j, const opk_cheb_step *s,
                          size_t r0, size_t r1)
{
    const size_t F = j->F, ldv = s->ldv;
    const float alpha = j->alpha, gamma = j->gamma;
    const int32_t *col = j->col_idx;
    const float *val = j->val, *v = s->v;
    for (size_t i = r0; i < r1; i++) {
        const int64_t q0 = j->row_ptr[i], q1 = j->row_ptr[i + 1];
        size_t f0 = 0;
        for (; f0 + CB <= F; f0 += CB) {
            float p[CB];
            for (size_t f = 0; f < CB; f++)
                p[f] = 0.0f;
            for (int64_t q = q0; q < q1; q++) {
                const float a = val[q];
                const float *vr = v + (size_t)col[q] * ldv + f0;
                for (size_t f = 0; f < CB; f++)
                    p[f] = fmaf(a, vr[f], p[f]);
            }
            for (size_t f = 0; f < CB; f++)
                finish1(s, alpha, gamma, p[f], v[i * ldv + f0 + f], i, f0 + f);
        }
        for (size_t f = f0; f < F; f++) {
            float p = 0.0f;
            for (int64_t q = q0; q < q1; q++)
                p = fmaf(val[q], v[(size_t)col[q] * ldv + f], p);
            finish1(s, alpha, gamma, p, v[i * ldv + f], i, f);
        }
    }
}

/* ---- entry point ----------------------------------------------------------- */

static opk_span span_of(const void *p, int64_t count, size_t size)
{
    opk_span s = {(uintptr_t)p, (uintptr_t)p};
    if (p && count > 0)
        s.hi += (size_t)count * size; /* checked not to wrap by opk_check_csr */
    return s;
}

/* Work (stored entries + rows) of one chunk of rows handed to a thread. */
#define CHUNK_WORK ((uint64_t)1 << 15)

/* First row of part t of nt: rows are weighted by entries + 1, so a few
 * very dense rows do not make one part most of the work. */
static size_t split_row(const int64_t *row_ptr, size_t n, size_t t, size_t nt)
{
    const uint64_t total = (uint64_t)row_ptr[n] + n;
    const uint64_t want = (uint64_t)((unsigned __int128)total * t / nt);
    size_t lo = 0, hi = n; /* smallest r with row_ptr[r] + r >= want */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uint64_t)row_ptr[mid] + mid < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static opk_status check_args(opk_ctx *ctx, opk_csr L, float lmin, float lmax,
                             const float *c, size_t K, opk_cmat X, opk_mat Y)
{
    opk_status st;
    opk_span sx, sy;
    if ((st = opk_check_csr(ctx, "cheb: L", L, ctx->num_threads)))
        return st;
    if (L.rows != L.cols)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "cheb: L is %lldx%lld, must be square",
                        (long long)L.rows, (long long)L.cols);
    if ((st = opk_check_mat(ctx, "cheb: X", X.data, X.rows, X.cols, X.ld, &sx)) ||
        (st = opk_check_mat(ctx, "cheb: Y", Y.data, Y.rows, Y.cols, Y.ld, &sy)) ||
        (st = opk_check_shape(ctx, "cheb: X", X.rows, X.cols, (size_t)L.rows,
                              X.cols)) ||
        (st = opk_check_shape(ctx, "cheb: Y", Y.rows, Y.cols, X.rows, X.cols)))
        return st;
    if (opk_spans_overlap(sx, sy))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG, "cheb: X and Y overlap");
    if (opk_spans_overlap(sy, span_of(L.row_ptr, L.rows + 1, 8)) ||
        opk_spans_overlap(sy, span_of(L.col_idx, L.nnz, 4)) ||
        opk_spans_overlap(sy, span_of(L.val, L.nnz, 4)))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG, "cheb: Y overlaps L's arrays");
    if (!isfinite(lmin) || !isfinite(lmax) || !(lmin < lmax))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "cheb: need finite lmin < lmax (got lmin %g, lmax %g)",
                        (double)lmin, (double)lmax);
    const float d = lmax - lmin, s = lmax + lmin, alpha = 2.0f / d;
    if (!isfinite(d) || !isfinite(s) || !isfinite(alpha) || alpha == 0.0f)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "cheb: lmin %g, lmax %g give no finite nonzero "
                        "2 / (lmax - lmin)",
                        (double)lmin, (double)lmax);
    if (K == SIZE_MAX || K + 1 > SIZE_MAX / sizeof(float))
        return opk_fail(ctx, OPK_ERR_INVALID_ARG, "cheb: K (%zu) is too large",
                        K);
    if (!c)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "cheb: c is NULL (K + 1 = %zu coefficients needed)",
                        K + 1);
    for (size_t k = 0; k <= K; k++)
        if (!isfinite(c[k]))
            return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                            "cheb: c[%zu] is %g, must be finite", k,
                            (double)c[k]);
    return OPK_OK;
}

opk_status opk_cheb(opk_ctx *ctx, opk_csr L, float lmin, float lmax,
                    const float *c, size_t K, opk_cmat X, opk_mat Y)
{
    if (!ctx)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "cheb: ctx is NULL");
    opk_status st = check_args(ctx, L, lmin, lmax, c, K, X, Y);
    if (st)
        return st;
    const size_t n = X.rows, F = X.cols;
    if (n == 0 || F == 0)
        return OPK_OK;
    if (ctx->ops->cheb_call) { /* a device backend takes the whole call */
        const float d = lmax - lmin, s = lmax + lmin;
        opk_cheb_job jb = {L.row_ptr, L.col_idx, L.val, n, F, 2.0f / d, -s / d};
        return ctx->ops->cheb_call(ctx, &jb, c, K, X, Y);
    }
    if (!ctx->ops->cheb_rows)
        return opk_unported(ctx, "cheb");
    /* Coefficients are read throughout: copy them so that a c inside Y
     * cannot change under our feet. */
    float *cc = opk_alloc((K + 1) * sizeof *cc);
    if (!cc)
        return opk_fail(ctx, OPK_ERR_NOMEM, "cheb: out of memory");
    memcpy(cc, c, (K + 1) * sizeof *cc);

    const float d = lmax - lmin, s = lmax + lmin;
    const float alpha = 2.0f / d, gamma = -s / d;
    opk_cheb_job jb = {L.row_ptr, L.col_idx, L.val, n, F, alpha, gamma};

    /* Two blocks: T_k overwrites T_{k-2} in place; T_1 is stored only when
     * K >= 2 and the second block is needed only when K >= 3. */
    const size_t nblk = K >= 3 ? 2 : K == 2 ? 1 : 0;
    size_t blk = 0;
    float *buf = NULL;
    if (nblk) {
        if (__builtin_mul_overflow(n, F, &blk) ||
            __builtin_mul_overflow(blk, nblk * sizeof(float), &blk) ||
            !(buf = opk_alloc_huge(blk))) {
            opk_free(cc);
            return opk_fail(ctx, OPK_ERR_NOMEM,
                            "cheb: cannot allocate %zu blocks of %zu x %zu "
                            "floats",
                            nblk, n, F);
        }
        blk = n * F;
    }
    float *T[2] = {buf, buf ? buf + blk : NULL};

    /* Threads by the traffic of all orders (bytes per row: entries, row
     * pointer, three feature rows), in double: no overflow. */
    double per_row = ((double)L.nnz * 8 / (double)n + 8 + 12.0 * (double)F) *
                     (double)(K ? K : 1);
    int nt = opk_threads_for(ctx, n, per_row < 1e15 ? (size_t)per_row + 1
                                                    : (size_t)1e15);
    /* Rows in chunks of about CHUNK_WORK stored entries (plus one per row),
     * handed out dynamically: a thread slowed down by a neighbour on a
     * shared machine, or by a hub row, takes fewer chunks. Bits do not
     * depend on which thread computes a row. */
    const uint64_t total = (uint64_t)L.nnz + n;
    size_t nch = (size_t)(total / CHUNK_WORK) + 1;
    if (nt > 1 && nch < 4 * (size_t)nt)
        nch = 4 * (size_t)nt;
    if (nch > n)
        nch = n;
    size_t *cut = opk_alloc((nch + 1) * sizeof *cut);
    if (!cut) {
        opk_free(buf), opk_free(cc);
        return opk_fail(ctx, OPK_ERR_NOMEM, "cheb: out of memory");
    }
    for (size_t h = 0; h <= nch; h++)
        cut[h] = split_row(L.row_ptr, n, h, nch);
    const opk_ops *ops = ctx->ops;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        if (K == 0) {
#pragma omp for schedule(dynamic, 1)
            for (size_t h = 0; h < nch; h++)
                for (size_t i = cut[h]; i < cut[h + 1]; i++)
                    for (size_t f = 0; f < F; f++)
                        Y.data[i * Y.ld + f] = cc[0] * X.data[i * X.ld + f];
        }
        /* T_{k-1} lives in: X (k-1 = 0), T[0] (odd k-1), T[1] (even). The
         * end of each omp for is the barrier between orders. */
        for (size_t k = 1; k <= K; k++) {
            opk_cheb_step sp;
            sp.v = k == 1 ? X.data : T[(k - 2) % 2];
            sp.ldv = k == 1 ? X.ld : F;
            sp.w = k == 1 ? NULL : k == 2 ? X.data : T[(k - 1) % 2];
            sp.ldw = k == 2 ? X.ld : F;
            sp.t = k == K ? NULL : T[(k - 1) % 2];
            sp.ldt = F;
            sp.y = Y.data;
            sp.ldy = Y.ld;
            sp.c = cc[k];
            sp.c0 = cc[0];
#pragma omp for schedule(dynamic, 1)
            for (size_t h = 0; h < nch; h++)
                if (cut[h] < cut[h + 1])
                    ops->cheb_rows(&jb, &sp, cut[h], cut[h + 1]);
        }
    }
    opk_free(cut);
    opk_free(buf);
    opk_free(cc);
    return OPK_OK;
}
