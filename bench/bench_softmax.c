/* Softmax in `opk bench`: Y = softmax(X) out of place, beta 1, along rows
 * or columns. Traffic: one read of X and one write of Y. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct softmax_state {
    float *x, *y;
    size_t rows, cols;
    opk_axis axis;
} softmax_state;

static const char *const variants[] = {"rows", "cols", NULL};

static const bench_shape shapes[] = {
    {"rows", {4096, 4096}},
    {"rows", {16384, 1024}},
    {"rows", {1024, 65536}},
    {"cols", {4096, 4096}},
};

static const bench_shape quick[] = {
    {"rows", {1024, 1024}},
    {"cols", {1024, 1024}},
};

static double work(const bench_shape *s, const void *state)
{
    (void)state;
    return 2.0 * sizeof(float) * (double)s->dims[0] * (double)s->dims[1];
}

static void teardown(void *state)
{
    softmax_state *st = state;
    if (st) {
        free(st->x);
        free(st->y);
        free(st);
    }
}

static int setup(const bench_shape *s, void **state, char *err, size_t n)
{
    size_t r = s->dims[0], c = s->dims[1];
    softmax_state *st = calloc(1, sizeof *st);
    if (!st || r > SIZE_MAX / sizeof(float) / c) {
        snprintf(err, n, "softmax %zux%zu is too large", r, c);
        free(st);
        return -1;
    }
    st->rows = r;
    st->cols = c;
    st->axis = strcmp(s->variant, "cols") ? OPK_ROWS : OPK_COLS;
    st->x = bench_alloc_floats(r * c);
    st->y = bench_alloc_floats(r * c);
    opk_mat X = {st->x, r, c, c};
    if (!st->x || !st->y || opk_fill(1, -4.0f, 4.0f, X)) {
        snprintf(err, n, "cannot allocate and fill softmax %zux%zu (2 x %zu "
                 "MiB)", r, c, r * c * sizeof(float) >> 20);
        teardown(st);
        return -1;
    }
    /* Touch Y now so the first timed call takes no page faults. */
    memset(st->y, 0, r * c * sizeof(float));
    *state = st;
    return 0;
}

static opk_status run(opk_ctx *ctx, void *state)
{
    softmax_state *st = state;
    opk_cmat X = {st->x, st->rows, st->cols, st->cols};
    opk_mat Y = {st->y, st->rows, st->cols, st->cols};
    return opk_softmax(ctx, X, Y, 1.0f, st->axis, 0);
}

const bench_kernel bench_softmax = {
    .name = "softmax",
    .op = OPK_KERNEL_SOFTMAX,
    .ndims = 2,
    .variants = variants,
    .shapes = shapes,
    .nshapes = sizeof shapes / sizeof shapes[0],
    .quick = quick,
    .nquick = sizeof quick / sizeof quick[0],
    .limit = BENCH_BANDWIDTH,
    .work = work,
    .setup = setup,
    .run = run,
    .teardown = teardown,
};
