/* libFuzzer harness: the argument checks of opk_attention and opk_cheb.
 * As in fuzz_args.c, the input picks shapes, ld, where each matrix starts
 * in one shared arena (so inputs and outputs may overlap, or be the same),
 * and the parameters as raw float bits (NaN, inf, out of range); besides,
 * a CSR operand (the graph term, L) whose arrays may lie in the arena too,
 * the Chebyshev coefficients (in the arena, or NULL) and the attention
 * options (NULL, norm modes, tau, lambda_g, beta, sinkhorn_iters,
 * linear_global_norm, cheb_K, lmin/lmax). Each call must return the status
 * the SPEC 7 oracle below predicts, with a message when it fails, and
 * write nothing but its output's elements (nothing at all on failure). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opk.h"

#include "harness.h"

static float canary[ARENA]; /* the arena as the call receives it */
static int called;

static void about_to_call(const float *arena)
{
    memcpy(canary, arena, sizeof canary);
    called = 1;
}

/* n coefficients inside the arena, or NULL. */
static const float *make_coefs(rd *r, float *arena, size_t n)
{
    size_t off = (size_t)take(r, 2);
    if ((take(r, 1) & 7) == 0)
        return NULL;
    return arena + (n <= ARENA ? off % (ARENA - n + 1) : 0);
}

static int coefs_bad(const float *c, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!isfinite(c[k]))
            return 1;
    return 0;
}

/* lmin and lmax: mostly an ordinary interval, else raw bits. */
static void make_bounds(rd *r, float *lmin, float *lmax)
{
    uint8_t b = (uint8_t)take(r, 1);
    if (b < 192) {
        *lmin = (float)(b % 4) - 2.0f;
        *lmax = *lmin + (float)(b / 4 % 5); /* width 0 is invalid */
        return;
    }
    *lmin = take_param(r);
    *lmax = take_param(r);
    if (b & 1) { /* huge, tiny or close bounds: 2 / d or lmax + lmin overflow */
        static const float odd[] = {3.0e38f, -3.0e38f, 1e-40f, 0.0f, 1.0f};
        *lmin = odd[take(r, 1) % 5];
        *lmax = odd[take(r, 1) % 5];
        if (b & 2)
            *lmax = nextafterf(*lmin, INFINITY);
    }
}

/* SPEC 3.3's conditions on lmin, lmax (float arithmetic as the kernel). */
static int bounds_bad(float lmin, float lmax)
{
    if (!isfinite(lmin) || !isfinite(lmax) || !(lmin < lmax))
        return 1;
    const float d = lmax - lmin, s = lmax + lmin, alpha = 2.0f / d;
    return !isfinite(d) || !isfinite(s) || !isfinite(alpha) || alpha == 0.0f;
}

static void check(const char *what, opk_status st, int definite,
                  int may_reject, opk_ctx *ctx)
{
    if (definite && st != OPK_ERR_INVALID_ARG)
        fail(what, st, ctx);
    if (!definite && st != OPK_OK && !(may_reject && st == OPK_ERR_INVALID_ARG))
        fail(what, st, ctx);
    if (st != OPK_OK && !*opk_ctx_last_error(ctx))
        fail("no message", st, ctx);
}

/* ---- cheb ---- */
static fcsr Lc;

static void cheb(rd *r, opk_ctx *ctx, float *arena, unsigned char *w)
{
    fmat x = make_mat(r, arena);
    make_csr(r, &Lc, (int64_t)x.rows, arena);
    const opk_csr L = Lc.A;
    fmat y = (take(r, 1) & 15) == 0 ? x : make_mat(r, arena);
    if (take(r, 1) & 1)
        y.rows = x.rows, y.cols = x.cols, settle(&y, arena);
    float lmin, lmax;
    make_bounds(r, &lmin, &lmax);
    uint8_t kb = (uint8_t)take(r, 1);
    size_t K = kb < 248 ? kb % 24 : kb < 250 ? SIZE_MAX : kb < 252 ? SIZE_MAX / 2
                                                                   : SIZE_MAX / 4;
    const float *c = make_coefs(r, arena, K < 64 ? K + 1 : 1);
    int definite = !Lc.valid || L.rows != L.cols || mat_invalid(&x) ||
                   mat_invalid(&y) || x.rows != (size_t)L.rows ||
                   y.rows != x.rows || y.cols != x.cols;
    /* In the kernel's order: a later check only reads what an earlier one
     * let through (c's values only when everything else is valid). */
    definite = definite || overlap(&x, &y) ||
               mat_meets(&y, L.row_ptr, ((size_t)L.rows + 1) * 8) ||
               mat_meets(&y, L.col_idx, (size_t)L.nnz * 4) ||
               mat_meets(&y, L.val, (size_t)L.nnz * 4) || bounds_bad(lmin, lmax) ||
               K >= SIZE_MAX / 4 || !c || coefs_bad(c, K + 1) || !ctx;
    if (!definite && (!x.in_arena || !y.in_arena))
        return; /* valid but reaching outside the arena: not callable */
    opk_cmat X = {x.data, x.rows, x.cols, x.ld};
    opk_mat Y = {y.data, y.rows, y.cols, y.ld};
    about_to_call(arena);
    opk_status st = opk_cheb(ctx, L, lmin, lmax, c, K, X, Y);
    check("cheb: status differs from the oracle", st, definite, 0, ctx);
    if (st == OPK_OK)
        mark(w, arena, &y);
}

/* ---- attention ---- */
static fcsr Gc;

/* tau, lambda_g: mostly in [0, 1]. */
static float unit_param(rd *r)
{
    static const float ok[] = {0.0f, 0.25f, 0.5f, 1.0f, 1e-45f};
    static const float bad[] = {-0.5f, 1.5f, NAN, INFINITY, -1e-45f};
    uint8_t b = (uint8_t)take(r, 1);
    return b < 200 ? ok[b % 5] : bad[b % 5];
}

/* An int option: mostly in [lo, lo + n), else one of three bad values. */
static int int_param(rd *r, int lo, int n, int b0, int b1, int b2)
{
    uint8_t b = (uint8_t)take(r, 1);
    return b < 224 ? lo + b % n : b % 3 == 0 ? b0 : b % 3 == 1 ? b1 : b2;
}

static void attention(rd *r, opk_ctx *ctx, float *arena, unsigned char *w)
{
    fmat q = make_mat(r, arena), k = make_mat(r, arena), v = make_mat(r, arena);
    uint8_t fix = (uint8_t)take(r, 1); /* mostly consistent shapes */
    if (fix & 1)
        k.cols = q.cols;
    if (fix & 2)
        v.rows = k.rows;
    if (fix & 4)
        k.rows = v.rows = q.rows; /* n = m: H may be NULL, a graph fits */
    settle(&k, arena), settle(&v, arena);
    uint8_t hm = (uint8_t)take(r, 1) % 4, om = (uint8_t)take(r, 1) % 8;
    fmat h = hm >= 2 ? make_mat(r, arena) : v;
    if (hm >= 2 && (take(r, 1) & 1))
        h.rows = q.rows, h.cols = v.cols, settle(&h, arena);
    fmat o = om == 0 ? q : om == 1 ? v : om == 2 ? h : make_mat(r, arena);
    if (om > 2 && (take(r, 1) & 1))
        o.rows = q.rows, o.cols = v.cols, settle(&o, arena);
    const int with_h = hm >= 2 || (hm == 1); /* hm 1: H = V passed as H */

    opk_attention_opts op = opk_attention_opts_default();
    const int with_opts = (take(r, 1) & 7) != 0;
    int with_graph = 0;
    if (with_opts) {
        op.beta = take_param(r);
        op.tau = unit_param(r);
        op.norm = (opk_norm)int_param(r, 0, 4, -1, 4, 1000);
        op.sinkhorn_iters = int_param(r, 1, 6, 0, -1, INT32_MIN);
        op.linear_global_norm = int_param(r, 0, 2, -1, 2, 255);
        op.lambda_g = unit_param(r);
        if (take(r, 1) % 3 == 0) {
            with_graph = 1;
            if (take(r, 1) & 3) /* n = m, as the graph term needs */
                k.rows = v.rows = q.rows, settle(&k, arena), settle(&v, arena);
            make_csr(r, &Gc, (int64_t)q.rows, arena);
            op.graph = &Gc.A;
            make_bounds(r, &op.lmin, &op.lmax);
            op.cheb_K = (int)(take(r, 1) % 12) - 2;
            op.cheb_c = make_coefs(r, arena, op.cheb_K >= 0 ? (size_t)op.cheb_K + 1 : 1);
        }
    }
    const opk_csr G = Gc.A;
    int definite = mat_invalid(&q) || mat_invalid(&k) || mat_invalid(&v) ||
                   mat_invalid(&o) || (with_h && mat_invalid(&h)) ||
                   k.cols != q.cols || v.rows != k.rows || o.rows != q.rows ||
                   o.cols != v.cols ||
                   (with_h && (h.rows != q.rows || h.cols != v.cols)) ||
                   (!with_h && q.rows != v.rows);
    definite = definite || !isfinite(op.beta) || !(op.tau >= 0.0f && op.tau <= 1.0f) ||
               (int)op.norm < 0 || (int)op.norm > 3 || op.sinkhorn_iters < 1 ||
               (op.linear_global_norm != 0 && op.linear_global_norm != 1) ||
               !(op.lambda_g >= 0.0f && op.lambda_g <= 1.0f);
    if (with_graph)
        definite = definite || !Gc.valid || q.rows != k.rows || G.rows != G.cols ||
                   G.rows != (int64_t)q.rows || !isfinite(op.lmin) ||
                   !isfinite(op.lmax) || !(op.lmin < op.lmax) ||
                   !isfinite(op.lmax - op.lmin) || op.cheb_K < 0 || !op.cheb_c ||
                   coefs_bad(op.cheb_c, (size_t)op.cheb_K + 1);
    definite = definite || overlap(&o, &q) || overlap(&o, &k) || overlap(&o, &v) ||
               (with_h && overlap(&o, &h));
    if (with_graph)
        definite = definite || mat_meets(&o, G.row_ptr, ((size_t)G.rows + 1) * 8) ||
                   mat_meets(&o, G.col_idx, (size_t)G.nnz * 4) ||
                   mat_meets(&o, G.val, (size_t)G.nnz * 4) ||
                   mat_meets(&o, op.cheb_c, ((size_t)op.cheb_K + 1) * 4);
    const int nonempty = o.rows && o.cols;
    definite = definite || (nonempty && (k.rows == 0 || q.cols == 0));
    /* Bounds whose 2 / (lmax - lmin) or lmax + lmin overflow (SPEC 3.3). */
    if (with_graph)
        definite = definite || bounds_bad(op.lmin, op.lmax);
    definite = definite || !ctx;
    if (!definite && (!q.in_arena || !k.in_arena || !v.in_arena || !o.in_arena ||
                      (with_h && !h.in_arena)))
        return;
    opk_cmat Q = {q.data, q.rows, q.cols, q.ld}, Km = {k.data, k.rows, k.cols, k.ld};
    opk_cmat V = {v.data, v.rows, v.cols, v.ld}, H = {h.data, h.rows, h.cols, h.ld};
    opk_mat O = {o.data, o.rows, o.cols, o.ld};
    about_to_call(arena);
    opk_status st = opk_attention(ctx, Q, Km, V, with_h ? &H : NULL,
                                  with_opts ? &op : NULL, O);
    /* Linear mode divides by row norms: a zero row of Q or K is rejected
     * by the data, not the arguments. */
    check("attention: status differs from the oracle", st, definite,
          op.norm == OPK_NORM_LINEAR, ctx);
    if (st == OPK_OK)
        mark(w, arena, &o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static float *arena;
    static unsigned char *w;
    arena_reset(&arena, &w, 2, -3.0f, 4.0f, 89);
    rd r = {data, size};
    called = 0;
    opk_ctx *ctx = pick_ctx(&r);
    uint8_t sel = (uint8_t)take(&r, 1);
    if (sel >= 252)
        ctx = NULL; /* the context argument itself */
    switch (sel % 2) {
    case 0: attention(&r, ctx, arena, w); break;
    case 1: cheb(&r, ctx, arena, w); break;
    }
    for (size_t i = 0; called && i < ARENA; i++)
        if (!w[i] && memcmp(&arena[i], &canary[i], sizeof(float))) {
            fprintf(stderr, "fuzz_attn_cheb: element %zu outside the outputs "
                            "was written\n", i);
            abort();
        }
    return 0;
}
