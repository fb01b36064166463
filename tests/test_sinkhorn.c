/* Sinkhorn (SPEC 3.2) on every usable backend:
 * - against a double-precision log-domain Sinkhorn run for the same number
 *   of iterations: potentials within the bound of tools/refdouble.h (each
 *   float update is within d of the exact update of its float input and the
 *   exact update is 1-Lipschitz in the max norm, so differences add up at
 *   most linearly); column marginals within one column update's rounding
 *   (the column update was the last one, so they hold to rounding whatever
 *   the iteration count); row marginals within exp(2 * bound) of the double
 *   run's; info.err within its bound of a double evaluation;
 * - closed forms: a rank-one score S_ij = u_i + v_j converges in one
 *   iteration to P_ij = a_i b_j / sum(a); so does a constant score;
 * - bit-identical to the scalar reference (f, g, P, info) on randomized
 *   shapes, strides, misaligned pointers, masks, zero masses, extreme
 *   magnitudes, options, and where sums overflow into NaN potentials;
 * - identical for 1, 2, 3 and 7 threads;
 * - info: iterations, converged and err at checks, caps, defaults;
 * - every argument error: status, a message naming the argument/index, and
 *   outputs (f, g, P, info) untouched. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "backends.h"
#include "check.h"
#include "opk.h"
#include "refdouble.h"

static opk_backend backends[OPK_BACKEND_COUNT];
static int nbackends;

/* One call's inputs and outputs. */
typedef struct run_io {
    size_t n, m, ld;
    float *s, *a, *b; /* a, b NULL: defaults */
    float beta;
    opk_sinkhorn_opts o;
    float *f, *g, *p; /* p NULL: no plan; p == s: in place */
    opk_sinkhorn_info info;
} run_io;

/* Set where errors are expected (random cases may be infeasible or
 * overflow beta * S): then run() does not print them. */
static int quiet;

/* One call, its outputs marked first (f, g, a separate plan, info), so a
 * backend that returns OK without writing them all cannot pass on an
 * earlier call's results. */
static opk_status run(opk_backend be, int threads, run_io *io)
{
    for (size_t i = 0; i < io->n; i++)
        io->f[i] = -7.0f;
    for (size_t j = 0; j < io->m; j++)
        io->g[j] = -7.0f;
    for (size_t i = 0; io->p && io->p != io->s && i < io->n; i++)
        for (size_t j = 0; j < io->m; j++)
            io->p[i * io->ld + j] = -7.0f;
    io->info = (opk_sinkhorn_info){-1, NAN, -1};
    opk_ctx *ctx = test_ctx(be, threads);
    opk_mat P = {io->p, io->n, io->m, io->ld};
    opk_status st = opk_sinkhorn(ctx, (opk_cmat){io->s, io->n, io->m, io->ld},
                                 io->beta, io->a, io->b, &io->o, io->f, io->g,
                                 io->p ? &P : NULL, &io->info);
    if (st && !quiet)
        fprintf(stderr, "%s: %s\n", opk_backend_name(be), opk_ctx_last_error(ctx));
    opk_ctx_destroy(ctx);
    return st;
}

static opk_sinkhorn_opts opts(int max_iter, float tol, int every)
{
    opk_sinkhorn_opts o = {max_iter, tol, every};
    return o;
}

/* S = fill(seed, -3, 2) with every 11th pair (canonical mask) -inf. */
static float *make_scores(size_t n, size_t m, size_t ld, uint64_t seed,
                          int mask)
{
    float *s = malloc((n * ld + 1) * sizeof(float));
    for (size_t k = 0; k < n * ld; k++)
        s[k] = NAN; /* padding: never read */
    opk_fill(seed, -3.0f, 2.0f, (opk_mat){s, n, m, ld});
    for (size_t k = 0; mask && k < n * m; k++)
        if (opk_rand(seed + 9, k) % 11 == 0)
            s[(k / m) * ld + k % m] = -INFINITY;
    return s;
}

/* a = fill(seed+1, 0.5, 1.75), b likewise, rescaled to the same sum. */
static void make_masses(size_t n, size_t m, uint64_t seed, float **a,
                        float **b)
{
    *a = malloc((n + 1) * sizeof(float));
    *b = malloc((m + 1) * sizeof(float));
    opk_fill(seed + 1, 0.5f, 1.75f, (opk_mat){*a, 1, n, n});
    opk_fill(seed + 2, 0.5f, 1.75f, (opk_mat){*b, 1, m, m});
    float sa = 0, sb = 0;
    for (size_t i = 0; i < n; i++)
        sa += (*a)[i];
    for (size_t j = 0; j < m; j++)
        sb += (*b)[j];
    for (size_t j = 0; j < m; j++)
        (*b)[j] *= sa / sb;
}

static double mass(const float *x, size_t k, double dflt)
{
    return x ? (double)x[k] : dflt;
}

/* Largest finite |t|, |f|, |g| (t = fl(beta * S)). */
static double magnitude(const run_io *io)
{
    double B = 0;
    for (size_t i = 0; i < io->n; i++) {
        if (isfinite(io->f[i]))
            B = fmax(B, fabs(io->f[i]));
        for (size_t j = 0; j < io->m; j++) {
            float t = io->beta * io->s[i * io->ld + j];
            if (isfinite(t))
                B = fmax(B, fabs(t));
        }
    }
    for (size_t j = 0; j < io->m; j++)
        if (isfinite(io->g[j]))
            B = fmax(B, fabs(io->g[j]));
    return B;
}

static void test_against_double(void)
{
    static const struct {
        size_t n, m;
        float beta;
        int masses, mask, iters;
    } cs[] = {
        {1, 1, 1.0f, 0, 0, 3},     {3, 5, 1.0f, 1, 0, 4},
        {7, 300, 1.0f, 1, 0, 12},  {300, 7, 0.37f, 0, 0, 9},
        {64, 64, -20.0f, 0, 0, 40}, {129, 70, -20.0f, 1, 0, 25},
        {70, 129, 2.0f, 1, 1, 15}, {100, 100, 1.5f, 0, 1, 30},
    };
    for (int bi = 0; bi < nbackends; bi++)
        for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
            run_io io = {.n = cs[c].n, .m = cs[c].m, .ld = cs[c].m,
                         .beta = cs[c].beta};
            size_t n = io.n, m = io.m;
            io.s = make_scores(n, m, m, 500 + c, cs[c].mask);
            if (cs[c].masses)
                make_masses(n, m, 500 + c, &io.a, &io.b);
            io.f = malloc(n * 4), io.g = malloc(m * 4);
            io.o = opts(cs[c].iters, 0.0f, 1000); /* exactly iters */
            CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
            char what[96];
            snprintf(what, sizeof what, "%s %zux%zu beta %g",
                     opk_backend_name(backends[bi]), n, m, (double)io.beta);
            CHECK(io.info.iterations == cs[c].iters &&
                      io.info.converged == (io.info.err <= 0.0f),
                  "%s: %d iterations, converged %d", what, io.info.iterations,
                  io.info.converged);
            double tol, e = ref_sinkhorn_error(io.s, m, n, m, io.beta, io.a,
                                               io.b, io.info.iterations, io.f,
                                               io.g, &tol);
            CHECK(e <= tol, "%s: potentials differ by %.3g, bound %.3g", what,
                  e, tol);
            /* Marginals: columns to one update's rounding; rows as close to
             * the double run's as the potentials allow. */
            double *rs = malloc(n * 8), *cs_ = malloc(m * 8);
            double *rd = malloc(n * 8), *cd = malloc(m * 8);
            double *fd = malloc(n * 8), *gd = malloc(m * 8);
            ref_sinkhorn_marginals(io.s, m, n, m, io.beta, io.f, io.g, rs, cs_);
            ref_sinkhorn(io.s, m, n, m, io.beta, io.a, io.b, io.info.iterations,
                         fd, gd);
            float *fdf = malloc(n * 4), *gdf = malloc(m * 4);
            for (size_t i = 0; i < n; i++)
                fdf[i] = (float)fd[i];
            for (size_t j = 0; j < m; j++)
                gdf[j] = (float)gd[j];
            ref_sinkhorn_marginals(io.s, m, n, m, io.beta, fdf, gdf, rd, cd);
            double B = magnitude(&io);
            double dcol = ldexp(16 * B + (double)n + 2 * log2((double)n) + 8, -24);
            double worst_c = 0, worst_r = 0;
            for (size_t j = 0; j < m; j++) {
                double bj = mass(io.b, j, (double)((float)n / (float)m));
                worst_c = fmax(worst_c, fabs(cs_[j] - bj) / bj);
            }
            for (size_t i = 0; i < n; i++) /* rd from float-rounded fd, gd: */
                worst_r = fmax(worst_r, fabs(rs[i] - rd[i]) / rd[i]);
            CHECK(worst_c <= dcol, "%s: column marginal off by %.3g (bound "
                  "%.3g)", what, worst_c, dcol);
            double rbound = expm1(2 * tol + ldexp(2 * B, -24)); /* + rounding of fd */
            CHECK(worst_r <= rbound, "%s: row marginals differ from the double "
                  "run's by %.3g (bound %.3g)", what, worst_r, rbound);
            double etol, ed = ref_sinkhorn_err(io.s, m, n, m, io.beta, io.a,
                                               io.f, io.g, &etol);
            CHECK(fabs(io.info.err - ed) <= etol, "%s: info.err %.9g, double "
                  "%.9g (bound %.3g)", what, (double)io.info.err, ed, etol);
            free(rs), free(cs_), free(rd), free(cd), free(fd), free(gd);
            free(fdf), free(gdf);
            free(io.s), free(io.a), free(io.b), free(io.f), free(io.g);
        }
}

/* Rank-one scores S_ij = u_i + v_j (exact in float, beta = 0.5 exact too),
 * a constant score, and beta = 0: the kernel is a product, so one iteration
 * solves it: P_ij = a_i b_j / sum(a), and the error after it is rounding
 * (each potential carries ~u |value|, so err ~ 1e-7 * sum(a)). The same
 * iteration on random scores leaves an error far above that. */
static void test_closed_forms(void)
{
    const size_t n = 50, m = 61;
    const char *names[] = {"rank-one", "constant", "beta = 0", "random"};
    for (int bi = 0; bi < nbackends; bi++)
        for (int kind = 0; kind < 4; kind++) {
            run_io io = {.n = n, .m = m, .ld = m,
                         .beta = kind == 0 ? 0.5f : kind == 2 ? 0.0f : 1.3f};
            io.s = make_scores(n, m, m, 12, 0);
            for (size_t i = 0; i < n && kind < 3; i++)
                for (size_t j = 0; j < m; j++) {
                    float u = (float)((int)(i * 7 % 41) - 16) / 8.0f;
                    float v = (float)((int)(j * 5 % 37) - 18) / 16.0f;
                    io.s[i * m + j] = kind == 0 ? u + v : kind == 1 ? 0.7f : u * v;
                }
            make_masses(n, m, 11, &io.a, &io.b);
            io.f = malloc(n * 4), io.g = malloc(m * 4), io.p = malloc(n * m * 4);
            double sa = 0, worst = 0;
            for (size_t i = 0; i < n; i++)
                sa += io.a[i];
            const float tol = (float)(1e-5 * sa);
            io.o = opts(kind == 3 ? 1 : 100, tol, 1);
            CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
            if (kind == 3) {
                CHECK(io.info.err > 100 * tol, "%s random: err %g after one "
                      "iteration", opk_backend_name(backends[bi]),
                      (double)io.info.err);
            } else {
                CHECK(io.info.iterations == 1 && io.info.converged,
                      "%s %s: %d iterations, converged %d, err %g",
                      opk_backend_name(backends[bi]), names[kind],
                      io.info.iterations, io.info.converged, (double)io.info.err);
                for (size_t i = 0; i < n; i++)
                    for (size_t j = 0; j < m; j++) {
                        double want = (double)io.a[i] * io.b[j] / sa;
                        worst = fmax(worst, fabs(io.p[i * m + j] - want) / want);
                    }
                /* exponent error ~ u (|t| + |f| + |g| + sums) ~ 100 u */
                CHECK(worst < 1e-5, "%s %s: P differs from a_i b_j / sum(a) "
                      "by %.3g", opk_backend_name(backends[bi]), names[kind],
                      worst);
            }
            free(io.s), free(io.a), free(io.b), free(io.f), free(io.g), free(io.p);
        }
}

static int same_bits(const float *x, const float *y, size_t rows, size_t cols,
                     size_t ld, const char *what, const char *name)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            float a = x[i * ld + j], b = y[i * ld + j];
            if (memcmp(&a, &b, 4) && !(isnan(a) && isnan(b))) {
                fprintf(stderr, "%s: %s first differs at (%zu, %zu): scalar %a, "
                        "got %a\n", what, name, i, j, a, b);
                return 0;
            }
        }
    return 1;
}

static void test_bit_identity_random(void)
{
    static const size_t dims[] = {1, 2, 3, 5, 7, 15, 16, 17, 31, 33,
                                  47, 64, 65, 100, 127, 129, 300};
    const size_t nd = sizeof dims / sizeof dims[0];
    static const float betas[] = {1.0f, 0.5f, -3.0f, 2.0f, -20.0f, 0.0f};
    int ran = 0, nonfinite = 0;
    const uint64_t cases = test_scaled(200); /* OPK_TEST_SCALE: QEMU runs */
    quiet = 1;
    for (uint64_t t = 0; t < cases; t++) {
        uint64_t r = opk_rand(777, t);
        size_t n = dims[r % nd], m = dims[(r >> 8) % nd];
        size_t pad = (r >> 16) % 4, off = (r >> 20) % 4;
        float beta = betas[(r >> 24) % 6];
        int masses = (r >> 28) & 1, zeros = masses && (r >> 29) % 3 == 0;
        int plan = (r >> 31) % 3, mask = (r >> 33) & 1;
        int inplace = plan == 2;
        run_io ref = {.n = n, .m = m, .ld = m + pad, .beta = beta};
        ref.o = opts(1 + (int)((r >> 35) % 30),
                     ((r >> 40) & 3) == 0 ? 0.0f : ((r >> 40) & 3) == 1 ? 1e-3f : -1.0f,
                     1 + (int)((r >> 42) % 7));
        size_t ld = ref.ld, sz = n * ld + off;
        float *sbuf = malloc(sz * 4 + 4), *s = sbuf + off;
        float *tmp = make_scores(n, m, ld, t, 0);
        memcpy(s, tmp, n * ld * 4);
        free(tmp);
        for (size_t k = 0; mask && k < n * m; k++) { /* forbidden pairs */
            uint64_t q = opk_rand(t + 5, k);
            if (q % 9 == 0)
                s[(k / m) * ld + k % m] = beta > 0 ? -INFINITY
                                        : beta < 0 ? INFINITY : 1.0f;
        }
        /* Extreme magnitudes: t + g may overflow, so potentials may become
         * +-inf or NaN; every backend must still give the scalar bits. */
        int extreme = (r >> 45) % 3 == 0;
        static const float big[] = {1e38f, -1e38f, 3e38f, -3e38f, 1e30f, -5e37f};
        for (size_t k = 0; extreme && k < n * m; k++) {
            uint64_t q = opk_rand(t + 6, k);
            if (q % 3 == 0)
                s[(k / m) * ld + k % m] = big[(q >> 8) % 6];
        }
        if (masses) {
            make_masses(n, m, t, &ref.a, &ref.b);
            float sa = 0, sb = 0;
            for (size_t i = 0; zeros && i < n; i++)
                if (opk_rand(t + 3, i) % 4 == 0)
                    ref.a[i] = 0;
            for (size_t j = 0; zeros && j < m; j++)
                if (opk_rand(t + 4, j) % 4 == 0)
                    ref.b[j] = 0;
            for (size_t i = 0; i < n; i++)
                sa += ref.a[i];
            for (size_t j = 0; j < m; j++)
                sb += ref.b[j];
            for (size_t j = 0; j < m && sb > 0; j++)
                ref.b[j] *= sa / sb;
        }
        ref.s = s;
        float *s0 = malloc(n * ld * 4 + 4);
        memcpy(s0, s, n * ld * 4);
        float *fbuf = malloc((n + 4) * 4), *gbuf = malloc((m + 4) * 4);
        float *pbuf = plan == 1 ? malloc(sz * 4 + 4) : NULL;
        ref.f = fbuf + off, ref.g = gbuf + off;
        ref.p = plan == 1 ? pbuf + off : inplace ? s : NULL;
        opk_status st0 = run(OPK_BACKEND_SCALAR, 1, &ref);
        float *fr = malloc(n * 4), *gr = malloc(m * 4), *pr = malloc(n * ld * 4 + 4);
        memcpy(fr, ref.f, n * 4), memcpy(gr, ref.g, m * 4);
        if (ref.p)
            memcpy(pr, ref.p, n * ld * 4);
        ran += st0 == OPK_OK;
        int nf = 0;
        for (size_t i = 0; st0 == OPK_OK && i < n; i++)
            nf |= isnan(ref.f[i]) || ref.f[i] == INFINITY;
        for (size_t j = 0; st0 == OPK_OK && j < m; j++)
            nf |= isnan(ref.g[j]) || ref.g[j] == INFINITY;
        nonfinite += nf;
        for (int bi = 1; bi < nbackends; bi++) {
            run_io io = ref;
            if (inplace)
                memcpy(s, s0, n * ld * 4);
            opk_status st = run(backends[bi], 0, &io);
            char what[200];
            snprintf(what, sizeof what,
                     "%s case %llu: %zux%zu ld %zu off %zu beta %g masses %d "
                     "zeros %d mask %d extreme %d plan %d opts {%d, %g, %d}",
                     opk_backend_name(backends[bi]), (unsigned long long)t, n, m,
                     ld, off, (double)beta, masses, zeros, mask, extreme, plan,
                     ref.o.max_iter, (double)ref.o.tol, ref.o.check_every);
            CHECK(st == st0, "%s: status %s, scalar %s", what,
                  opk_status_str(st), opk_status_str(st0));
            if (st || st0)
                continue;
            CHECK(same_bits(fr, io.f, 1, n, n, what, "f"), "%s: f", what);
            CHECK(same_bits(gr, io.g, 1, m, m, what, "g"), "%s: g", what);
            if (io.p)
                CHECK(same_bits(pr, io.p, n, m, ld, what, "P"), "%s: P", what);
            CHECK(io.info.iterations == ref.info.iterations &&
                      io.info.converged == ref.info.converged &&
                      !memcmp(&io.info.err, &ref.info.err, 4),
                  "%s: info {%d, %g, %d}, scalar {%d, %g, %d}", what,
                  io.info.iterations, (double)io.info.err, io.info.converged,
                  ref.info.iterations, (double)ref.info.err, ref.info.converged);
        }
        free(sbuf), free(s0), free(fbuf), free(gbuf), free(pbuf), free(fr);
        free(gr), free(pr), free(ref.a), free(ref.b);
    }
    CHECK((uint64_t)ran * 10 >= cases * 7, "only %d of %llu random cases were "
          "feasible", ran, (unsigned long long)cases);
    quiet = 0;
    printf("random: %d of %llu feasible, %d with non-finite potentials\n", ran,
           (unsigned long long)cases, nonfinite);
}

static uint64_t hash_vec(const float *x, size_t rows, size_t cols)
{
    uint64_t h;
    opk_hash((opk_cmat){x, rows, cols, cols}, &h);
    return h;
}

static void test_threads(void)
{
    static const int threads[] = {1, 2, 3, 7};
    static const size_t shapes[][2] = {{600, 1100}, {3000, 45}, {50, 5000}};
    for (size_t sh = 0; sh < 3; sh++) {
        size_t n = shapes[sh][0], m = shapes[sh][1];
        run_io io = {.n = n, .m = m, .ld = m, .beta = 1.5f};
        io.s = make_scores(n, m, m, 31 + sh, 1);
        make_masses(n, m, 31 + sh, &io.a, &io.b);
        io.f = malloc(n * 4), io.g = malloc(m * 4), io.p = malloc(n * m * 4);
        io.o = opts(23, 0.0f, 4);
        for (int bi = 0; bi < nbackends; bi++) {
            uint64_t h0[3] = {0};
            for (int t = 0; t < 4; t++) {
                CHECK_ST(run(backends[bi], threads[t], &io), OPK_OK);
                uint64_t h[3] = {hash_vec(io.f, 1, n), hash_vec(io.g, 1, m),
                                 hash_vec(io.p, n, m)};
                if (t == 0)
                    memcpy(h0, h, sizeof h);
                CHECK(!memcmp(h, h0, sizeof h), "%s %zux%zu: %d threads differ "
                      "from 1 thread", opk_backend_name(backends[bi]), n, m,
                      threads[t]);
            }
        }
        free(io.s), free(io.a), free(io.b), free(io.f), free(io.g), free(io.p);
    }
}

static void test_info(void)
{
    const size_t n = 40, m = 57;
    for (int bi = 0; bi < nbackends; bi++) {
        const char *bn = opk_backend_name(backends[bi]);
        run_io io = {.n = n, .m = m, .ld = m, .beta = -6.0f};
        io.s = make_scores(n, m, m, 91, 0);
        make_masses(n, m, 91, &io.a, &io.b);
        io.f = malloc(n * 4), io.g = malloc(m * 4);
        float *f1 = malloc(n * 4), *g1 = malloc(m * 4);
        const float T = 1e-4f;
        /* Check every iteration: stops at the first k with err <= T. */
        io.o = opts(1000, T, 1);
        CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
        int k = io.info.iterations;
        CHECK(io.info.converged && io.info.err <= T && k > 3,
              "%s: every=1: %d iterations, err %g, converged %d", bn, k,
              (double)io.info.err, io.info.converged);
        double etol, ed = ref_sinkhorn_err(io.s, m, n, m, io.beta, io.a, io.f,
                                           io.g, &etol);
        CHECK(fabs(ed - io.info.err) <= etol, "%s: err %g, double %g", bn,
              (double)io.info.err, ed);
        /* One iteration fewer: not converged, err above T, potentials of
         * iteration k-1. */
        io.o = opts(k - 1, T, 1);
        CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
        CHECK(io.info.iterations == k - 1 && !io.info.converged &&
                  io.info.err > T,
              "%s: cap k-1: %d iterations, err %g, converged %d", bn,
              io.info.iterations, (double)io.info.err, io.info.converged);
        /* Every 4: stops at the first multiple of 4 >= k, with exactly the
         * potentials of that many iterations (the speculative update made
         * with the check is discarded). */
        io.o = opts(1000, T, 4);
        CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
        int k4 = (k + 3) / 4 * 4;
        CHECK(io.info.iterations == k4 && io.info.converged, "%s: every=4: %d "
              "iterations, want %d", bn, io.info.iterations, k4);
        memcpy(f1, io.f, n * 4), memcpy(g1, io.g, m * 4);
        float err4 = io.info.err;
        io.o = opts(k4, 0.0f, 1000);
        CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
        CHECK(!memcmp(f1, io.f, n * 4) && !memcmp(g1, io.g, m * 4) &&
                  !memcmp(&err4, &io.info.err, 4) && !io.info.converged,
              "%s: stopping at a check changes the potentials or err", bn);
        /* The last iteration is always checked: max_iter 7, every 5, huge
         * tol stops at 5; max_iter 3, every 5 stops at 3. */
        io.o = opts(7, 1e30f, 5);
        CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
        CHECK(io.info.iterations == 5 && io.info.converged, "%s: {7, inf, 5}: "
              "%d iterations", bn, io.info.iterations);
        io.o = opts(3, 1e30f, 5);
        CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
        CHECK(io.info.iterations == 3 && io.info.converged, "%s: {3, inf, 5}: "
              "%d iterations", bn, io.info.iterations);
        /* tol = 0: never converges (err > 0 here); all iterations done. */
        io.o = opts(17, 0.0f, 5);
        CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
        CHECK(io.info.iterations == 17 && !io.info.converged &&
                  io.info.err > 0,
              "%s: tol 0: %d iterations, converged %d", bn, io.info.iterations,
              io.info.converged);
        /* tol < 0 is fl(1e-6 * seq(a)). */
        float sa = 0;
        for (size_t i = 0; i < n; i++)
            sa = sa + io.a[i];
        io.o = opts(1000, 1e-6f * sa, 3);
        CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
        int kd = io.info.iterations;
        io.o = opts(1000, -1.0f, 3);
        CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
        CHECK(io.info.iterations == kd && io.info.converged, "%s: default tol: "
              "%d iterations, explicit %d", bn, io.info.iterations, kd);
        /* NULL opts are the defaults; NULL f, g, info are allowed. */
        opk_ctx *ctx = test_ctx(backends[bi], 0);
        opk_sinkhorn_opts d = opk_sinkhorn_opts_default();
        CHECK(d.max_iter == 1000 && d.tol < 0 && d.check_every == 10,
              "defaults {%d, %g, %d}", d.max_iter, (double)d.tol, d.check_every);
        opk_sinkhorn_info i1, i2;
        CHECK_ST(opk_sinkhorn(ctx, (opk_cmat){io.s, n, m, m}, io.beta, io.a,
                              io.b, NULL, io.f, io.g, NULL, &i1), OPK_OK);
        CHECK_ST(opk_sinkhorn(ctx, (opk_cmat){io.s, n, m, m}, io.beta, io.a,
                              io.b, &d, f1, NULL, NULL, NULL), OPK_OK);
        CHECK_ST(opk_sinkhorn(ctx, (opk_cmat){io.s, n, m, m}, io.beta, io.a,
                              io.b, &d, NULL, NULL, NULL, &i2), OPK_OK);
        CHECK(!memcmp(f1, io.f, n * 4) && i1.iterations == i2.iterations &&
                  i1.iterations % 10 == 0,
              "%s: NULL opts/outputs", bn);
        /* Zero sizes do nothing. */
        opk_sinkhorn_info iz = {-1, -1, -1};
        CHECK_ST(opk_sinkhorn(ctx, (opk_cmat){NULL, 0, 5, 5}, 1, NULL, NULL,
                              NULL, NULL, io.g, NULL, &iz), OPK_OK);
        CHECK(iz.iterations == 0 && iz.converged == 1, "zero size info");
        CHECK_ST(opk_sinkhorn(ctx, (opk_cmat){NULL, 4, 0, 0}, 1, NULL, NULL,
                              NULL, io.f, NULL, NULL, NULL), OPK_OK);
        /* ... but bad masses are still bad arguments. */
        const float bad[3] = {1.0f, NAN, 1.0f};
        CHECK_ST(opk_sinkhorn(ctx, (opk_cmat){NULL, 0, 3, 3}, 1, NULL, bad,
                              NULL, NULL, io.g, NULL, NULL), OPK_ERR_INVALID_ARG);
        CHECK(strstr(opk_ctx_last_error(ctx), "b[1] is NaN"), "zero size, NaN mass: %s",
              opk_ctx_last_error(ctx));
        opk_ctx_destroy(ctx);
        free(io.s), free(io.a), free(io.b), free(io.f), free(io.g), free(f1), free(g1);
    }
}

/* Zero masses give -inf potentials and zero rows/columns of P, never NaN;
 * a zero-mass row may have no finite score; P in place equals P apart. */
static void test_zero_masses_and_in_place(void)
{
    const size_t n = 20, m = 33;
    for (int bi = 0; bi < nbackends; bi++) {
        run_io io = {.n = n, .m = m, .ld = m, .beta = 1.0f};
        io.s = make_scores(n, m, m, 61, 1);
        make_masses(n, m, 61, &io.a, &io.b);
        io.a[3] = 0, io.a[19] = 0, io.b[0] = 0, io.b[32] = 0;
        for (size_t j = 0; j < m; j++)
            io.s[3 * m + j] = -INFINITY; /* allowed: its mass is zero */
        float sa = 0, sb = 0;
        for (size_t i = 0; i < n; i++)
            sa += io.a[i];
        for (size_t j = 0; j < m; j++)
            sb += io.b[j];
        for (size_t j = 0; j < m; j++)
            io.b[j] *= sa / sb;
        io.f = malloc(n * 4), io.g = malloc(m * 4), io.p = malloc(n * m * 4);
        io.o = opts(200, -1.0f, 5);
        CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
        int ok = io.f[3] == -INFINITY && io.f[19] == -INFINITY &&
                 io.g[0] == -INFINITY && io.g[32] == -INFINITY && io.info.converged;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m; j++) {
                float p = io.p[i * m + j];
                int zero = i == 3 || i == 19 || j == 0 || j == 32;
                ok &= !isnan(p) && (!zero || p == 0.0f);
            }
        for (size_t i = 0; i < n; i++)
            ok &= !isnan(io.f[i]);
        CHECK(ok, "%s: zero masses", opk_backend_name(backends[bi]));
        /* In place: same bits as a separate P. */
        float *p1 = io.p;
        io.p = io.s;
        CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
        CHECK(!memcmp(p1, io.s, n * m * 4), "%s: P in place differs",
              opk_backend_name(backends[bi]));
        free(io.s), free(io.a), free(io.b), free(io.f), free(io.g), free(p1);
    }
}

/* Valid scores whose sums overflow: column 0 of -3e38 and column 1 of
 * +3e38 make f ~ -3e38, then every u of column 0 is -inf, g_0 = +inf, and
 * the next row update sees +inf - +inf. The NaN and infinite potentials
 * that follow must be the scalar bits on every backend (the vector passes
 * switch to NaN-aware maxima there). */
static void test_overflow(void)
{
    const size_t n = 37, m = 45;
    run_io ref = {.n = n, .m = m, .ld = m, .beta = 1.0f};
    ref.s = make_scores(n, m, m, 71, 0);
    for (size_t i = 0; i < n; i++)
        ref.s[i * m] = -3e38f, ref.s[i * m + 1] = 3e38f;
    float *fr = malloc(n * 4), *gr = malloc(m * 4), *pr = malloc(n * m * 4);
    ref.f = malloc(n * 4), ref.g = malloc(m * 4), ref.p = malloc(n * m * 4);
    for (int variant = 0; variant < 2; variant++) {
        ref.o = opts(variant ? 7 : 2, 0.0f, variant ? 3 : 1);
        CHECK_ST(run(OPK_BACKEND_SCALAR, 1, &ref), OPK_OK);
        memcpy(fr, ref.f, n * 4), memcpy(gr, ref.g, m * 4), memcpy(pr, ref.p, n * m * 4);
        int odd = 0;
        for (size_t j = 0; j < m; j++)
            odd |= !isfinite(ref.g[j]);
        for (size_t i = 0; i < n; i++)
            odd |= isnan(ref.f[i]);
        CHECK(odd, "overflow case: all potentials finite");
        for (int bi = 1; bi < nbackends; bi++) {
            run_io io = ref;
            CHECK_ST(run(backends[bi], 0, &io), OPK_OK);
            const char *bn = opk_backend_name(backends[bi]);
            CHECK(same_bits(fr, io.f, 1, n, n, bn, "f") &&
                      same_bits(gr, io.g, 1, m, m, bn, "g") &&
                      same_bits(pr, io.p, n, m, m, bn, "P") &&
                      io.info.iterations == ref.info.iterations &&
                      io.info.converged == ref.info.converged,
                  "%s: overflow case differs from scalar", bn);
        }
    }
    free(fr), free(gr), free(pr), free(ref.s), free(ref.f), free(ref.g), free(ref.p);
}

/* An argument error: status, a message containing `word`, nothing written. */
typedef struct err_case {
    opk_cmat S;
    float beta;
    const float *a, *b;
    const opk_sinkhorn_opts *o;
    float *f, *g;
    const opk_mat *P;
} err_case;

static float fb[16], gb[16], pb[16 * 16];
static opk_sinkhorn_info ib;

static void expect_error(opk_ctx *ctx, err_case e, opk_status want,
                         const char *word, const char *what)
{
    float f0[16], g0[16], p0[256];
    opk_sinkhorn_info i0 = {-5, -5.0f, -5};
    for (int k = 0; k < 16; k++)
        fb[k] = gb[k] = -9.0f;
    for (int k = 0; k < 256; k++)
        pb[k] = -9.0f;
    ib = i0;
    memcpy(f0, fb, sizeof f0), memcpy(g0, gb, sizeof g0), memcpy(p0, pb, sizeof p0);
    opk_status st = opk_sinkhorn(ctx, e.S, e.beta, e.a, e.b, e.o, e.f, e.g, e.P,
                                 &ib);
    CHECK(st == want, "%s: got %s, want %s", what, opk_status_str(st),
          opk_status_str(want));
    const char *msg = opk_ctx_last_error(ctx);
    CHECK(strstr(msg, word) != NULL, "%s: message '%s' does not name '%s'",
          what, msg, word);
    CHECK(!memcmp(f0, fb, sizeof f0) && !memcmp(g0, gb, sizeof g0) &&
              !memcmp(p0, pb, sizeof p0) && !memcmp(&i0, &ib, sizeof i0),
          "%s: an output was written", what);
}

static void test_argument_errors(void)
{
    enum { N = 6, M = 8 };
    float s[N * M], a[N], b[M], s2[N * M];
    opk_fill(3, -3.0f, 2.0f, (opk_mat){s, N, M, M});
    for (int i = 0; i < N; i++)
        a[i] = 1.0f;
    for (int j = 0; j < M; j++)
        b[j] = (float)N / M;
    opk_mat P = {pb, N, M, M};
    const opk_sinkhorn_opts o = opk_sinkhorn_opts_default();
    for (int bi = 0; bi < nbackends; bi++) {
        opk_ctx *ctx = test_ctx(backends[bi], 0);
        err_case ok = {{s, N, M, M}, 1.0f, a, b, &o, fb, gb, &P};
        err_case e;
        CHECK_ST(opk_sinkhorn(NULL, ok.S, 1, a, b, &o, fb, gb, &P, &ib),
                 OPK_ERR_INVALID_ARG);
        CHECK(strstr(opk_ctx_last_error(NULL), "ctx") != NULL, "NULL ctx");
        e = ok, e.S.data = NULL;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "S", "NULL S");
        e = ok, e.S.ld = M - 1;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "ld", "S ld < cols");
        e = ok, e.S.rows = SIZE_MAX / 4;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "overflow", "S overflows");
        opk_mat Pbad = {pb, N, M - 1, M};
        e = ok, e.P = &Pbad;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "P is 6x7", "P shape");
        opk_mat Pnull = {NULL, N, M, M};
        e = ok, e.P = &Pnull;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "P", "P NULL data");
        opk_mat Pld = {pb, N, M, M - 2};
        e = ok, e.P = &Pld;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "ld", "P ld < cols");
        e = ok, e.beta = NAN;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "beta", "NaN beta");
        e = ok, e.beta = -INFINITY;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "beta", "inf beta");
        opk_sinkhorn_opts bo = o;
        bo.max_iter = 0;
        e = ok, e.o = &bo;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "max_iter", "max_iter 0");
        bo = o, bo.check_every = -1;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "check_every", "check_every");
        bo = o, bo.tol = NAN;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "tol", "NaN tol");
        bo = o, bo.tol = INFINITY; /* would stop at the first check */
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "tol (inf) must be finite", "inf tol");
        bo = o, bo.tol = -INFINITY;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "tol (-inf) must be finite", "-inf tol");
        /* Masses, naming the index. */
        float a2[N], b2[M];
        memcpy(a2, a, sizeof a2), memcpy(b2, b, sizeof b2);
        e = ok, e.a = a2, e.b = b2;
        a2[4] = -0.5f;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "a[4] is negative", "a < 0");
        a2[4] = NAN;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "a[4] is NaN", "a NaN");
        a2[4] = INFINITY;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "a[4] is infinite", "a inf");
        a2[4] = 1.0f, b2[7] = -1e-30f;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "b[7] is negative", "b < 0");
        b2[7] = NAN;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "b[7] is NaN", "b NaN");
        b2[7] = b[7] * 1.01f; /* sums differ by 0.13% */
        expect_error(ctx, e, OPK_ERR_INFEASIBLE, "masses differ", "mismatch");
        /* SPEC 3.2's threshold is 1e-4 relative: 5e-4 fails, 5e-5 passes. */
        b2[7] = b[7] + 0.003f; /* |sum a - sum b| = 0.003 = 5e-4 sum(a) */
        expect_error(ctx, e, OPK_ERR_INFEASIBLE, "masses differ", "mismatch 5e-4");
        b2[7] = b[7] + 0.0003f; /* 5e-5 sum(a): accepted */
        CHECK_ST(opk_sinkhorn(ctx, e.S, e.beta, e.a, e.b, e.o, NULL, NULL, NULL,
                              NULL), OPK_OK);
        e = ok, e.a = a2, e.b = NULL; /* defaults: b sums to N */
        a2[0] = 1.5f;
        expect_error(ctx, e, OPK_ERR_INFEASIBLE, "sum(b) = 6", "vs default b");
        /* Scores: NaN or +inf t, naming the pair. */
        memcpy(s2, s, sizeof s2);
        e = ok, e.S.data = s2;
        s2[2 * M + 3] = NAN;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "S[2][3]", "NaN score");
        s2[2 * M + 3] = INFINITY;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "S[2][3]", "+inf score");
        s2[2 * M + 3] = -INFINITY, e.beta = -1.0f; /* t = +inf */
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "S[2][3]", "-inf, beta < 0");
        s2[2 * M + 3] = 3e38f, e.beta = 2.0f; /* beta * S overflows */
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "S[2][3]", "t overflows");
        s2[2 * M + 3] = 1.0f, s2[5 * M + 1] = NAN, s2[4 * M + 7] = NAN;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "S[4][7]", "first bad pair");
        /* Infeasible rows and columns. */
        memcpy(s2, s, sizeof s2);
        e = ok, e.S.data = s2;
        for (int j = 0; j < M; j++)
            s2[3 * M + j] = -INFINITY;
        expect_error(ctx, e, OPK_ERR_INFEASIBLE, "row 3", "row without score");
        memcpy(s2, s, sizeof s2);
        for (int i = 0; i < N; i++)
            s2[i * M + 5] = -INFINITY;
        expect_error(ctx, e, OPK_ERR_INFEASIBLE, "column 5", "column w/o score");
        /* Row 1's only finite score is in a zero-mass column. */
        memcpy(s2, s, sizeof s2);
        memcpy(b2, b, sizeof b2);
        for (int j = 1; j < M; j++)
            s2[1 * M + j] = -INFINITY;
        b2[0] = 0, b2[1] += b[0];
        e = ok, e.S.data = s2, e.b = b2;
        expect_error(ctx, e, OPK_ERR_INFEASIBLE, "row 1", "row into zero column");
        /* Overlaps. */
        e = ok, e.g = fb + 2;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "f and g overlap", "f/g");
        memcpy(s2, s, sizeof s2);
        e = ok, e.S.data = s2, e.f = s2 + 5;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "output f overlaps input S",
                     "f/S");
        memcpy(b2, b, sizeof b2);
        e = ok, e.b = b2, e.g = b2 + 1;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "output g overlaps input b",
                     "g/b");
        opk_mat Pover = {pb + 3, N, M, M};
        e = ok, e.S.data = pb, e.P = &Pover;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "output P overlaps input S",
                     "P/S");
        opk_mat Pinpl = {pb, N - 1, M, M + 1};
        memcpy(pb, s, sizeof s);
        e = ok, e.S = (opk_cmat){pb, N - 1, M, M}, e.P = &Pinpl;
        e.a = e.b = NULL;
        expect_error(ctx, e, OPK_ERR_INVALID_ARG, "in-place", "in place, ld");
        opk_ctx_destroy(ctx);
    }
}

int main(void)
{
    nbackends = test_backends_for(OPK_KERNEL_SINKHORN, backends);
    CHECK(nbackends >= 1 && backends[0] == OPK_BACKEND_SCALAR,
          "the scalar backend must be usable");
    printf("backends:");
    for (int i = 0; i < nbackends; i++)
        printf(" %s", opk_backend_name(backends[i]));
    printf("\n");
    test_against_double();
    test_closed_forms();
    test_bit_identity_random();
    test_threads();
    test_info();
    test_zero_masses_and_in_place();
    test_overflow();
    test_argument_errors();
    return check_summary("test_sinkhorn");
}
