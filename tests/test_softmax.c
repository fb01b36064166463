/* Softmax (SPEC 3.1) on every usable backend:
 * - against a double-precision evaluation on many shapes (bound: see
 *   tools/refdouble.h, u * (8T + L + 2 log2 n + 8));
 * - bit-identical to the scalar reference on randomized shapes, strides,
 *   misaligned pointers and data with -inf, NaN, +inf, huge and tiny values
 *   (the first differing element is reported);
 * - identical for 1, 2, 3 and 7 threads;
 * - every special row, in place, padded ld, zero sizes;
 * - no access past the end of X or Y (guard pages), for every tail length;
 * - every argument error returns its status, names the argument, and leaves
 *   the output untouched. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "backends.h"
#include "check.h"
#include "guard.h"
#include "opk.h"
#include "refdouble.h"

static opk_backend backends[OPK_BACKEND_COUNT];
static int nbackends;

/* Random test data: fill(seed, lo, hi) with specials sprinkled in. */
static void make_data(float *x, size_t rows, size_t cols, size_t ld,
                      uint64_t seed, int specials)
{
    for (size_t i = 0; i < rows * ld; i++)
        x[i] = NAN; /* padding: must never be read */
    opk_fill(seed, -20.0f, 15.0f, (opk_mat){x, rows, cols, ld});
    if (!specials)
        return;
    static const float sp[] = {-INFINITY, -INFINITY, -INFINITY, NAN,
                               INFINITY,  3.0e38f,   -3.0e38f,  1e-40f,
                               -1e-45f,   0.0f,      -0.0f,     88.0f};
    for (size_t k = 0; k < rows * cols; k++) {
        uint64_t r = opk_rand(seed + 77, k);
        if (r % 53 == 0)
            x[(k / cols) * ld + k % cols] = sp[(r >> 8) % 12];
    }
    /* Some rows all -inf, some with a single finite entry. */
    for (size_t i = 0; i < rows; i++) {
        uint64_t r = opk_rand(seed + 78, i);
        if (r % 11 == 0)
            for (size_t j = 0; j < cols; j++)
                x[i * ld + j] = -INFINITY;
        else if (r % 13 == 0)
            for (size_t j = 0; j < cols; j++)
                x[i * ld + j] = j == (r >> 8) % cols ? 2.0f : -INFINITY;
    }
}

static int run(opk_backend b, int threads, const float *x, size_t ldx,
               float *y, size_t ldy, size_t rows, size_t cols, float beta,
               opk_axis axis, unsigned flags)
{
    opk_ctx *ctx = test_ctx(b, threads);
    opk_status st = opk_softmax(ctx, (opk_cmat){x, rows, cols, ldx},
                                (opk_mat){y, rows, cols, ldy}, beta, axis,
                                flags);
    if (st)
        fprintf(stderr, "%s: %s\n", opk_backend_name(b),
                opk_ctx_last_error(ctx));
    opk_ctx_destroy(ctx);
    return st;
}

/* Compares y against the reference bits; reports the first difference. */
static int same_bits(const float *ref, const float *y, size_t rows,
                     size_t cols, size_t ld, const char *what)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            float a = ref[i * ld + j], b = y[i * ld + j];
            if (memcmp(&a, &b, 4) && !(isnan(a) && isnan(b))) {
                fprintf(stderr,
                        "%s: first difference at (%zu, %zu): scalar %a "
                        "(%.9g), got %a (%.9g)\n",
                        what, i, j, a, a, b, b);
                return 0;
            }
        }
    return 1;
}

static void test_against_double(void)
{
    static const size_t shapes[][2] = {{1, 1},    {1, 16},   {2, 17},
                                       {7, 33},   {16, 100}, {31, 257},
                                       {100, 31}, {3, 4099}, {257, 5}};
    static const float betas[] = {1.0f, 0.37f, -2.5f};
    for (int bi = 0; bi < nbackends; bi++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int axis = 0; axis < 2; axis++)
                for (int log = 0; log < 2; log++) {
                    size_t rows = shapes[s][0], cols = shapes[s][1];
                    float beta = betas[(s + (size_t)axis) % 3];
                    float *x = malloc(rows * cols * 4), *y = malloc(rows * cols * 4);
                    make_data(x, rows, cols, cols, 1000 + s, 0);
                    CHECK_ST(run(backends[bi], 0, x, cols, y, cols, rows, cols,
                                 beta, (opk_axis)axis, log ? OPK_LOG : 0),
                             OPK_OK);
                    double tol, e = ref_softmax_error(x, cols, y, cols, rows,
                                                      cols, beta, axis, log, &tol);
                    CHECK(e <= tol, "%s %zux%zu axis %d log %d beta %g: error "
                          "%.3g above bound %.3g",
                          opk_backend_name(backends[bi]), rows, cols, axis, log,
                          (double)beta, e, tol);
                    free(x), free(y);
                }
}

static void test_bit_identity_random(void)
{
    static const size_t dims[] = {1, 2, 3, 5, 7, 15, 16, 17, 31, 32, 33,
                                  47, 63, 64, 65, 100, 127, 129, 257, 1000};
    const size_t nd = sizeof dims / sizeof dims[0];
    static const float betas[] = {1.0f, 0.5f, -1.7f, 3.0f, 1e-3f};
    const uint64_t ncases = test_scaled(240); /* OPK_TEST_SCALE */
    for (uint64_t t = 0; t < ncases; t++) {
        uint64_t r = opk_rand(4242, t);
        size_t rows = dims[r % nd], cols = dims[(r >> 8) % nd];
        size_t pad = (r >> 16) % 4, off = (r >> 20) % 4; /* floats */
        float beta = betas[(r >> 24) % 5];
        opk_axis axis = (opk_axis)((r >> 28) & 1);
        unsigned flags = (r >> 29) & 1 ? OPK_LOG : 0;
        int inplace = (r >> 30) % 5 == 0;
        size_t ld = cols + pad, n = rows * ld + off;
        float *xbuf = malloc(n * 4), *rbuf = malloc(n * 4), *ybuf = malloc(n * 4);
        float *x = xbuf + off, *ref = rbuf + off, *y = ybuf + off;
        make_data(x, rows, cols, ld, t, 1);
        for (size_t i = 0; i < rows * ld; i++)
            ref[i] = -7.0f;
        CHECK_ST(run(OPK_BACKEND_SCALAR, 1, x, ld, ref, ld, rows, cols, beta,
                     axis, flags), OPK_OK);
        for (int bi = 0; bi < nbackends; bi++) {
            for (size_t i = 0; i < rows * ld; i++)
                y[i] = -7.0f;
            if (inplace)
                memcpy(y, x, rows * ld * 4);
            CHECK_ST(run(backends[bi], 0, inplace ? y : x, ld, y, ld, rows, cols,
                         beta, axis, flags), OPK_OK);
            char what[160];
            snprintf(what, sizeof what,
                     "%s case %llu: %zux%zu ld %zu offset %zu beta %g axis %d "
                     "log %d inplace %d",
                     opk_backend_name(backends[bi]), (unsigned long long)t, rows,
                     cols, ld, off, (double)beta, (int)axis, flags != 0, inplace);
            CHECK(same_bits(ref, y, rows, cols, ld, what), "%s", what);
            /* The padding of Y is never written. */
            int pad_ok = 1;
            for (size_t i = 0; i < rows && !inplace; i++)
                for (size_t j = cols; j < ld; j++)
                    pad_ok &= y[i * ld + j] == -7.0f;
            CHECK(pad_ok, "%s: padding written", what);
        }
        free(xbuf), free(rbuf), free(ybuf);
    }
}

static void test_threads(void)
{
    static const int threads[] = {1, 2, 3, 7};
    const size_t rows = 700, cols = 1100;
    float *x = malloc(rows * cols * 4), *y = malloc(rows * cols * 4);
    make_data(x, rows, cols, cols, 99, 1);
    for (int bi = 0; bi < nbackends; bi++)
        for (int axis = 0; axis < 2; axis++) {
            uint64_t h0 = 0;
            for (int t = 0; t < 4; t++) {
                for (size_t i = 0; i < rows * cols; i++)
                    y[i] = -7.0f; /* no output of an earlier call survives */
                CHECK_ST(run(backends[bi], threads[t], x, cols, y, cols, rows,
                             cols, 1.0f, (opk_axis)axis, 0), OPK_OK);
                uint64_t h;
                opk_hash((opk_cmat){y, rows, cols, cols}, &h);
                if (t == 0)
                    h0 = h;
                CHECK(h == h0, "%s axis %d: %d threads give %016llx, 1 thread "
                      "%016llx", opk_backend_name(backends[bi]), axis,
                      threads[t], (unsigned long long)h, (unsigned long long)h0);
            }
        }
    free(x), free(y);
}

/* Each special row of SPEC 3.1, as a row (axis rows) and as a column. */
static void test_special_rows(void)
{
    enum { N = 37 };
    struct {
        const char *name;
        float v[3]; /* values placed at 0, 5, 36; rest -inf or finite */
        int rest_inf;
        float beta;
        int expect; /* 0: zero/-inf row, 1: NaN row, 2: regular */
    } cases[] = {
        {"all -inf", {-INFINITY, -INFINITY, -INFINITY}, 1, 1.0f, 0},
        {"NaN", {1.0f, NAN, 2.0f}, 0, 1.0f, 1},
        {"+inf", {1.0f, INFINITY, 2.0f}, 0, 1.0f, 1},
        {"-inf with beta < 0", {1.0f, -INFINITY, 2.0f}, 0, -1.0f, 1},
        {"beta*x overflows", {3e38f, 1.0f, 2.0f}, 0, 2.0f, 1},
        {"one finite", {-INFINITY, 4.0f, -INFINITY}, 1, 1.0f, 2},
        {"huge negative", {-3e38f, 1.0f, 2.0f}, 0, 1.0f, 2},
    };
    for (int bi = 0; bi < nbackends; bi++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            for (int axis = 0; axis < 2; axis++)
                for (int log = 0; log < 2; log++) {
                    float x[N], y[N];
                    for (int j = 0; j < N; j++)
                        x[j] = cases[c].rest_inf ? -INFINITY : (float)(j % 5) - 2.0f;
                    x[0] = cases[c].v[0], x[5] = cases[c].v[1], x[36] = cases[c].v[2];
                    size_t rows = axis ? N : 1, cols = axis ? 1 : N;
                    run(backends[bi], 1, x, cols, y, cols, rows, cols,
                        cases[c].beta, (opk_axis)axis, log ? OPK_LOG : 0);
                    int ok = 1;
                    double sum = 0;
                    for (int j = 0; j < N; j++) {
                        if (cases[c].expect == 1)
                            ok &= isnan(y[j]);
                        else if (cases[c].expect == 0)
                            ok &= log ? y[j] == -INFINITY
                                      : (y[j] == 0.0f && !signbit(y[j]));
                        else
                            sum += log ? exp(y[j]) : y[j];
                    }
                    if (cases[c].expect == 2)
                        ok &= fabs(sum - 1.0) < 1e-5;
                    CHECK(ok, "%s: special row '%s' axis %d log %d",
                          opk_backend_name(backends[bi]), cases[c].name, axis, log);
                }
}

/* X and Y end at a guard page: a read or write past the last element of
 * the last row crashes the test. Tails of every length 1..33. */
static void test_guard_pages(void)
{
    for (int bi = 0; bi < nbackends; bi++)
        for (size_t cols = 1; cols <= 33; cols++)
            for (int v = 0; v < 8; v++) {
                size_t rows = v & 1 ? 3 : 1, n = rows * cols;
                opk_axis axis = (opk_axis)((v >> 1) & 1);
                int log = (v >> 2) & 1, inplace = cols % 5 == 0;
                guarded gx, gy;
                if (guarded_alloc(&gx, n) || guarded_alloc(&gy, n)) {
                    CHECK(0, "cannot allocate guarded buffers");
                    return;
                }
                make_data(gx.data, rows, cols, cols, 500 + cols, 0);
                float *y = inplace ? gx.data : gy.data;
                int st = run(backends[bi], 1, gx.data, cols, y, cols, rows,
                             cols, 1.0f, axis, log ? OPK_LOG : 0);
                CHECK(st == OPK_OK && (log ? y[n - 1] <= 0.0f : y[n - 1] >= 0.0f),
                      "%s guarded %zux%zu axis %d log %d",
                      opk_backend_name(backends[bi]), rows, cols, (int)axis, log);
                guarded_free(&gx), guarded_free(&gy);
            }
}

static void test_zero_sizes(void)
{
    for (int bi = 0; bi < nbackends; bi++) {
        opk_ctx *ctx = test_ctx(backends[bi], 0);
        CHECK_ST(opk_softmax(ctx, (opk_cmat){NULL, 0, 5, 5},
                             (opk_mat){NULL, 0, 5, 5}, 1.0f, OPK_ROWS, 0), OPK_OK);
        CHECK_ST(opk_softmax(ctx, (opk_cmat){NULL, 4, 0, 0},
                             (opk_mat){NULL, 4, 0, 0}, 1.0f, OPK_COLS, OPK_LOG),
                 OPK_OK);
        opk_ctx_destroy(ctx);
    }
}

/* An argument error: the status, a message naming `word`, Y untouched. */
static void expect_error(opk_ctx *ctx, opk_cmat X, opk_mat Y, float beta,
                         opk_axis axis, unsigned flags, opk_status want,
                         const char *word, const float *ybuf, size_t n,
                         const char *what)
{
    float before[64];
    memcpy(before, ybuf, n * 4);
    opk_status st = opk_softmax(ctx, X, Y, beta, axis, flags);
    CHECK(st == want, "%s: got %s", what, opk_status_str(st));
    const char *msg = opk_ctx_last_error(ctx);
    CHECK(strstr(msg, word) != NULL, "%s: message '%s' does not name '%s'",
          what, msg, word);
    CHECK(!memcmp(before, ybuf, n * 4), "%s: output was written", what);
}

static void test_argument_errors(void)
{
    float xb[64], yb[64];
    for (int i = 0; i < 64; i++)
        xb[i] = (float)i, yb[i] = -1.0f;
    opk_ctx *ctx = test_ctx(OPK_BACKEND_AUTO, 0);
    opk_cmat X = {xb, 4, 8, 8};
    opk_mat Y = {yb, 4, 8, 8};
    CHECK_ST(opk_softmax(NULL, X, Y, 1.0f, OPK_ROWS, 0), OPK_ERR_INVALID_ARG);
    CHECK(strstr(opk_ctx_last_error(NULL), "ctx") != NULL, "NULL ctx message");
    expect_error(ctx, (opk_cmat){NULL, 4, 8, 8}, Y, 1, OPK_ROWS, 0,
                 OPK_ERR_INVALID_ARG, "X", yb, 32, "NULL X");
    expect_error(ctx, X, (opk_mat){NULL, 4, 8, 8}, 1, OPK_ROWS, 0,
                 OPK_ERR_INVALID_ARG, "Y", yb, 32, "NULL Y");
    expect_error(ctx, (opk_cmat){xb, 4, 8, 7}, Y, 1, OPK_ROWS, 0,
                 OPK_ERR_INVALID_ARG, "ld", yb, 32, "X ld < cols");
    expect_error(ctx, X, (opk_mat){yb, 4, 8, 6}, 1, OPK_ROWS, 0,
                 OPK_ERR_INVALID_ARG, "ld", yb, 32, "Y ld < cols");
    expect_error(ctx, (opk_cmat){xb, SIZE_MAX / 8, 8, 8},
                 (opk_mat){yb, SIZE_MAX / 8, 8, 8}, 1, OPK_ROWS, 0,
                 OPK_ERR_INVALID_ARG, "overflow", yb, 32, "overflowing size");
    expect_error(ctx, (opk_cmat){xb, 2, SIZE_MAX, SIZE_MAX}, Y, 1, OPK_ROWS, 0,
                 OPK_ERR_INVALID_ARG, "overflow", yb, 32, "overflowing ld");
    expect_error(ctx, X, (opk_mat){yb, 4, 7, 8}, 1, OPK_ROWS, 0,
                 OPK_ERR_INVALID_ARG, "Y is 4x7", yb, 32, "shape mismatch");
    expect_error(ctx, X, Y, NAN, OPK_ROWS, 0, OPK_ERR_INVALID_ARG, "beta", yb,
                 32, "NaN beta");
    expect_error(ctx, X, Y, INFINITY, OPK_ROWS, 0, OPK_ERR_INVALID_ARG, "beta",
                 yb, 32, "inf beta");
    expect_error(ctx, X, Y, 1, (opk_axis)2, 0, OPK_ERR_INVALID_ARG, "axis", yb,
                 32, "bad axis");
    expect_error(ctx, X, Y, 1, OPK_ROWS, 0x10, OPK_ERR_INVALID_ARG, "flags", yb,
                 32, "bad flags");
    /* Overlaps: Y shifted by one element; in place with another ld. */
    expect_error(ctx, (opk_cmat){yb, 4, 8, 8}, (opk_mat){yb + 1, 4, 8, 8}, 1,
                 OPK_ROWS, 0, OPK_ERR_INVALID_ARG, "overlap", yb, 40,
                 "overlapping buffers");
    expect_error(ctx, (opk_cmat){yb, 3, 8, 8}, (opk_mat){yb, 3, 8, 9}, 1,
                 OPK_ROWS, 0, OPK_ERR_INVALID_ARG, "in-place", yb, 40,
                 "in place with different ld");
    /* Adjacent, not overlapping: fine. */
    CHECK_ST(opk_softmax(ctx, (opk_cmat){yb, 2, 8, 8}, (opk_mat){yb + 16, 2, 8, 8},
                         1.0f, OPK_ROWS, 0), OPK_OK);
    opk_ctx_destroy(ctx);
}

int main(void)
{
    nbackends = test_backends_for(OPK_KERNEL_SOFTMAX, backends);
    CHECK(nbackends >= 1 && backends[0] == OPK_BACKEND_SCALAR,
          "the scalar backend must be usable");
    printf("backends:");
    for (int i = 0; i < nbackends; i++)
        printf(" %s", opk_backend_name(backends[i]));
    printf("\n");
    test_against_double();
    test_bit_identity_random();
    test_threads();
    test_special_rows();
    test_guard_pages();
    test_zero_sizes();
    test_argument_errors();
    return check_summary("test_softmax");
}
