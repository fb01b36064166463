/* Every backend, with 1, 2 and 3 threads, bit for bit against the SPEC
 * oracle (spec_oracle.c: SPEC.md 3.1, 3.2, 3.4 written out from the SPEC
 * alone), so that the golden hashes, which come from the scalar backend, are
 * tied to the SPEC itself. Small seeded cases at the edges: one row or key,
 * the key blocks of 64 (m = 63, 64, 65, 130), rows around the 16 lanes,
 * n != m, ld > cols with NaN in the padding, in-place calls, and NaN, +-inf,
 * -inf scores (also in Sinkhorn mode), subnormals and huge values where the
 * SPEC defines the result.
 * Any NaN equals any NaN; otherwise the 32-bit patterns must be equal (so
 * -0 != +0). Outputs' padding must stay untouched.
 *
 * Sinkhorn's info (iterations, err, converged) must match too, also at the
 * edge of the stop rule (tol exactly the err of a check, or just below it).
 * DEBUG_CASES=1 prints every case; OPK_TEST_SCALE < 1 runs a subset.
 *
 * The test can fail: the oracle broken on purpose in one place at a time
 * (softmax: seq for rows, lane16 for columns, e/s, t - (m + Lg s), -0 rows;
 * Sinkhorn: seq/lane16 swapped in either update, t + (f + g), err with seq,
 * no check at max_iter, err < tol, default tol from n, zero mass through
 * Lg(0); attention: blocks of 32, l unfused, no rescale or block skip,
 * sigmoid block sum seq, sinkhorn starting with columns or P V unfused,
 * linear sums/chains altered, gamma = beta * (1/Sq d), the mix reordered,
 * a2 = tau - tau lambda_g, the no-graph formula for lambda_g = 0, the graph
 * term unfused) made it fail on every backend, each time. Left unnoticed:
 * the default tol's seq(a) as lane16 (a few ulps of tol that no check's err
 * falls between). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "check.h"
#include "grid.h"
#include "spec_oracle.h"

enum { NTHREADS = 3 };
static opk_ctx *ctxs[OPK_BACKEND_COUNT][NTHREADS + 1];

/* One context per backend and thread count, made once. */
static opk_ctx *ctx_for(opk_backend b, int threads)
{
    if (!ctxs[b][threads])
        ctxs[b][threads] = test_ctx(b, threads);
    return ctxs[b][threads];
}

/* The usable backends implementing each kernel (tests/backends.h). */
static opk_backend kbackends[OPK_KERNEL_COUNT][OPK_BACKEND_COUNT];
static int nkbackends[OPK_KERNEL_COUNT];

/* Under OPK_TEST_SCALE < 1 (QEMU) only every stride-th case runs. */
static unsigned long case_stride = 1, case_count;

static int skip_case(void)
{
    return case_count++ % case_stride != 0;
}

static uint64_t pick(uint64_t seed, uint64_t k, uint64_t n)
{
    return opk_rand(seed, k) % n;
}

/* ---- buffers -------------------------------------------------------------------- */

/* A rows x cols matrix with leading dimension ld in a buffer of rows*ld + 1
 * floats (one guard word after it), all NaN, then opk_fill(seed, lo, hi). */
typedef struct tbuf {
    float *b;
    size_t len;
    opk_mat M;
} tbuf;

/* rows x cols, leading dimension ld, every word (guard too) set to w. */
static tbuf tbuf_alloc(size_t rows, size_t cols, size_t ld, float w)
{
    tbuf t;
    t.len = rows * ld + 1;
    t.b = malloc(t.len * sizeof *t.b);
    for (size_t k = 0; k < t.len; k++)
        t.b[k] = w;
    t.M = (opk_mat){t.b, rows, cols, ld};
    return t;
}

static tbuf tbuf_new(size_t rows, size_t cols, size_t ld, uint64_t seed,
                     float lo, float hi)
{
    tbuf t = tbuf_alloc(rows, cols, ld, NAN);
    if (rows && cols)
        opk_fill(seed, lo, hi, t.M);
    return t;
}

static tbuf tbuf_copy(const tbuf *s)
{
    tbuf t = *s;
    t.b = malloc(t.len * sizeof *t.b);
    memcpy(t.b, s->b, t.len * sizeof *t.b);
    t.M.data = t.b;
    return t;
}

/* An output buffer: every word (padding and guard too) a sentinel. */
static tbuf tbuf_out(size_t rows, size_t cols, size_t ld)
{
    return tbuf_alloc(rows, cols, ld, -12345.0f);
}

static opk_cmat cm(const tbuf *t)
{
    return opk_cmat_of(t->M);
}

/* Sets about every `every`-th element to one of vals. */
static void inject(opk_mat M, uint64_t seed, uint64_t every, const float *vals,
                   size_t nv)
{
    for (size_t k = 0; k < M.rows * M.cols; k++)
        if (pick(seed, k, every) == 0)
            M.data[(k / M.cols) * M.ld + k % M.cols] =
                vals[pick(seed + 1, k, nv)];
}

/* ---- comparisons ------------------------------------------------------------------ */

static char desc[256]; /* the case being run, for messages */

/* got (rows x cols, leading dimension ld) against the oracle's want (dense). */
static void check_out(const char *name, opk_backend b, int threads,
                      const float *want, const float *got, size_t rows,
                      size_t cols, size_t ld)
{
    long d = oracle_first_diff(want, cols, got, ld, rows, cols);
    size_t i = d < 0 ? 0 : (size_t)d / cols, j = d < 0 ? 0 : (size_t)d % cols;
    float w = d < 0 ? 0.0f : want[i * cols + j];
    float g = d < 0 ? 0.0f : got[i * ld + j];
    CHECK(d < 0,
          "%s on %s, %d threads: %s[%zu,%zu] is %.9g (0x%08x), the SPEC "
          "oracle gives %.9g (0x%08x)",
          desc, opk_backend_name(b), threads, name, i, j, (double)g,
          (unsigned)oracle_bits(g), (double)w, (unsigned)oracle_bits(w));
}

/* Everything of out outside its rows x cols elements is as in before. */
static void check_untouched(const char *name, const tbuf *out,
                            const float *before)
{
    int same = memcmp(out->b + out->M.rows * out->M.ld,
                      before + out->M.rows * out->M.ld, sizeof(float)) == 0;
    for (size_t i = 0; i < out->M.rows && same; i++)
        same = memcmp(out->b + i * out->M.ld + out->M.cols,
                      before + i * out->M.ld + out->M.cols,
                      (out->M.ld - out->M.cols) * sizeof(float)) == 0;
    CHECK(same, "%s: %s written outside its elements", desc, name);
}

/* The case's description, for a failing run (DEBUG_CASES=1: every case). */
static void case_begin(void)
{
    if (getenv("DEBUG_CASES"))
        printf("%s\n", desc);
}

static void check_status(opk_status st, opk_ctx *ctx, opk_backend b,
                         int threads)
{
    CHECK(st == OPK_OK, "%s on %s, %d threads: %s (%s)", desc,
          opk_backend_name(b), threads, opk_status_str(st),
          opk_ctx_last_error(ctx));
}

/* ---- 3.1 softmax -------------------------------------------------------------------- */

static const float special_vals[] = {NAN,     INFINITY, -INFINITY, -INFINITY,
                                     1e-40f,  -3e-42f,  3e38f,     -3e38f,
                                     0.0f,    -0.0f,    1e30f,     -2e-45f};
#define NSPECIAL (sizeof special_vals / sizeof special_vals[0])

static int softmax_cases;

static void softmax_case(size_t R, size_t C, size_t pad, float beta,
                         opk_axis axis, unsigned flags, int special,
                         int inplace, uint64_t seed)
{
    if (skip_case())
        return;
    snprintf(desc, sizeof desc,
             "softmax %zux%zu ld %zu beta %g %s%s seed %llu%s%s", R, C, C + pad,
             (double)beta, axis == OPK_ROWS ? "rows" : "cols",
             flags & OPK_LOG ? " log" : "", (unsigned long long)seed,
             special ? " special" : "", inplace ? " in-place" : "");
    softmax_cases++;
    const size_t ld = C + pad;
    tbuf X = tbuf_new(R, C, ld, seed, -6.0f, 9.0f);
    if (special) {
        inject(X.M, seed + 7, 5, special_vals, NSPECIAL);
        /* one line all -inf: a row of +0 / -inf (beta > 0), NaN (beta <= 0) */
        size_t line = (size_t)pick(seed, 99, axis == OPK_ROWS ? R : C);
        for (size_t k = 0; k < (axis == OPK_ROWS ? C : R); k++)
            X.b[axis == OPK_ROWS ? line * ld + k : k * ld + line] = -INFINITY;
    }
    float *want = malloc((R * C + 1) * sizeof *want);
    case_begin();
    oracle_softmax(cm(&X), beta, axis, flags, want);
    const opk_backend *bs = kbackends[OPK_KERNEL_SOFTMAX];
    const int nb = nkbackends[OPK_KERNEL_SOFTMAX];
    for (int bi = 0; bi < nb; bi++)
        for (int t = 1; t <= NTHREADS; t++) {
            opk_ctx *ctx = ctx_for(bs[bi], t);
            tbuf Y = inplace ? tbuf_copy(&X) : tbuf_out(R, C, ld);
            float *before = malloc(Y.len * sizeof *before);
            memcpy(before, Y.b, Y.len * sizeof *before);
            opk_cmat in = inplace ? cm(&Y) : cm(&X);
            check_status(opk_softmax(ctx, in, Y.M, beta, axis, flags), ctx,
                         bs[bi], t);
            check_out("Y", bs[bi], t, want, Y.b, R, C, ld);
            check_untouched("Y", &Y, before);
            free(Y.b), free(before);
        }
    free(X.b), free(want);
}

static void test_softmax(void)
{
    static const size_t cols[] = {1, 2, 5, 15, 16, 17, 31, 32, 33, 48, 64, 65, 100};
    static const size_t rows[] = {1, 2, 3, 7, 16, 17, 33};
    static const float betas[] = {1.0f, 0.5f, -1.3f, 2.7f, 1.0f, 0.0f, 1e-3f};
    uint64_t seed = 1000;
    for (size_t ci = 0; ci < sizeof cols / sizeof cols[0]; ci++)
        for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
            for (int axis = 0; axis < 2; axis++)
                for (unsigned flags = 0; flags < 2; flags++) {
                    seed++;
                    float beta = betas[pick(seed, 0, 7)];
                    size_t pad = (size_t)pick(seed, 1, 3) * 3;
                    int special = pick(seed, 2, 3) == 0;
                    int inplace = pick(seed, 3, 5) == 0;
                    softmax_case(rows[ri], cols[ci], pad, beta, (opk_axis)axis,
                                 flags, special, inplace, seed);
                }
}

/* ---- 3.2 Sinkhorn ------------------------------------------------------------------- */

static int sinkhorn_cases;

typedef struct skcase {
    size_t n, m, pad;
    float beta;
    int masses; /* 0 NULL/NULL, 1 given, 2 given with zeros, 3 a only, 4 b only */
    int masked; /* forbidden pairs (t = -inf) */
    int special; /* subnormals, zeros, large finite scores */
    float mscale; /* given masses times this (their sum sets the default tol) */
    int max_iter, check_every;
    float tol;
    int want_P, inplace;
    /* 1: tol is the err that the oracle finds after max_iter iterations
     * (with tol 0), and max_iter grows by 20; 2: tol just below that err */
    int boundary;
    uint64_t seed;
} skcase;

/* Masses per SPEC 4 (b scaled to the sum of a), zeros where asked; a NULL
 * side's sum is n. */
static void sk_masses(const skcase *c, float *a, float *b)
{
    opk_mat A = {a, 1, c->n, c->n}, B = {b, 1, c->m, c->m};
    opk_fill(c->seed + 1, 0.5f, 1.75f, A);
    opk_fill(c->seed + 2, 0.5f, 1.75f, B);
    if (c->masses == 2) { /* some zeros, never all */
        for (size_t i = 1; i < c->n; i++)
            if (pick(c->seed, 200 + i, 3) == 0)
                a[i] = 0.0f;
        for (size_t j = 1; j < c->m; j++)
            if (pick(c->seed, 500 + j, 3) == 0)
                b[j] = 0.0f;
    }
    const float sa = c->masses == 4 ? (float)c->n : oracle_seq(a, c->n, 1);
    const float sb = oracle_seq(b, c->m, 1);
    const float r = sa / sb;
    for (size_t j = 0; j < c->m; j++)
        b[j] = b[j] * r;
    if (c->masses == 3) { /* a alone, scaled to n */
        const float ra = (float)c->n / oracle_seq(a, c->n, 1);
        for (size_t i = 0; i < c->n; i++)
            a[i] = a[i] * ra;
    } else if (c->masses != 4) {
        for (size_t i = 0; i < c->n; i++)
            a[i] = a[i] * c->mscale;
        for (size_t j = 0; j < c->m; j++)
            b[j] = b[j] * c->mscale;
    }
}

/* Feasible by construction: a row of positive mass keeps a finite score in
 * the first column of positive mass, and a column likewise in the first
 * row of positive mass. */
static void sk_feasible(opk_mat S, const float *a, const float *b,
                        float beta)
{
    size_t j0 = 0, i0 = 0;
    while (b && b[j0] == 0.0f)
        j0++;
    while (a && a[i0] == 0.0f)
        i0++;
    for (size_t i = 0; i < S.rows; i++)
        if ((!a || a[i] > 0.0f) && isinf(beta * S.data[i * S.ld + j0]))
            S.data[i * S.ld + j0] = 0.25f;
    for (size_t j = 0; j < S.cols; j++)
        if ((!b || b[j] > 0.0f) && isinf(beta * S.data[i0 * S.ld + j]))
            S.data[i0 * S.ld + j] = -0.5f;
}

static void sinkhorn_case(const skcase *c)
{
    if (skip_case())
        return;
    const size_t n = c->n, m = c->m, ld = m + c->pad;
    snprintf(desc, sizeof desc,
             "sinkhorn %zux%zu ld %zu beta %g masses %d x %g%s%s max_iter %d "
             "check_every %d tol %.9g%s%s seed %llu",
             n, m, ld, (double)c->beta, c->masses, (double)c->mscale,
             c->masked ? " masked" : "",
             c->special ? " special" : "", c->max_iter, c->check_every,
             (double)c->tol, c->want_P ? " P" : "",
             c->inplace ? " in-place" : "", (unsigned long long)c->seed);
    sinkhorn_cases++;
    tbuf S = tbuf_new(n, m, ld, c->seed, -3.0f, 2.0f);
    float *a = malloc((n + m + 1) * sizeof *a), *b = a + n;
    sk_masses(c, a, b);
    const float *pa = c->masses == 0 || c->masses == 4 ? NULL : a;
    const float *pb = c->masses == 0 || c->masses == 3 ? NULL : b;
    if (c->special) {
        static const float sv[] = {1e-40f, -3e-42f, 0.0f, -0.0f, 40.0f,
                                   -60.0f, 1e4f,    -1e4f};
        inject(S.M, c->seed + 7, 6, sv, sizeof sv / sizeof sv[0]);
    }
    if (c->masked) { /* S = -inf (beta > 0) or +inf (beta < 0): t = -inf */
        const float forbid = c->beta > 0.0f ? -INFINITY : INFINITY;
        inject(S.M, c->seed + 9, 4, &forbid, 1);
        /* The first row and column of zero mass: forbidden throughout (their
         * LSE is -inf; the potential is -inf all the same, never NaN). */
        for (size_t i = 0; pa && i < n; i++)
            if (pa[i] == 0.0f) {
                for (size_t j = 0; j < m; j++)
                    S.b[i * ld + j] = forbid;
                break;
            }
        for (size_t j = 0; pb && j < m; j++)
            if (pb[j] == 0.0f) {
                for (size_t i = 0; i < n; i++)
                    S.b[i * ld + j] = forbid;
                break;
            }
        sk_feasible(S.M, pa, pb, c->beta);
    }
    opk_sinkhorn_opts o = {c->max_iter, c->tol, c->check_every};
    /* The defaults as opts NULL (the oracle has its own copy from the SPEC). */
    const int dflt = c->max_iter == 1000 && c->check_every == 10 && c->tol < 0;
    const opk_sinkhorn_opts *po = dflt ? NULL : &o;
    if (dflt)
        strncat(desc, " (opts NULL)", sizeof desc - strlen(desc) - 1);
    float *wf = malloc((n + 1) * sizeof *wf), *wg = malloc((m + 1) * sizeof *wg);
    float *wP = malloc((n * m + 1) * sizeof *wP);
    opk_sinkhorn_info wi;
    if (c->boundary) { /* the stop rule err <= tol at its edge */
        o.tol = 0.0f;
        oracle_sinkhorn(cm(&S), c->beta, pa, pb, &o, wf, wg, NULL, &wi);
        o.tol = c->boundary == 1 ? wi.err : nextafterf(wi.err, 0.0f);
        o.max_iter += 20;
        snprintf(desc + strlen(desc), sizeof desc - strlen(desc),
                 " boundary %d: max_iter %d tol %.9g", c->boundary, o.max_iter,
                 (double)o.tol);
    }
    case_begin();
    oracle_sinkhorn(cm(&S), c->beta, pa, pb, po, wf, wg, c->want_P ? wP : NULL,
                    &wi);
    const opk_backend *bs = kbackends[OPK_KERNEL_SINKHORN];
    const int nb = nkbackends[OPK_KERNEL_SINKHORN];
    float *f = malloc((n + 1) * sizeof *f), *g = malloc((m + 1) * sizeof *g);
    for (int bi = 0; bi < nb; bi++)
        for (int t = 1; t <= NTHREADS; t++) {
            opk_ctx *ctx = ctx_for(bs[bi], t);
            tbuf P = c->inplace ? tbuf_copy(&S) : tbuf_out(n, m, ld);
            float *before = malloc(P.len * sizeof *before);
            memcpy(before, P.b, P.len * sizeof *before);
            opk_sinkhorn_info info = {-1, -1.0f, -1};
            opk_cmat in = c->inplace ? cm(&P) : cm(&S);
            check_status(opk_sinkhorn(ctx, in, c->beta, pa, pb, po, f, g,
                                      c->want_P ? &P.M : NULL, &info),
                         ctx, bs[bi], t);
            check_out("f", bs[bi], t, wf, f, 1, n, n);
            check_out("g", bs[bi], t, wg, g, 1, m, m);
            if (c->want_P) {
                check_out("P", bs[bi], t, wP, P.b, n, m, ld);
                check_untouched("P", &P, before);
            }
            CHECK(info.iterations == wi.iterations &&
                      info.converged == wi.converged &&
                      oracle_same_bits(info.err, wi.err),
                  "%s on %s, %d threads: info {%d, %.9g (0x%08x), %d}, the "
                  "SPEC oracle gives {%d, %.9g (0x%08x), %d}",
                  desc, opk_backend_name(bs[bi]), t, info.iterations,
                  (double)info.err, (unsigned)oracle_bits(info.err),
                  info.converged, wi.iterations, (double)wi.err,
                  (unsigned)oracle_bits(wi.err), wi.converged);
            free(P.b), free(before);
        }
    free(S.b), free(a), free(wf), free(wg), free(wP), free(f), free(g);
}

static void test_sinkhorn(void)
{
    static const size_t shapes[][2] = {{1, 1},   {1, 6},   {6, 1},   {2, 3},
                                       {5, 5},   {7, 4},   {4, 9},   {16, 16},
                                       {17, 15}, {15, 33}, {33, 17}, {40, 65}};
    static const float betas[] = {1.0f, -0.7f, 2.5f, 0.3f};
    static const int iters[][2] = {{1, 1}, {2, 1}, {7, 3}, {25, 10},
                                   {1000, 10}, {60, 7}};
    static const float tols[] = {-1.0f, 0.0f, 1e-3f, 1e-2f, -1.0f, 0.5f};
    static const float mscales[] = {1.0f, 1.0f, 37.5f, 0.01f, 1.0f};
    uint64_t seed = 5000;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int masses = 0; masses < 5; masses++)
            for (int v = 0; v < 2; v++) {
                seed++;
                skcase c;
                c.n = shapes[si][0], c.m = shapes[si][1];
                c.pad = (size_t)pick(seed, 0, 3) * 2;
                c.beta = betas[pick(seed, 1, 4)];
                c.masses = masses;
                c.masked = v == 1 || pick(seed, 2, 3) == 0;
                c.special = pick(seed, 3, 4) == 0;
                int it = (int)pick(seed, 4, 6);
                if (c.n * c.m > 300 && iters[it][0] > 100)
                    it = 3; /* keep the large shapes short */
                c.max_iter = iters[it][0], c.check_every = iters[it][1];
                c.tol = tols[pick(seed, 5, 6)];
                c.want_P = pick(seed, 6, 4) != 0;
                c.inplace = c.want_P && pick(seed, 7, 3) == 0;
                c.mscale = mscales[pick(seed, 8, 5)];
                if (v == 1 && masses == 1) { /* the default tol, 1e-6 seq(a) */
                    c.tol = -1.0f, c.check_every = 1;
                    c.max_iter = c.n * c.m > 300 ? 100 : 1000;
                    c.mscale = si % 2 ? 37.5f : 0.01f;
                }
                c.boundary = 0;
                c.seed = seed;
                sinkhorn_case(&c);
                if (v == 0 && masses % 2 == 0) { /* the stop rule's edge */
                    c.max_iter = 3 + (int)pick(seed, 9, 9);
                    c.check_every = 1 + (int)pick(seed, 10, 3);
                    c.boundary = 1 + (int)pick(seed, 11, 2);
                    sinkhorn_case(&c);
                }
            }
}

/* ---- 3.4 attention ------------------------------------------------------------------ */

static int attention_cases;

typedef struct atcase {
    size_t n, m, d, dv, pad;
    opk_norm norm;
    float beta, tau, lambda_g;
    int iters, global, with_H, graph_K;
    /* 1: special values; 2: -inf scores (blocks skipped); 3: scores that
     * grow with the key, so that every key block raises the maximum */
    int special;
    uint64_t seed;
} atcase;

/* A Laplacian of the canonical grid (SPEC 4) on n nodes, the most square
 * r x (n / r), with n/4 extra edges. */
static opk_csr grid_of(size_t n, uint64_t seed, opk_laplacian_kind kind)
{
    size_t r = 1;
    for (size_t k = 1; k * k <= n; k++)
        if (n % k == 0)
            r = k;
    return grid_laplacian(r, n / r, n / 4, seed, kind);
}

static void attention_case(const atcase *c)
{
    if (skip_case())
        return;
    static const char *norms[] = {"softmax", "sinkhorn", "linear", "sigmoid"};
    const size_t n = c->n, m = c->m, d = c->d, dv = c->dv, p = c->pad;
    snprintf(desc, sizeof desc,
             "attention %s n %zu m %zu d %zu dv %zu pad %zu beta %g tau %g%s "
             "iters %d%s graph K %d lambda_g %g%s seed %llu",
             norms[c->norm], n, m, d, dv, p, (double)c->beta, (double)c->tau,
             c->with_H ? " H" : " H=NULL", c->iters,
             c->global ? " global-norm" : "", c->graph_K, (double)c->lambda_g,
             c->special == 3   ? " growing-scores"
             : c->special == 2 ? " -inf-scores"
             : c->special      ? " special"
                               : "",
             (unsigned long long)c->seed);
    attention_cases++;
    tbuf Q = tbuf_new(n, d, d + p, c->seed, -1.0f, 2.0f);
    tbuf K = tbuf_new(m, d, d + 2 * p, c->seed + 1, -1.0f, 2.0f);
    tbuf V = tbuf_new(m, dv, dv + p, c->seed + 2, -1.5f, 1.0f);
    tbuf H = tbuf_new(n, dv, dv + 3 * p, c->seed + 3, -0.5f, 2.0f);
    if (c->special == 2) {
        /* Scores of -inf: q > 0 (row 1 zero), keys of even blocks of 64 < 0
         * and of odd ones zero, beta 3e38 overflows every nonzero score to
         * -inf: whole blocks are skipped (mn = -inf), one-key rows all -inf. */
        opk_fill(c->seed, 2.0f, 3.0f, Q.M);
        opk_fill(c->seed + 1, -3.0f, -2.0f, K.M);
        for (size_t j = 0; j < m; j++)
            for (size_t k = 0; k < d && (j / 64) % 2; k++)
                K.b[j * K.M.ld + k] = 0.0f;
        for (size_t k = 0; k < d && n > 1; k++)
            Q.b[1 * Q.M.ld + k] = 0.0f;
    } else if (c->special == 3) {
        opk_fill(c->seed, 0.5f, 1.5f, Q.M);
        opk_fill(c->seed + 1, 0.5f, 1.5f, K.M);
        for (size_t j = 0; j < m; j++)
            for (size_t k = 0; k < d; k++)
                K.b[j * K.M.ld + k] *= 0.25f + (float)j / 64.0f;
    } else if (c->special) {
        static const float qv[] = {1e-40f, -3e-42f, 0.0f, -0.0f, 30.0f, -25.0f};
        static const float vv[] = {NAN,  INFINITY, -INFINITY, 1e-40f,
                                   -0.0f, 3e38f,   -3e38f,    2e-45f};
        if (c->norm != OPK_NORM_LINEAR) { /* linear: no zero-norm rows */
            inject(Q.M, c->seed + 7, 4, qv, sizeof qv / sizeof qv[0]);
            inject(K.M, c->seed + 8, 4, qv, sizeof qv / sizeof qv[0]);
        }
        inject(V.M, c->seed + 9, 7, vv, sizeof vv / sizeof vv[0]);
        inject(H.M, c->seed + 10, 7, vv, sizeof vv / sizeof vv[0]);
    }
    opk_attention_opts o = opk_attention_opts_default();
    o.beta = c->beta, o.tau = c->tau, o.norm = c->norm;
    o.sinkhorn_iters = c->iters, o.linear_global_norm = c->global;
    opk_csr L = {0, 0, 0, NULL, NULL, NULL};
    float *cc = malloc(((size_t)(c->graph_K < 0 ? 0 : c->graph_K) + 1) * sizeof *cc);
    if (c->graph_K >= 0) {
        opk_laplacian_kind kind = (opk_laplacian_kind)pick(c->seed, 9, 3);
        L = grid_of(n, c->seed + 4, kind);
        opk_mat C = {cc, 1, (size_t)c->graph_K + 1, (size_t)c->graph_K + 1};
        opk_fill(c->seed + 5, -1.0f, 0.5f, C);
        o.graph = &L, o.cheb_c = cc, o.cheb_K = c->graph_K;
        o.lmin = kind == OPK_LAPLACIAN_SYMMETRIC ? 0.0f : -0.5f;
        o.lmax = kind == OPK_LAPLACIAN_SYMMETRIC ? 2.0f : 2.25f;
        o.lambda_g = c->lambda_g;
    }
    opk_cmat Hc = cm(&H);
    const opk_cmat *Hp = c->with_H ? &Hc : NULL;
    /* The defaults (softmax, beta 1, tau 1, no graph) as opts NULL. */
    const int dflt = o.norm == OPK_NORM_SOFTMAX && o.beta == 1.0f &&
                     o.tau == 1.0f && !o.graph;
    const opk_attention_opts *po = dflt ? NULL : &o;
    if (dflt)
        strncat(desc, " (opts NULL)", sizeof desc - strlen(desc) - 1);
    float *want = malloc((n * dv + 1) * sizeof *want);
    case_begin();
    oracle_attention(cm(&Q), cm(&K), cm(&V), Hp, po, want);
    const opk_backend *bs = kbackends[OPK_KERNEL_ATTENTION];
    const int nb = nkbackends[OPK_KERNEL_ATTENTION];
    for (int bi = 0; bi < nb; bi++)
        for (int t = 1; t <= NTHREADS; t++) {
            opk_ctx *ctx = ctx_for(bs[bi], t);
            tbuf O = tbuf_out(n, dv, dv + 2 * p + 1);
            float *before = malloc(O.len * sizeof *before);
            memcpy(before, O.b, O.len * sizeof *before);
            check_status(opk_attention(ctx, cm(&Q), cm(&K), cm(&V), Hp, po, O.M),
                         ctx, bs[bi], t);
            check_out("O", bs[bi], t, want, O.b, n, dv, O.M.ld);
            check_untouched("O", &O, before);
            free(O.b), free(before);
        }
    if (c->graph_K >= 0)
        opk_csr_free(&L);
    free(Q.b), free(K.b), free(V.b), free(H.b), free(cc), free(want);
}

static void test_attention(void)
{
    /* (n, m): one query or key, n != m, and the key blocks of 64. */
    static const size_t nm[][2] = {
        {1, 1},  {1, 5},   {5, 1},  {2, 2},    {7, 7},   {3, 63},
        {63, 63}, {4, 64}, {64, 64}, {5, 65},  {65, 65}, {6, 130},
        {130, 130}, {17, 16}, {9, 100}, {100, 100}, {3, 200}};
    static const size_t ds[] = {1, 3, 17, 32}, dvs[] = {1, 5, 16, 33};
    static const float betas[] = {1.0f, 0.5f, -2.0f, 1.0f, 3.0f};
    /* tau and lambda_g such that a2 = tau (1 - lambda_g) differs from
     * tau - tau lambda_g in some pairs */
    static const float taus[] = {1.0f, 0.7f, 0.61f, 0.25f, 1.0f, 0.13f, 0.0f};
    static const float lambdas[] = {0.0f, 0.3f, 1.0f, 0.9f, 0.55f, 0.17f};
    uint64_t seed = 9000;
    for (size_t si = 0; si < sizeof nm / sizeof nm[0]; si++)
        for (int norm = 0; norm < 4; norm++)
            for (int v = 0; v < 4; v++) {
                seed++;
                atcase c;
                c.n = nm[si][0], c.m = nm[si][1];
                c.d = ds[pick(seed, 0, 4)], c.dv = dvs[pick(seed, 1, 4)];
                c.pad = (size_t)pick(seed, 2, 3);
                c.norm = (opk_norm)norm;
                c.beta = betas[pick(seed, 3, 5)];
                if (c.norm == OPK_NORM_SIGMOID && pick(seed, 4, 2))
                    c.beta = oracle_Sq((float)c.d); /* DIFFormer's scale */
                c.tau = taus[pick(seed, 5, 7)];
                c.iters = 1 + (int)pick(seed, 6, 5);
                c.global = (int)pick(seed, 7, 2);
                const int square = c.n == c.m;
                c.with_H = !square || v < 2 || pick(seed, 8, 2);
                c.graph_K = square && v % 2 ? (int)pick(seed, 10, 6) : -1;
                c.lambda_g = lambdas[pick(seed, 11, 6)];
                c.special = pick(seed, 12, 4) == 0;
                if (v == 1 && square) { /* graph: NaN/inf in G, lambda_g 0 */
                    c.special |= pick(seed, 13, 2) == 0;
                    if (pick(seed, 14, 3) == 0)
                        c.lambda_g = 0.0f;
                }
                /* -inf scores (for Sinkhorn mode: rows and columns of
                 * P that come out NaN or zero) */
                if (c.norm != OPK_NORM_LINEAR && v == 3 && c.m > 1) {
                    c.special = 2;
                    c.beta = 3e38f;
                }
                if (c.norm == OPK_NORM_SOFTMAX && v == 2 && c.m > 64)
                    c.special = 3;
                c.seed = seed;
                attention_case(&c);
            }
}

int main(void)
{
    case_stride = 1000 / test_scaled(1000);
    if (case_stride == 0) /* OPK_TEST_SCALE > 1: every case, once */
        case_stride = 1;
    for (int k = 0; k < OPK_KERNEL_COUNT; k++)
        nkbackends[k] = test_backends_for((opk_kernel)k, kbackends[k]);
    printf("backends (1, 2 and 3 threads each):");
    for (int b = 0; b < nkbackends[OPK_KERNEL_ATTENTION]; b++)
        printf(" %s", opk_backend_name(kbackends[OPK_KERNEL_ATTENTION][b]));
    printf("\n");
    test_softmax();
    int before = check_passed + check_failed;
    printf("softmax: %d cases, %d checks\n", softmax_cases, before);
    test_sinkhorn();
    int now = check_passed + check_failed;
    printf("sinkhorn: %d cases, %d checks\n", sinkhorn_cases, now - before);
    before = now;
    test_attention();
    now = check_passed + check_failed;
    printf("attention: %d cases, %d checks\n", attention_cases, now - before);
    for (int b = 0; b < OPK_BACKEND_COUNT; b++)
        for (int t = 0; t <= NTHREADS; t++)
            opk_ctx_destroy(ctxs[b][t]);
    return check_summary("test_spec_order");
}
