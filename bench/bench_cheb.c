/* Chebyshev propagation in `opk bench`: the symmetric normalized Laplacian
 * of opk_graph_grid(R, C, extra, seed 1) (dims R x C x extra x F), K = 20,
 * X n x F. Traffic as the issue counts it: K orders of
 * nnz * 8 + rows * 8 + 3 * n * F * 4 bytes. Building the graph is setup,
 * not timed.
 *
 * Variant "gather": the floor under "K20" on the same graph, counted in the
 * same bytes. K times, the reads of L and of the X row every stored entry
 * points at (one float per 64-byte line: every line is fetched, nothing is
 * computed but a sum), with the context's threads (one row, on the first
 * CPU backend selected: it does not use the backend). A random column costs a
 * whole line from memory, which the byte count does not see: this
 * row shows what the memory system gives for that pattern. For F >= 16 (an
 * X row of a line or more) each row is one add chain, as in the kernel. For
 * F < 16 a row's chain would set the time, not the loads, so the loop runs
 * over the stored entries of a chunk of rows with 8 independent sums and no
 * row structure at all: the loads alone, a floor the kernel (one fma chain
 * per row, SPEC 3.3) cannot reach. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define ORDERS 20

typedef struct cheb_state {
    opk_csr L;
    float *x, *y, c[ORDERS + 1];
    size_t n, F;
    int gather;
} cheb_state;

static const char *const variants[] = {"K20", "gather", NULL};
static const bench_shape shapes[] = {
    {"K20", {1000, 1000, 3000000, 1}},    {"gather", {1000, 1000, 3000000, 1}},
    {"K20", {1000, 1000, 3000000, 16}},   {"gather", {1000, 1000, 3000000, 16}},
    {"K20", {1000, 1000, 3000000, 64}},   {"gather", {1000, 1000, 3000000, 64}},
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
    st->gather = !strcmp(s->variant, "gather");
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

#define GATHER_AHEAD 32 /* entries: the X rows prefetched ahead */

#define GATHER_ROWS 4096 /* rows a chunk, handed out dynamically */

/* F < 16: the sum over the entries of rows [i0, i1) of val * X[col], in 8
 * independent sums, into y_i0. */
static void gather_flat(const cheb_state *st, int64_t i0, int64_t i1)
{
    const opk_csr L = st->L;
    const int64_t q1 = L.row_ptr[i1];
    float s[8] = {0};
    int64_t q = L.row_ptr[i0];
    for (; q + 8 <= q1; q += 8)
        for (int u = 0; u < 8; u++) {
            if (q + u + GATHER_AHEAD < L.nnz)
                __builtin_prefetch(st->x + (size_t)L.col_idx[q + u + GATHER_AHEAD] * st->F);
            s[u] = s[u] + L.val[q + u] * st->x[(size_t)L.col_idx[q + u] * st->F];
        }
    for (; q < q1; q++)
        s[0] = s[0] + L.val[q] * st->x[(size_t)L.col_idx[q] * st->F];
    st->y[(size_t)i0 * st->F] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* The "gather" floor (see the top): y_i = sum over row i's entries of
 * val * (X row's first float of each line). */
static void gather(const cheb_state *st, int threads)
{
    const opk_csr L = st->L;
    const size_t F = st->F;
    if (F < 16) {
        for (int k = 0; k < ORDERS; k++) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
            for (int64_t i = 0; i < L.rows; i += GATHER_ROWS)
                gather_flat(st, i, i + GATHER_ROWS < L.rows ? i + GATHER_ROWS : L.rows);
        }
        return;
    }
    for (int k = 0; k < ORDERS; k++) {
#pragma omp parallel for num_threads(threads) schedule(dynamic, GATHER_ROWS)
        for (int64_t i = 0; i < L.rows; i++) {
            float s = 0.0f;
            for (int64_t q = L.row_ptr[i]; q < L.row_ptr[i + 1]; q++) {
                if (q + GATHER_AHEAD < L.nnz) /* as opk_cheb does */
                    for (size_t f = 0; f < F; f += 16)
                        __builtin_prefetch(st->x + (size_t)L.col_idx[q + GATHER_AHEAD] * F + f);
                const float *xr = st->x + (size_t)L.col_idx[q] * F;
                for (size_t f = 0; f < F; f += 16)
                    s = s + L.val[q] * xr[f];
            }
            st->y[(size_t)i * F] = s;
        }
    }
}

static opk_status run(opk_ctx *ctx, void *state)
{
    cheb_state *st = state;
    if (st->gather) {
        gather(st, opk_ctx_num_threads(ctx));
        return OPK_OK;
    }
    return opk_cheb(ctx, st->L, 0.0f, 2.0f, st->c, ORDERS,
                    (opk_cmat){st->x, st->n, st->F, st->F},
                    (opk_mat){st->y, st->n, st->F, st->F});
}

const bench_kernel bench_cheb = {
    .name = "cheb",
    .op = OPK_KERNEL_CHEB,
    .ndims = 4,
    .zero_dims = 1u << 2, /* no extra edges: the plain torus grid */
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
    .host_variant = "gather",
};
