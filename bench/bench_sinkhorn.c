/* Sinkhorn in `opk bench`: n x m scores, potentials and no plan, tol 0.
 * Variants: "10it", 10 iterations a call with one error check at the end
 * (the cost of an iteration, plus the scan of S and the last check), and
 * "100it", 100 iterations with the default check every 10 (the issue's
 * target run, as POT's and PyTorch's loops check too). Traffic: S is read
 * twice an iteration (row pass, column pass; see README "Sinkhorn"), so the
 * rate is 2 * iters * n * m * 4 bytes over the time; ms per iteration is
 * the median / iters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct sk_state {
    float *s, *f, *g;
    size_t n, m;
    int iters;
} sk_state;

static const char *const variants[] = {"10it", "100it", NULL};
static const bench_shape shapes[] = {{"10it", {1024, 1024}},
                                     {"10it", {4096, 4096}},
                                     {"100it", {4096, 4096}},
                                     {"10it", {8192, 8192}}};
static const bench_shape quick[] = {{"10it", {512, 512}}};

static int iters_of(const bench_shape *s)
{
    return strcmp(s->variant, "100it") ? 10 : 100;
}

static double work(const bench_shape *s, const void *state)
{
    (void)state;
    return 2.0 * iters_of(s) * sizeof(float) * (double)s->dims[0] * (double)s->dims[1];
}

static void teardown(void *state)
{
    sk_state *st = state;
    if (st)
        free(st->s), free(st->f), free(st->g), free(st);
}

static int setup(const bench_shape *s, void **state, char *err, size_t n)
{
    sk_state *st = calloc(1, sizeof *st);
    size_t r = s->dims[0], c = s->dims[1];
    if (!st || r > SIZE_MAX / sizeof(float) / c) {
        snprintf(err, n, "sinkhorn %zux%zu is too large", r, c);
        free(st);
        return -1;
    }
    st->n = r, st->m = c;
    st->iters = iters_of(s);
    st->s = bench_alloc_floats(r * c);
    st->f = bench_alloc_floats(r);
    st->g = bench_alloc_floats(c);
    /* SPEC 4's Sinkhorn input range. */
    if (!st->s || !st->f || !st->g ||
        opk_fill(1, -3.0f, 2.0f, (opk_mat){st->s, r, c, c})) {
        snprintf(err, n, "cannot allocate sinkhorn %zux%zu", r, c);
        teardown(st);
        return -1;
    }
    *state = st;
    return 0;
}

static opk_status run(opk_ctx *ctx, void *state)
{
    sk_state *st = state;
    opk_sinkhorn_opts o = opk_sinkhorn_opts_default();
    o.max_iter = st->iters, o.tol = 0.0f;
    if (st->iters == 10)
        o.check_every = 10;
    opk_sinkhorn_info info;
    return opk_sinkhorn(ctx, (opk_cmat){st->s, st->n, st->m, st->m}, 1.0f,
                        NULL, NULL, &o, st->f, st->g, NULL, &info);
}

const bench_kernel bench_sinkhorn = {
    .name = "sinkhorn",
    .op = OPK_KERNEL_SINKHORN,
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
