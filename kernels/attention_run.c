/* Damped attention (SPEC 3.4): how each normalization is run on the
 * backend's kernels, split over threads. Softmax and sigmoid: one fused
 * pass; Sinkhorn: the score matrix, the half-steps, P V; linear: the key
 * sums, then the queries. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../dispatch/ctx.h"
#include "attention_run.h"
#include "common.h"
#include "scalar.h"
#include "sleef1.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Thread `me` of `all`'s share [*a, *b) of `units`. */
static void share(size_t units, int me, int all, size_t *a, size_t *b)
{
    *a = units * (size_t)me / (size_t)all;
    *b = units * (size_t)(me + 1) / (size_t)all;
}

/* The next chunk [*a, *b) of [0, units) from a counter shared by the team;
 * 0 when none is left. First come, first served: a thread slowed by a busy
 * core takes fewer chunks, and which thread computes what never changes a
 * result (chunks are independent rows, columns or key blocks). */
static int take(size_t *next, size_t units, size_t chunk, size_t *a, size_t *b)
{
    size_t t;
#pragma omp atomic capture
    t = (*next)++;
    if (t >= (units + chunk - 1) / chunk)
        return 0;
    *a = t * chunk;
    *b = units - *a < chunk ? units : *a + chunk;
    return 1;
}

#ifdef _OPENMP
#define ME_ALL(me, all) \
    int me = omp_get_thread_num(), all = omp_get_num_threads()
#else
#define ME_ALL(me, all) int me = 0, all = 1
#endif

static opk_status nomem(const opk_ctx *ctx, const char *what, size_t floats)
{
    return opk_fail(ctx, OPK_ERR_NOMEM,
                    "attention: cannot allocate %zu floats for %s", floats,
                    what);
}

/* Softmax and sigmoid modes: pack key blocks (if the backend wants them),
 * then each thread runs the fused kernel on its query rows. */
opk_status opk_attn_run_fused(opk_ctx *ctx, opk_attn_job *jb)
{
    const opk_ops *ops = ctx->ops;
    int nt = opk_threads_for(ctx, jb->n, jb->m * (jb->d + jb->dv) * 4);
    size_t nblocks = (jb->m + OPK_ATTN_BLOCK - 1) / OPK_ATTN_BLOCK;
    size_t npack = ops->attn_pack
                       ? nblocks * OPK_ATTN_BLOCK * (jb->d + jb->dvp)
                       : 0;
    size_t per = OPK_ATTN_SCRATCH(jb->dvp);
    float *pack = npack ? opk_alloc(npack * sizeof(float)) : NULL;
    float *scratch = opk_alloc((size_t)nt * per * sizeof(float));
    if ((npack && !pack) || !scratch) {
        opk_free(pack), opk_free(scratch);
        return nomem(ctx, "the packed keys and per-thread state",
                     npack + (size_t)nt * per);
    }
    jb->pack = pack;
    size_t q_pack = 0, q_rows = 0; /* work queues */
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        ME_ALL(me, all);
        (void)all;
        size_t a, b;
        if (pack) {
            while (take(&q_pack, nblocks, 4, &a, &b))
                ops->attn_pack(jb, a, b, pack);
#pragma omp barrier
        }
        while (take(&q_rows, jb->n, OPK_ATTN_TILE, &a, &b))
            ops->attn_fused_rows(jb, a, b, scratch + (size_t)me * per);
    }
    opk_free(pack);
    opk_free(scratch);
    return OPK_OK;
}

/* NaN-aware max for merging the Sinkhorn column maxima (SPEC 1; the sign
 * of a zero maximum never matters, see kernels/sinkhorn.c). */
static float sk_max(float m, float u) { return (u > m || u != u) ? u : m; }

/* Sinkhorn mode: S materialized (n x lds floats), then exactly `iters`
 * half-steps of SPEC 3.2 with beta 1, a_i = 1, b_j = n/m, g = 0 at the
 * start, no checks, by the Sinkhorn kernels of the backend (the scalar ones
 * where a backend has none: the same bits); P written over S; B = P V. */
opk_status opk_attn_run_sinkhorn(opk_ctx *ctx, opk_attn_job *jb, int iters)
{
    const opk_ops *ops = ctx->ops;
    const opk_ops *sk = ops->sinkhorn_rows && ops->sinkhorn_cols
                            ? ops
                            : &opk_ops_scalar;
    const size_t n = jb->n, m = jb->m, d = jb->d, dvp = jb->dvp;
    const size_t lds = (m + 15) & ~(size_t)15, n16 = (n + 15) & ~(size_t)15;
    int nt = opk_threads_for(ctx, n, m * (d + jb->dv) * 4);
    size_t nblocks = (m + OPK_ATTN_BLOCK - 1) / OPK_ATTN_BLOCK;
    size_t npack = ops->attn_pack ? nblocks * OPK_ATTN_BLOCK * (d + dvp) : 0;
    size_t per = OPK_ATTN_SCRATCH(dvp);
    if (per < 2 * lds + 64)
        per = 2 * lds + 64; /* column maxima and column-pass scratch */
    size_t total, nS;
    if (__builtin_mul_overflow(n, lds, &nS) ||
        __builtin_add_overflow(nS, npack + 5 * n16 + 3 * lds, &total) ||
        __builtin_add_overflow(total, (size_t)nt * per, &total) ||
        total > SIZE_MAX / sizeof(float))
        return opk_fail(ctx, OPK_ERR_NOMEM,
                        "attention: sinkhorn mode needs the %zux%zu score "
                        "matrix, which overflows size_t", n, m);
    float *mem = opk_alloc_huge(total * sizeof(float));
    if (!mem)
        return nomem(ctx, "the sinkhorn-mode score matrix and state", total);
    float *S = mem, *pack = S + nS, *la = pack + npack, *fb0 = la + n16;
    float *fb1 = fb0 + n16, *r = fb1 + n16, *lb = r + n16, *g = lb + lds;
    float *cmax = g + lds, *thr = cmax + lds;
    const float l1 = opk_Lg(1.0f), lbv = opk_Lg((float)n / (float)m);
    for (size_t i = 0; i < n; i++)
        la[i] = l1, fb0[i] = 0.0f;
    for (size_t j = 0; j < m; j++)
        lb[j] = lbv, g[j] = 0.0f;
    jb->pack = npack ? pack : NULL;
    opk_sinkhorn_job tmpl = {.s = S, .lds = lds, .rows = n, .cols = m,
                             .beta = 1.0f, .la = la, .lb = lb, .f = fb0,
                             .fnew = fb1, .g = g, .cmax = cmax, .r = r,
                             .p = S, .ldp = lds};
    size_t *q = opk_calloc((size_t)iters + 4, sizeof(size_t)); /* work queues */
    if (!q) {
        opk_free(mem);
        return nomem(ctx, "the sinkhorn-mode work queues", (size_t)iters + 4);
    }
    const size_t units = (m + OPK_COL_ALIGN - 1) / OPK_COL_ALIGN;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        ME_ALL(me, all);
        size_t a, b, c0, c1;
        float *part = thr + (size_t)me * per, *colscr = part + lds; /* and rows */
        if (npack) {
            while (take(&q[0], nblocks, 4, &a, &b))
                ops->attn_pack(jb, a, b, pack);
#pragma omp barrier
        }
        while (take(&q[1], n, 16, &a, &b))
            ops->attn_scores(jb, a, b, S, lds);
        share(units, me, all, &c0, &c1); /* for merging column maxima */
        c0 *= OPK_COL_ALIGN, c1 = c1 * OPK_COL_ALIGN < m ? c1 * OPK_COL_ALIGN : m;
        opk_sinkhorn_job sj = tmpl;
        float *fcur = fb0, *fnext = fb1; /* the same in every thread */
        for (int h = 0; h < iters; h++) {
#pragma omp barrier
            sj.f = fcur, sj.fnew = fnext;
            if (h % 2 == 0) { /* row update: f, and the column maxima */
                for (size_t j = 0; j < m; j++)
                    part[j] = -INFINITY;
                while (take(&q[3 + h], n, 16, &a, &b))
                    sk->sinkhorn_rows(&sj, a, b, OPK_SK_UPDATE, part, colscr);
#pragma omp barrier
                float *t = fcur;
                fcur = fnext, fnext = t;
                for (size_t j = c0; j < c1; j++) { /* my columns' maxima */
                    float v = -INFINITY;
                    for (int k = 0; k < all; k++)
                        v = sk_max(v, thr[(size_t)k * per + j]);
                    cmax[j] = v;
                }
            } else { /* column update: g from f and cmax */
                while (take(&q[3 + h], units, 4, &a, &b))
                    sk->sinkhorn_cols(&sj, a * OPK_COL_ALIGN,
                                      b * OPK_COL_ALIGN < m ? b * OPK_COL_ALIGN
                                                            : m,
                                      colscr);
            }
        }
#pragma omp barrier
        sj.f = fcur;
        while (take(&q[2], n, OPK_ATTN_TILE, &a, &b)) {
            sk->sinkhorn_rows(&sj, a, b, OPK_SK_PLAN, part, colscr); /* P over S */
            ops->attn_pv_rows(jb, S, lds, a, b, thr + (size_t)me * per);
        }
    }
    opk_free(q);
    opk_free(mem);
    return OPK_OK;
}

/* The first row with r = +inf (a zero norm: 1 / Sq(+0), and only it,
 * gives +inf) in [a, b), or SIZE_MAX. */
static size_t first_inf(const float *r, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (r[i] == INFINITY)
            return i;
    return SIZE_MAX;
}

/* Global norm: every r_i = fl(1 / Sq(seq_i(dots))). Returns 0 if the
 * sum is zero. */
static int global_scale(float *r, size_t rows)
{
    float s = 0.0f;
    for (size_t i = 0; i < rows; i++)
        s = s + r[i];
    if (s == 0.0f)
        return 0;
    float inv = 1.0f / opk_Sq(s);
    for (size_t i = 0; i < rows; i++)
        r[i] = inv;
    return 1;
}

/* Keys per piece of the linear mode's first region: between two pieces a
 * thread checks a piece of Q, so the KV fmas and the Q stream overlap. */
#define LIN_KEYS 2048
/* Pieces a thread may run ahead of the slowest (0.5 MiB of K and V each:
 * the L3 keeps them for the others). */
#define LIN_LAG 8

/* K's row scales when several threads share the keys: each is computed
 * once for the team, not by every thread (with 2 threads, computing them
 * all took each thread a fifth of the first region), and a thread then
 * reads only its own columns of K. Their chunks, a piece of keys each,
 * are claimed in order from next and flagged in done[] when written; a
 * zero row found lowers *zero. */
typedef struct lin_scales {
    float *rk;
    atomic_uchar *done;
    size_t next;
} lin_scales;

/* Claims and computes chunks while the next one starts before `upto`. */
static void scales_upto(const opk_ops *ops, const opk_attn_job *jb,
                        lin_scales *sc, size_t upto, size_t *zero)
{
    for (;;) {
        size_t nx, a, b;
#pragma omp atomic read
        nx = sc->next;
        if (nx * LIN_KEYS >= upto || !take(&sc->next, jb->m, LIN_KEYS, &a, &b))
            return;
        ops->attn_row_dots(jb->k, jb->ldk, jb->d, a, b, 1, sc->rk);
        size_t z = first_inf(sc->rk, a, b);
        *zero = z < *zero ? z : *zero;
        atomic_store_explicit(&sc->done[a / LIN_KEYS], 1, memory_order_release);
    }
}

/* Whether the scales of the piece of keys from j0 are written. */
static int scales_ready(lin_scales *sc, size_t j0)
{
    return atomic_load_explicit(&sc->done[j0 / LIN_KEYS], memory_order_acquire);
}

/* The fewest pieces of keys done by a thread of the team (SIZE_MAX: a
 * thread without KV rows, or not started). */
static size_t slowest(const size_t *done, int all)
{
    size_t s = SIZE_MAX;
    for (int t = 0; t < all; t++) {
        size_t x;
#pragma omp atomic read
        x = done[t];
        s = x < s ? x : s;
    }
    return s;
}

/* Linear mode in two parallel regions (each a single join: on a busy
 * machine every barrier can cost a time slice):
 *   1. KV, ks, vs (rows of KV split; each thread walks all keys in order;
 *      with several threads the row scales of K are computed once, see
 *      lin_scales, else on the way), and between pieces of
 *      keys the check for zero rows of Q (pieces taken from a shared
 *      queue); with the global norm, the dots of Q and K and their sums
 *      come first;
 *   2. the query rows (split), which compute their row scales and write O.
 * Every zero-norm check is done before O is written, and each of Q, K, V
 * and H is read once per region (H not at all when only its sign can
 * matter: opk_attn_linear.h_sign_only). */
opk_status opk_attn_run_linear(opk_ctx *ctx, opk_attn_job *jb, int global)
{
    const opk_ops *ops = ctx->ops;
    const size_t n = jb->n, m = jb->m, d = jb->d, dvp = jb->dvp;
    int nt = opk_threads_for(ctx, n + m, (d + jb->dv) * 4 * d);
    const size_t n16 = (n + 15) & ~(size_t)15, m16 = (m + 15) & ~(size_t)15;
    const size_t d16 = (d + 15) & ~(size_t)15;
    size_t per = (OPK_ATTN_LINEAR_SCRATCH(d, dvp) + 15) & ~(size_t)15;
    /* Row scales of K shared by the team: more than one thread with KV
     * rows (each thread walks all keys). */
    const int shared = !global && nt > 1 && d > 1;
    size_t sums = d * dvp + d16 + dvp;
    size_t scales = global ? n16 + m16 : shared ? m16 : 0;
    size_t total = sums + scales + (size_t)nt * per;
    float *buf = opk_alloc(total * sizeof(float));
    lin_scales sc = {NULL, NULL, 0};
    if (buf && shared)
        sc.done = opk_calloc((m + LIN_KEYS - 1) / LIN_KEYS, sizeof(atomic_uchar));
    if (!buf || (shared && !sc.done)) {
        opk_free(buf);
        return nomem(ctx, "the linear-mode sums", total);
    }
    memset(buf, 0, sums * sizeof(float));
    float *kv = buf, *ks = kv + d * dvp, *vs = ks + d16;
    float *rq = global ? vs + dvp : NULL; /* all 64-byte aligned */
    float *rk = global ? rq + n16 : shared ? vs + dvp : NULL;
    float *thr = vs + dvp + scales;
    sc.rk = shared ? rk : NULL;
    opk_attn_linear ln = {rk, rq, kv, ks, vs, 0, {0}};
    size_t zq[64], zk[64]; /* first zero row seen by each thread */
    int used = 1, nz = nt < 64 ? nt : 64, gq = 1, gk = 1;
    size_t q_dots = 0, q_rows = 0; /* work queues */
    size_t done[64]; /* pieces of keys done, per thread with KV rows */
    for (int t = 0; t < 64; t++)
        zq[t] = zk[t] = done[t] = SIZE_MAX;
#pragma omp parallel num_threads(nz) if (nz > 1)
    {
        ME_ALL(me, all);
        size_t a, b, ka, kb;
        if (me == 0)
            used = all;
        share(d, me, all, &ka, &kb);
        const int do_vs = ka == 0 && kb > 0; /* the owner of KV row 0 */
        if (ka < kb) {
#pragma omp atomic write
            done[me] = 0;
        }
        if (global) {
            while (take(&q_dots, n, 4096, &a, &b))
                ops->attn_row_dots(jb->q, jb->ldq, d, a, b, 0, rq);
            share(m, me, all, &a, &b);
            if (a < b)
                ops->attn_row_dots(jb->k, jb->ldk, d, a, b, 0, rk);
#pragma omp barrier
#pragma omp single
            {
                gq = global_scale(rq, n);
                gk = global_scale(rk, m);
            }
            if (ka < kb && gq && gk)
                ops->attn_linear_kv(jb, &ln, ka, kb, 0, m, do_vs, &zk[me]);
        } else {
            /* Q pieces: about one per thread and piece of keys. */
            size_t pieces = (m + LIN_KEYS - 1) / LIN_KEYS * (size_t)all;
            size_t qp = (n + pieces - 1) / pieces;
            qp = qp < 256 ? 256 : qp;
            for (size_t j0 = 0, p = 0; j0 < m && ka < kb; j0 += LIN_KEYS, p++) {
                size_t j1 = m - j0 < LIN_KEYS ? m : j0 + LIN_KEYS, z;
                /* The scales of this piece and the next: whoever comes
                 * first computes them, so they balance the threads. */
                if (shared)
                    scales_upto(ops, jb, &sc, j1 + LIN_KEYS, &zk[me]);
                /* Every thread reads all of K and V: one far ahead of the
                 * others would read them from memory again, so it checks
                 * Q instead until they catch up (while Q lasts); and
                 * while a chunk of scales another thread took is not yet
                 * written. */
                while ((p > slowest(done, all) + LIN_LAG ||
                        (shared && !scales_ready(&sc, j0))) &&
                       take(&q_dots, n, qp, &a, &b)) {
                    z = ops->attn_zero_row(jb->q, jb->ldq, d, a, b);
                    zq[me] = z < zq[me] ? z : zq[me];
                }
                while (shared && !scales_ready(&sc, j0))
                    ; /* Q is checked: a chunk in flight, a few us */
                /* The keys whose scales come next are prefetched during
                 * these: their scales then run from L2. (Prefetching the
                 * piece of Q checked next as well slowed the keys down.) */
                opk_attn_linear my = ln;
                const size_t k2 = j1 + LIN_KEYS; /* scales taken next */
                if (shared && k2 < m)
                    my.pf = (opk_attn_pf){jb->k + k2 * jb->ldk, jb->ldk, d,
                                          m - k2 < LIN_KEYS ? m - k2
                                                            : LIN_KEYS};
                ops->attn_linear_kv(jb, &my, ka, kb, j0, j1, do_vs, &z);
                zk[me] = z < zk[me] ? z : zk[me];
#pragma omp atomic write
                done[me] = p + 1;
                if (take(&q_dots, n, qp, &a, &b)) {
                    z = ops->attn_zero_row(jb->q, jb->ldq, d, a, b);
                    zq[me] = z < zq[me] ? z : zq[me];
                }
            }
            while (take(&q_dots, n, qp, &a, &b)) {
                size_t z = ops->attn_zero_row(jb->q, jb->ldq, d, a, b);
                zq[me] = z < zq[me] ? z : zq[me];
            }
        }
    }
    size_t bad_q = SIZE_MAX, bad_k = SIZE_MAX;
    for (int t = 0; t < used; t++) {
        bad_q = zq[t] < bad_q ? zq[t] : bad_q;
        bad_k = zk[t] < bad_k ? zk[t] : bad_k;
    }
    opk_status st = OPK_OK;
    if (!gq || !gk)
        st = opk_fail(ctx, OPK_ERR_INVALID_ARG,
                      "attention: %s is all zero (linear mode needs a nonzero "
                      "norm)", gq ? "K" : "Q");
    else if (bad_q != SIZE_MAX || bad_k != SIZE_MAX)
        st = opk_fail(ctx, OPK_ERR_INVALID_ARG,
                      "attention: row %zu of %s has norm zero (linear mode "
                      "divides by row norms)",
                      bad_q != SIZE_MAX ? bad_q : bad_k,
                      bad_q != SIZE_MAX ? "Q" : "K");
    if (st == OPK_OK) {
        /* vs_f = seq_j v_jf is finite only if every v_jf is (a non-finite
         * running sum stays so; an overflow only costs the shortcut). */
        int finite = jb->h == jb->v && jb->ldh == jb->ldv && !jb->g &&
                     jb->a1 == 0.0f;
        for (size_t f = 0; finite && f < jb->dv; f++)
            finite = isfinite(vs[f]);
        ln.h_sign_only = finite;
#pragma omp parallel num_threads(nt) if (nt > 1)
        {
            ME_ALL(me, all);
            (void)all;
            size_t a, b;
            /* Last rows first: the end of Q and of V (= H by default) is
             * what the first region read last, maybe still in cache. */
            while (take(&q_rows, n, 1024, &a, &b))
                ops->attn_linear_rows(jb, &ln, n - b, n - a,
                                      thr + (size_t)me * per);
        }
    }
    opk_free(sc.done);
    opk_free(buf);
    return st;
}

