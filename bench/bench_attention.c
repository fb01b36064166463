/* Damped attention in `opk bench` (tau 1, no graph term, H = NULL).
 * "attention": softmax, sigmoid and sinkhorn (3 half-steps) modes, dims
 * n x m x d x dv, rated in GFLOP/s counted as 4 n m d (the issue's
 * convention) against the FMA peak. "attention-linear": the linear mode,
 * rated in GB/s of the bytes that must move (Q, K and V read, H (= V) read,
 * O written) against whichever limit bounds it: the bandwidth for those
 * bytes or the FMA peak for its flops (see lin_flops). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct attn_state {
    float *q, *k, *v, *o;
    size_t n, m, d, dv;
    opk_norm norm;
} attn_state;

static const char *const variants[] = {"softmax", "sigmoid", "sinkhorn", NULL};
static const bench_shape shapes[] = {{"softmax", {4096, 4096, 64, 64}},
                                     {"sigmoid", {4096, 4096, 64, 64}},
                                     {"sinkhorn", {4096, 4096, 64, 64}}};
static const bench_shape quick[] = {{"softmax", {512, 512, 64, 64}}};
static const char *const lin_variants[] = {"linear", NULL};
static const bench_shape lin_shapes[] = {{"linear", {1000000, 1000000, 32, 32}}};
static const bench_shape lin_quick[] = {{"linear", {50000, 50000, 32, 32}}};

static double flops(const bench_shape *s, const void *state)
{
    (void)state;
    return 4.0 * (double)s->dims[0] * (double)s->dims[1] * (double)s->dims[2];
}

static double bytes(const bench_shape *s, const void *state)
{
    (void)state;
    double n = (double)s->dims[0], m = (double)s->dims[1];
    double d = (double)s->dims[2], dv = (double)s->dims[3];
    return 4.0 * (n * d + m * d + m * dv + 2.0 * n * dv);
}

/* Linear mode's arithmetic, fma = 2 flops: KV and the outputs'
 * numerators 2 (n + m) d dv, the row norms 2 (n + m) d, the denominators'
 * dots 2 n d, the key sums ks and vs m (d + dv). */
static double lin_flops(const bench_shape *s, const void *state)
{
    (void)state;
    double n = (double)s->dims[0], m = (double)s->dims[1];
    double d = (double)s->dims[2], dv = (double)s->dims[3];
    return 2.0 * (n + m) * d * dv + 2.0 * (n + m) * d + 2.0 * n * d +
           m * (d + dv);
}

static void teardown(void *state)
{
    attn_state *st = state;
    if (st)
        free(st->q), free(st->k), free(st->v), free(st->o), free(st);
}

/* H = V (self-attention, as the graph term would need) takes n = m. */
static const char *size_rule(const size_t *dims)
{
    return dims[0] == dims[1] ? NULL : "n = m (n x m x d x dv; H = V)";
}

static int setup(const bench_shape *s, void **state, char *err, size_t len)
{
    attn_state *st = calloc(1, sizeof *st);
    if (!st)
        return snprintf(err, len, "out of memory"), -1;
    st->n = s->dims[0], st->m = s->dims[1], st->d = s->dims[2], st->dv = s->dims[3];
    const char *rule = size_rule(s->dims);
    if (rule) {
        free(st);
        return snprintf(err, len, "attention bench needs %s", rule), -1;
    }
    st->norm = !strcmp(s->variant, "sigmoid")    ? OPK_NORM_SIGMOID
               : !strcmp(s->variant, "sinkhorn") ? OPK_NORM_SINKHORN
               : !strcmp(s->variant, "linear")   ? OPK_NORM_LINEAR
                                                 : OPK_NORM_SOFTMAX;
    st->q = bench_alloc_floats(st->n * st->d);
    st->k = bench_alloc_floats(st->m * st->d);
    st->v = bench_alloc_floats(st->m * st->dv);
    st->o = bench_alloc_floats(st->n * st->dv);
    /* SPEC 4's attention input ranges. */
    if (!st->q || !st->k || !st->v || !st->o ||
        opk_fill(1, -1.0f, 2.0f, (opk_mat){st->q, st->n, st->d, st->d}) ||
        opk_fill(2, -1.0f, 2.0f, (opk_mat){st->k, st->m, st->d, st->d}) ||
        opk_fill(3, -1.5f, 1.0f, (opk_mat){st->v, st->m, st->dv, st->dv})) {
        snprintf(err, len, "cannot allocate attention %zux%zux%zux%zu", st->n,
                 st->m, st->d, st->dv);
        teardown(st);
        return -1;
    }
    memset(st->o, 0, st->n * st->dv * sizeof(float));
    *state = st;
    return 0;
}

static opk_status run(opk_ctx *ctx, void *state)
{
    attn_state *st = state;
    opk_attention_opts o = opk_attention_opts_default();
    o.norm = st->norm;
    return opk_attention(ctx, (opk_cmat){st->q, st->n, st->d, st->d},
                         (opk_cmat){st->k, st->m, st->d, st->d},
                         (opk_cmat){st->v, st->m, st->dv, st->dv}, NULL, &o,
                         (opk_mat){st->o, st->n, st->dv, st->dv});
}

const bench_kernel bench_attention = {
    .name = "attention",
    .op = OPK_KERNEL_ATTENTION,
    .ndims = 4,
    .size_rule = size_rule,
    .variants = variants,
    .shapes = shapes,
    .nshapes = sizeof shapes / sizeof shapes[0],
    .quick = quick,
    .nquick = sizeof quick / sizeof quick[0],
    .limit = BENCH_FMA_PEAK,
    .work = flops,
    .setup = setup,
    .run = run,
    .teardown = teardown,
};

const bench_kernel bench_attention_linear = {
    .name = "attention-linear",
    .op = OPK_KERNEL_ATTENTION,
    .ndims = 4,
    .size_rule = size_rule,
    .variants = lin_variants,
    .shapes = lin_shapes,
    .nshapes = 1,
    .quick = lin_quick,
    .nquick = 1,
    .limit = BENCH_BANDWIDTH,
    .work = bytes,
    .flops = lin_flops,
    .setup = setup,
    .run = run,
    .teardown = teardown,
};
