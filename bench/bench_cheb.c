/* Chebyshev propagation in `opk bench`: the symmetric normalized Laplacian
 * of opk_graph_grid(R, C, extra, seed 1) (dims R x C x extra x F), K = 20,
 * X n x F. Traffic as the issue counts it: K orders of
 * nnz * 8 + rows * 8 + 3 * n * F * 4 bytes. Building the graph is setup,
 * not timed. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define ORDERS 20

typedef struct cheb_state {
    opk_csr L;
    float *x, *y, c[ORDERS + 1];
    size_t n, F;
} cheb_state;

static const char *const variants[] = {"K20", NULL};
static const bench_shape shapes[] = {
    {"K20", {1000, 1000, 3000000, 1}},
    {"K20", {1000, 1000, 3000000, 16}},
    {"K20", {1000, 1000, 3000000, 64}},
};
static const bench_shape quick[] = {{"K20", {100, 100, 30000, 16}}};

static double work(const bench_shape *s, const void *state)
{
    const cheb_state *st = state;
    (void)s;
    return ORDERS * ((double)st->L.nnz * 8 + (double)st->n * 8 +
                     3.0 * (double)st->n * (double)st->F * 4);
}

static void teardown(void *state)
{
    cheb_state *st = state;
    if (st) {
        opk_csr_free(&st->L);
        free(st->x), free(st->y), free(st);
    }
}

static int setup(const bench_shape *s, void **state, char *err, size_t n)
{
    cheb_state *st = calloc(1, sizeof *st);
    if (!st)
        return snprintf(err, n, "out of memory"), -1;
    opk_csr A = {0};
    if (opk_graph_grid(s->dims[0], s->dims[1], s->dims[2], 1, &A) ||
        opk_laplacian(A, OPK_LAPLACIAN_SYMMETRIC, &st->L)) {
        snprintf(err, n, "cannot build the graph: %s", opk_ctx_last_error(NULL));
        opk_csr_free(&A);
        free(st);
        return -1;
    }
    opk_csr_free(&A);
    st->n = (size_t)st->L.rows, st->F = s->dims[3];
    st->x = bench_alloc_floats(st->n * st->F);
    st->y = bench_alloc_floats(st->n * st->F);
    if (!st->x || !st->y ||
        opk_fill(2, -1.0f, 2.0f, (opk_mat){st->x, st->n, st->F, st->F}) ||
        opk_fill(3, -1.0f, 0.5f, (opk_mat){st->c, 1, ORDERS + 1, ORDERS + 1})) {
        snprintf(err, n, "cannot allocate %zu x %zu features", st->n, st->F);
        teardown(st);
        return -1;
    }
    *state = st;
    return 0;
}

static opk_status run(opk_ctx *ctx, void *state)
{
    cheb_state *st = state;
    return opk_cheb(ctx, st->L, 0.0f, 2.0f, st->c, ORDERS,
                    (opk_cmat){st->x, st->n, st->F, st->F},
                    (opk_mat){st->y, st->n, st->F, st->F});
}

const bench_kernel bench_cheb = {
    .name = "cheb",
    .op = OPK_KERNEL_CHEB,
    .ndims = 4,
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
