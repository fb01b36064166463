/* libFuzzer harness: the argument checks of opk_softmax and opk_sinkhorn
 * (opk_attention and opk_cheb: fuzz_attn_cheb.c; the graph tooling:
 * fuzz_graph.c; the helpers they share: harness.h). The input
 * picks a kernel, shapes, ld, where each matrix starts inside one shared
 * arena (so inputs and outputs may overlap), and the parameters (raw float
 * bits: NaN, inf, ...). Each call must return a status that agrees with
 * SPEC 7 as restated in the oracle below, and write nothing outside its
 * outputs' elements (nothing at all on failure). Shapes that would reach
 * past the arena are only passed when the checks must reject them (ld <
 * cols, byte counts overflowing size_t, NULL data). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opk.h"

#include "harness.h"

/* ---- softmax ---- */
static void softmax(rd *r, opk_ctx *ctx, float *arena, unsigned char *w)
{
    fmat x = make_mat(r, arena);
    fmat y = (take(r, 1) & 7) == 0 ? x : make_mat(r, arena); /* in place */
    if (take(r, 1) & 1) /* mostly matching shapes */
        y.rows = x.rows, y.cols = x.cols, settle(&y, arena);
    uint32_t bb = (uint32_t)take(r, 4);
    float beta;
    if (bb >> 30)
        beta = (float)(int)(bb % 9) - 4.0f; /* small, common values */
    else
        memcpy(&beta, &bb, 4);
    int axis = (int)(take(r, 1) % 4) - 1; /* -1, 0, 1, 2 */
    unsigned flags = (unsigned)(take(r, 1) % 3) * (take(r, 1) & 1 ? 1 : 2);
    int invalid = mat_invalid(&x) || mat_invalid(&y) || x.rows != y.rows ||
                  x.cols != y.cols || !isfinite(beta) || (axis != 0 && axis != 1) ||
                  (flags & ~OPK_LOG);
    int inplace = x.data == y.data;
    if (!invalid && inplace && x.ld != y.ld && x.rows > 1)
        invalid = 1;
    if (!invalid && !inplace && overlap(&x, &y))
        invalid = 1;
    if (!invalid && (!x.in_arena || !y.in_arena))
        return; /* valid but reaching outside the arena: not callable */
    /* Invalid calls are made even when a matrix reaches past the arena:
     * a check that read or wrote before rejecting would show under ASan. */
    opk_cmat X = {x.data, x.rows, x.cols, x.ld};
    opk_mat Y = {y.data, y.rows, y.cols, y.ld};
    opk_status st = opk_softmax(ctx, X, Y, beta, (opk_axis)axis, flags);
    if (invalid && st != OPK_ERR_INVALID_ARG)
        fail("softmax: invalid arguments accepted", st, ctx);
    if (!invalid && st != OPK_OK)
        fail("softmax: valid arguments rejected", st, ctx);
    if (st == OPK_ERR_INVALID_ARG && !*opk_ctx_last_error(ctx))
        fail("softmax: no message", st, ctx);
    if (st == OPK_OK)
        mark(w, arena, &y);
}

/* ---- sinkhorn ---- */
static void sinkhorn(rd *r, opk_ctx *ctx, float *arena, unsigned char *w)
{
    fmat s = make_mat(r, arena);
    if (s.rows > 24 && s.rows < 40) /* keep the iterations cheap */
        s.rows -= 16, settle(&s, arena);
    int p_mode = (int)(take(r, 1) % 4); /* 0: none, 1: in place, else own */
    fmat p = p_mode == 1 ? s : make_mat(r, arena);
    if (p_mode >= 2 && (take(r, 1) & 1))
        p.rows = s.rows, p.cols = s.cols, settle(&p, arena);
    int ia, ib, iff, ig;
    /* Masses: a NULL, or vectors whose values are the arena's (any sign,
     * NaN, inf: the checks decide). */
    float *a = make_vec(r, arena, s.rows, &ia), *b = make_vec(r, arena, s.cols, &ib);
    float *f = make_vec(r, arena, s.rows, &iff), *g = make_vec(r, arena, s.cols, &ig);
    uint32_t bb = (uint32_t)take(r, 4);
    float beta;
    if (bb >> 30)
        beta = (float)(int)(bb % 9) - 4.0f;
    else
        memcpy(&beta, &bb, 4);
    opk_sinkhorn_opts o = opk_sinkhorn_opts_default();
    o.max_iter = (int)(take(r, 1) % 8) - 1;        /* -1 .. 6 */
    o.check_every = (int)(take(r, 1) % 4) - 1;     /* -1 .. 2 */
    uint8_t t = (uint8_t)take(r, 1);
    o.tol = t < 200 ? (float)t * 1e-3f - 0.05f : (t & 1 ? NAN : INFINITY);
    int definite = mat_invalid(&s) || !isfinite(beta) || !isfinite(o.tol) || o.max_iter < 1 ||
                   o.check_every < 1 ||
                   (p_mode && (mat_invalid(&p) || p.rows != s.rows || p.cols != s.cols));
    if (!definite && (!s.in_arena || (p_mode && !p.in_arena) || !ia || !ib || !iff || !ig))
        return; /* would reach past the arena: not callable */
    opk_cmat S = {s.data, s.rows, s.cols, s.ld};
    opk_mat P = {p.data, p.rows, p.cols, p.ld};
    opk_sinkhorn_info info;
    opk_status st = opk_sinkhorn(ctx, S, beta, a, b, &o, f, g, p_mode ? &P : NULL, &info);
    if (definite && st != OPK_ERR_INVALID_ARG)
        fail("sinkhorn: invalid arguments accepted", st, ctx);
    if (st != OPK_OK && st != OPK_ERR_INVALID_ARG && st != OPK_ERR_INFEASIBLE)
        fail("sinkhorn: unexpected status", st, ctx);
    if (st != OPK_OK && !*opk_ctx_last_error(ctx))
        fail("sinkhorn: no message", st, ctx);
    if (st == OPK_OK) {
        if (p_mode)
            mark(w, arena, &p);
        mark_vec(w, arena, f, s.rows);
        mark_vec(w, arena, g, s.cols);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static float *arena;
    static unsigned char *w;
    arena_reset(&arena, &w, 1, -6.0f, 9.0f, 97);
    rd r = {data, size};
    opk_ctx *ctx = pick_ctx(&r);
    switch (take(&r, 1) % 2) { /* one case per entry point */
    case 0: softmax(&r, ctx, arena, w); break;
    case 1: sinkhorn(&r, ctx, arena, w); break;
    }
    for (size_t i = 0; i < ARENA; i++)
        if (!w[i] && memcmp(&arena[i], &pristine[i], sizeof(float))) {
            fprintf(stderr, "fuzz_args: element %zu outside the outputs was written\n", i);
            abort();
        }
    return 0;
}
