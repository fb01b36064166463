/* Softmax (SPEC 3.1) on every usable backend, in the corners the SIMD
 * kernels add over tests/test_softmax.c:
 * - no element outside the matrix is read or written: matrices placed
 *   against PROT_NONE guard pages (end of the last row, start of the first
 *   row), X and Y, in place too, both axes;
 * - long rows (> 65536) with special values in the masked tail;
 * - a huge leading dimension (column blocks, strided rows);
 * - outputs larger than the last-level cache (32 MiB here), where the row
 *   kernels switch to streaming stores: misaligned and aligned Y, in place;
 * - tall and wide column-mode shapes spanning several column blocks;
 * - beta = +0 and -0 (zeros and NaN from infinite x).
 * Each result is bit-identical to the scalar reference (first differing
 * element reported); Y's padding is never written. */
#define _DEFAULT_SOURCE /* mmap flags */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backends.h"
#include "check.h"
#include "opk.h"

static opk_backend backends[OPK_BACKEND_COUNT];
static int nbackends;

/* Random data with specials: values that keep a row regular (-inf, huge
 * negative, subnormal, zeros) anywhere; NaN, +inf and 3e38 (which beta > 1.2
 * overflows) only in one row (by_cols: column) of five, so that most long
 * rows (columns) stay regular. */
static void fill_by(float *x, size_t rows, size_t cols, size_t ld,
                    uint64_t seed, int by_cols)
{
    opk_fill(seed, -20.0f, 15.0f, (opk_mat){x, rows, cols, ld});
    static const float benign[] = {-INFINITY, -INFINITY, -3.0e38f, 1e-40f,
                                   -1e-45f,   -0.0f,     0.0f,     80.0f};
    static const float bad[] = {NAN, INFINITY, 3.0e38f};
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            int spoil = opk_rand(seed + 6, by_cols ? j : i) % 5 == 0;
            uint64_t r = opk_rand(seed + 5, i * cols + j);
            if (r % 97 == 0)
                x[i * ld + j] = benign[(r >> 8) % 8];
            else if (spoil && r % 89 == 0)
                x[i * ld + j] = bad[(r >> 8) % 3];
        }
    }
}

static void fill(float *x, size_t rows, size_t cols, size_t ld, uint64_t seed)
{
    fill_by(x, rows, cols, ld, seed, 0);
}

static opk_status run(opk_backend b, int threads, const float *x, size_t ldx,
                      float *y, size_t ldy, size_t rows, size_t cols,
                      float beta, int axis, int log)
{
    opk_ctx *ctx = test_ctx(b, threads);
    opk_status st = opk_softmax(ctx, (opk_cmat){x, rows, cols, ldx},
                                (opk_mat){y, rows, cols, ldy}, beta,
                                axis ? OPK_COLS : OPK_ROWS, log ? OPK_LOG : 0);
    if (st)
        fprintf(stderr, "%s: %s\n", opk_backend_name(b), opk_ctx_last_error(ctx));
    opk_ctx_destroy(ctx);
    return st;
}

/* Bits equal (any NaN equals any NaN); reports the first difference. */
static int same_bits(const float *ref, size_t ldr, const float *y, size_t ldy,
                     size_t rows, size_t cols, const char *what)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            float a = ref[i * ldr + j], b = y[i * ldy + j];
            if (memcmp(&a, &b, 4) && !(isnan(a) && isnan(b))) {
                fprintf(stderr, "%s: first difference at (%zu, %zu): scalar "
                        "%a (%.9g), got %a (%.9g)\n", what, i, j, a, a, b, b);
                return 0;
            }
        }
    return 1;
}

/* ---- guard pages ---------------------------------------------------------------- */

typedef struct guarded {
    void *base;
    size_t len;
    float *p; /* n floats, against the front or the back guard page */
} guarded;

static guarded guarded_alloc(size_t n, int at_end)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t body = (n * sizeof(float) + page - 1) / page * page;
    guarded g = {NULL, body + 2 * page, NULL};
    g.base = mmap(NULL, g.len, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g.base == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    char *b = g.base;
    mprotect(b, page, PROT_NONE);
    mprotect(b + page + body, page, PROT_NONE);
    g.p = at_end ? (float *)(b + page + body - n * sizeof(float))
                 : (float *)(b + page);
    return g;
}

static void test_guard_pages(void)
{
    static const size_t colsv[] = {1, 5, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100};
    static const size_t rowsv[] = {1, 2, 3, 17, 40};
    for (uint64_t t = 0; t < 160; t++) {
        uint64_t r = opk_rand(777, t);
        size_t cols = colsv[r % 13], rows = rowsv[(r >> 8) % 5];
        size_t ld = cols + (r >> 12) % 3;
        int axis = (r >> 16) & 1, log = (r >> 17) & 1, at_end = (r >> 18) & 1;
        int inplace = (r >> 19) % 4 == 0;
        size_t n = (rows - 1) * ld + cols; /* floats the matrix spans */
        float *ref = malloc(rows * ld * sizeof(float));
        guarded gx = guarded_alloc(n, at_end);
        fill(gx.p, rows, cols, ld, t);
        run(OPK_BACKEND_SCALAR, 1, gx.p, ld, ref, ld, rows, cols, 1.0f, axis, log);
        for (int bi = 0; bi < nbackends; bi++) {
            guarded gy = guarded_alloc(n, !at_end);
            float *y = inplace ? gx.p : gy.p;
            if (inplace)
                fill(gx.p, rows, cols, ld, t);
            else
                for (size_t i = 0; i < n; i++)
                    y[i] = -7.0f;
            run(backends[bi], 0, gx.p, ld, y, ld, rows, cols, 1.0f, axis, log);
            char what[128];
            snprintf(what, sizeof what, "%s guard case %llu: %zux%zu ld %zu axis "
                     "%d log %d at_end %d inplace %d", opk_backend_name(backends[bi]),
                     (unsigned long long)t, rows, cols, ld, axis, log, at_end, inplace);
            CHECK(same_bits(ref, ld, y, ld, rows, cols, what), "%s", what);
            int pad_ok = 1;
            for (size_t i = 0; i + 1 < rows && !inplace; i++)
                for (size_t j = cols; j < ld; j++)
                    pad_ok &= y[i * ld + j] == -7.0f;
            CHECK(pad_ok, "%s: padding written", what);
            munmap(gy.base, gy.len);
        }
        munmap(gx.base, gx.len);
        free(ref);
    }
}

/* ---- long rows, huge ld, large outputs ------------------------------------------ */

/* Runs every backend on X (rows x cols, ld) against the scalar result, out
 * of place (Y with its own ld and offset) and in place. */
static void compare_all(const float *x, size_t rows, size_t cols, size_t ld,
                        size_t ldy, size_t yoff, float beta, int axis, int log,
                        int threads, const char *name)
{
    size_t ny = rows * (ldy > ld ? ldy : ld) + yoff;
    float *ref = malloc(ny * sizeof(float)), *ybuf = malloc(ny * sizeof(float));
    float *y = ybuf + yoff;
    run(OPK_BACKEND_SCALAR, 1, x, ld, ref, ldy, rows, cols, beta, axis, log);
    for (int bi = 1; bi < nbackends; bi++)
        for (int inplace = 0; inplace < 2; inplace++) {
            char what[160];
            snprintf(what, sizeof what, "%s %s: %zux%zu ld %zu ldy %zu yoff %zu "
                     "axis %d log %d inplace %d threads %d",
                     opk_backend_name(backends[bi]), name, rows, cols, ld, ldy,
                     yoff, axis, log, inplace, threads);
            if (inplace) { /* Y takes X's ld */
                for (size_t i = 0; i < rows; i++)
                    memcpy(y + i * ld, x + i * ld, cols * sizeof(float));
                run(backends[bi], threads, y, ld, y, ld, rows, cols, beta, axis, log);
                float *r2 = ref;
                if (ldy != ld) {
                    r2 = malloc(rows * ld * sizeof(float));
                    run(OPK_BACKEND_SCALAR, 1, x, ld, r2, ld, rows, cols, beta,
                        axis, log);
                }
                CHECK(same_bits(r2, ld, y, ld, rows, cols, what), "%s", what);
                if (r2 != ref)
                    free(r2);
                continue;
            }
            for (size_t i = 0; i < rows * ldy; i++)
                y[i] = -7.0f;
            run(backends[bi], threads, x, ld, y, ldy, rows, cols, beta, axis, log);
            CHECK(same_bits(ref, ldy, y, ldy, rows, cols, what), "%s", what);
            int pad_ok = 1;
            for (size_t i = 0; i < rows; i++)
                for (size_t j = cols; j < ldy; j++)
                    pad_ok &= y[i * ldy + j] == -7.0f;
            CHECK(pad_ok, "%s: padding written", what);
        }
    free(ref), free(ybuf);
}

static void test_long_rows(void)
{
    const size_t rows = 7, cols = 70001, ld = 70003;
    float *x = malloc(rows * ld * sizeof(float));
    fill(x, rows, cols, ld, 31);
    float *last = x + cols - 1; /* specials in the masked tail */
    last[1 * ld] = NAN;
    for (size_t j = 0; j < cols; j++)
        x[2 * ld + j] = x[4 * ld + j] = -INFINITY;
    last[2 * ld] = 1.5f;  /* one finite entry, in the tail */
    last[3 * ld] = INFINITY;
    last[4 * ld] = NAN;   /* NaN among -inf: a NaN row, not an all -inf row */
    last[5 * ld] = 3e38f; /* beta * x overflows with beta 2 */
    for (int log = 0; log < 2; log++) {
        compare_all(x, rows, cols, ld, cols + 1, 1, 2.0f, 0, log, 0, "long rows");
        compare_all(x, rows, cols, ld, cols, 0, 1.0f, 0, log, 2, "long rows");
        compare_all(x, rows, cols, ld, cols, 3, 0.5f, 1, log, 3, "wide cols");
    }
    free(x);
}

static void test_huge_ld(void)
{
    /* Only the rows' first columns are touched: the rest stays unmapped. */
    const size_t rows = 40, cols = 37, ld = 100003;
    float *x = malloc(rows * ld * sizeof(float));
    for (size_t i = 0; i < rows; i++)
        fill(x + i * ld, 1, cols, cols, 50 + i);
    for (int axis = 0; axis < 2; axis++)
        for (int log = 0; log < 2; log++)
            compare_all(x, rows, cols, ld, ld - 5, 1, 1.0f, axis, log, 0, "huge ld");
    free(x);
}

static void test_streaming_size(void)
{
    /* 33.6 MB per matrix: above a 32 MiB last-level cache. */
    const size_t rows = 1025, cols = 8195, ld = 8200;
    float *x = malloc(rows * ld * sizeof(float));
    fill(x, rows, cols, ld, 9);
    compare_all(x, rows, cols, ld, cols, 1, 1.0f, 0, 0, 0, "streaming");
    compare_all(x, rows, cols, ld, ld, 0, 1.0f, 0, 1, 0, "streaming");
    fill_by(x, rows, cols, ld, 9, 1);
    compare_all(x, rows, cols, ld, ld, 0, 1.0f, 1, 0, 0, "streaming");
    free(x);
    const size_t r2 = 1024, c2 = 8192; /* aligned rows */
    float *x2 = aligned_alloc(64, r2 * c2 * sizeof(float));
    fill(x2, r2, c2, c2, 10);
    compare_all(x2, r2, c2, c2, c2, 0, -0.75f, 0, 0, 2, "streaming aligned");
    fill_by(x2, r2, c2, c2, 10, 1);
    compare_all(x2, r2, c2, c2, c2, 0, 1.0f, 1, 0, 2, "streaming aligned");
    free(x2);
}

static void test_column_blocks(void)
{
    /* 1.1M rows: column mode's e buffer would pass 64 MiB, so e goes
     * through Y instead. */
    static const size_t shapes[][2] = {{5000, 300}, {100, 3000}, {3, 2500},
                                       {70000, 17}, {1100000, 3}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t rows = shapes[s][0], cols = shapes[s][1], ld = cols + 2;
        float *x = malloc(rows * ld * sizeof(float));
        fill_by(x, rows, cols, ld, 60 + s, 1);
        for (int log = 0; log < 2; log++)
            compare_all(x, rows, cols, ld, cols, 1, log ? -0.6f : 1.3f, 1, log,
                        log ? 1 : 3, "column blocks");
        free(x);
    }
}

/* beta = +-0: every t is +-0, or NaN where x is infinite. */
static void test_zero_beta(void)
{
    const size_t rows = 50, cols = 70, ld = 71;
    float *x = malloc(rows * ld * sizeof(float));
    fill(x, rows, cols, ld, 70);
    for (size_t j = 0; j < cols; j++) /* a column and a row of -inf */
        x[3 * ld + j] = -INFINITY;
    for (size_t i = 0; i < rows; i++)
        x[i * ld + 5] = -INFINITY;
    for (int axis = 0; axis < 2; axis++)
        for (int log = 0; log < 2; log++) {
            compare_all(x, rows, cols, ld, cols, 0, 0.0f, axis, log, 0, "beta 0");
            compare_all(x, rows, cols, ld, cols, 0, -0.0f, axis, log, 0, "beta -0");
        }
    free(x);
}

int main(void)
{
    nbackends = test_backends_for(OPK_KERNEL_SOFTMAX, backends);
    CHECK(nbackends >= 1 && backends[0] == OPK_BACKEND_SCALAR,
          "the scalar backend must be usable");
    test_guard_pages();
    test_long_rows();
    test_huge_ld();
    test_streaming_size();
    test_column_blocks();
    test_zero_beta();
    return check_summary("test_softmax_large");
}
