/* Softmax (SPEC 3.1), ISA-generic: the bits of kernels/softmax.c's scalar
 * reference, written once against the v_* layer of <isa>/vt.h (VL lanes).
 * Rows: lane16 sum (16 / VL registers), lane l = element j mod 16 from the
 * row start. Columns: VL columns per vector, seq sum over ascending rows.
 * The including file defines SM_NAME(x) (the exported names' suffix). */
#include <stdint.h>

#include "../kernels/common.h"
#include "softmax_shared.h"

#ifndef ALWAYS_INLINE
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#endif

#define SM_VB (4 * VL) /* bytes per vector */

/* ---- rows ------------------------------------------------------------------------ */

/* Pass 1: max (or, for beta < 0, min) of x, NaN ignored; see
 * softmax_shared.h. Order-free: 4 accumulators. */
ALWAYS_INLINE VF ext(int neg, VF v, VF acc)
{
    return neg ? v_min(v, acc) : v_max(v, acc);
}

ALWAYS_INLINE float row_extreme(int neg, const float *x, size_t n)
{
    const VF init = v_set1(neg ? INFINITY : -INFINITY);
    VF a0 = init, a1 = init, a2 = init, a3 = init;
    size_t j = 0;
    for (; j + 4 * VL <= n; j += 4 * VL) {
        a0 = ext(neg, v_load(x + j), a0);
        a1 = ext(neg, v_load(x + j + VL), a1);
        a2 = ext(neg, v_load(x + j + 2 * VL), a2);
        a3 = ext(neg, v_load(x + j + 3 * VL), a3);
    }
    for (; j + VL <= n; j += VL)
        a0 = ext(neg, v_load(x + j), a0);
    if (j < n) /* masked-off lanes read +0: keep the accumulator there */
        a1 = v_keep_n(a1, ext(neg, v_load_n(x + j, n - j), a1), n - j);
    a0 = ext(neg, ext(neg, a0, a1), ext(neg, a2, a3));
    return v_hext(neg, a0);
}

static float row_max_t(const float *x, size_t n, float beta)
{
    return opk_sm_max_t(beta, beta < 0 ? row_extreme(1, x, n) : row_extreme(0, x, n));
}

/* Pass 3 of a row, deferred: its stores are spread over the next row's
 * exps (pass 2), so memory writes overlap compute instead of stalling in a
 * burst. Output blocks line up with SUM_BLOCK blocks of the next row. */
#define SUM_BLOCK 256
typedef struct out_row {
    const float *x, *e; /* e: the row's E values (softmax) */
    float *y;
    size_t h;           /* elements before y is vector-aligned (nt), else 0 */
    int nt;             /* streaming stores for the aligned body */
    VF vm, vq;          /* m, and 1/s (softmax) or Lg(s) (log-softmax) */
} out_row;

/* Output values for elements j .. j+c-1 (c <= VL): softmax e * (1/s),
 * log-softmax (t - m) - Lg(s) with t recomputed from x. */
ALWAYS_INLINE VF out_val(int log, const out_row *o, size_t j, size_t c, VF vb)
{
    if (log) {
        VF xv = c == VL ? v_load(o->x + j) : v_load_n(o->x + j, c);
        return v_sub(v_sub(v_mul(vb, xv), o->vm), o->vq);
    }
    VF ev = c == VL ? v_load(o->e + j) : v_load_n(o->e + j, c);
    return v_mul(ev, o->vq);
}

/* Writes output block k, [h + 256k, h + 256(k+1)) clipped to [0, n), block
 * 0 starting at 0: the body is whole aligned vectors (streamed when nt);
 * the unaligned head and the tail are masked, touching nothing else. */
ALWAYS_INLINE void out_block(int log, const out_row *o, size_t n, size_t k, VF vb)
{
    size_t j = k ? o->h + SUM_BLOCK * k : 0, hi = o->h + SUM_BLOCK * (k + 1);
    hi = hi < n ? hi : n;
    if (j >= hi)
        return;
    if (k == 0 && o->h) {
        size_t c = o->h < hi ? o->h : hi;
        v_store_n(o->y, out_val(log, o, 0, c, vb), c);
        j = c;
    }
    if (o->nt)
        for (; j + VL <= hi; j += VL)
            v_stream(o->y + j, out_val(log, o, j, VL, vb));
    else
        for (; j + VL <= hi; j += VL)
            v_store(o->y + j, out_val(log, o, j, VL, vb));
    if (j < hi)
        v_store_n(o->y + j, out_val(log, o, j, hi - j, vb), hi - j);
}

ALWAYS_INLINE void out_all(int log, const out_row *o, size_t n, VF vb)
{
    for (size_t k = 0; k * SUM_BLOCK < n; k++)
        out_block(log, o, n, k, vb);
}

/* Pass 2: e = E(t - m) into ebuf (padded to 16), s = lane16(e). The sum
 * runs behind the exps in blocks, reading ebuf, which the output pass
 * needs anyway (y = e * (1/s)); where E is a SLEEF call (NEON's is not
 * this file's), accumulators live across it would go through memory.
 * Meanwhile the next row (next, may be NULL) is prefetched into L2 and the
 * previous row's output (prev, may be NULL) written. */
ALWAYS_INLINE float row_sum(int log, const float *x, size_t n, VF vb, VF vm,
                            float *ebuf, const float *next, const out_row *prev)
{
    v_lane16 s;
    v_lane16_init(&s);
    for (size_t b = 0, k = 0; b < n; b += SUM_BLOCK, k++) {
        size_t be = n - b < SUM_BLOCK ? n : b + SUM_BLOCK, j = b;
        for (; j + 16 <= be; j += 16) {
            if (next)
                v_prefetch_l2(next + j);
            for (size_t o = 0; o < 16; o += VL) {
                VF t = v_mul(vb, v_load(x + j + o));
                v_store_a(ebuf + j + o, v_E(v_sub(t, vm)));
            }
        }
        if (j < be) {
            size_t c = be - j;
            if (next)
                v_prefetch_l2(next + j);
            for (size_t o = 0; o < c; o += VL) {
                VF t = v_mul(vb, v_load_n(x + j + o, c - o));
                v_store_a(ebuf + j + o, v_E(v_sub(t, vm)));
            }
        }
        for (j = b; j + 16 <= be; j += 16)
            v_lane16_add16a(&s, ebuf + j);
        if (j < be) /* lanes past the end are masked off (ebuf is padded) */
            v_lane16_add16a_n(&s, ebuf + j, be - j);
        if (prev)
            out_block(log, prev, n, k, vb);
    }
    return v_lane16_result(&s);
}

static void row_fill(float *y, size_t n, float v)
{
    VF vv = v_set1(v);
    size_t j = 0;
    for (; j + VL <= n; j += VL)
        v_store(y + j, vv);
    if (j < n)
        v_store_n(y + j, vv, n - j);
}

/* Rows [r0, r1). With two e buffers a row's output is written during the
 * next row's pass 2; with one (buf1 NULL), right after its own. */
ALWAYS_INLINE void rows_run(int log, const opk_softmax_job *jb, size_t r0,
                            size_t r1, float *buf0, float *buf1)
{
    const size_t n = jb->cols;
    const VF vb = v_set1(jb->beta);
    const int nt = opk_stream_worthwhile(jb->rows * n * sizeof(float));
    out_row pend;
    int have = 0;
    for (size_t i = r0; i < r1; i++) {
        const float *x = jb->x + i * jb->ldx;
        float *y = jb->y + i * jb->ldy;
        float *eb = buf1 && (i & 1) ? buf1 : buf0;
        float m = row_max_t(x, n, jb->beta), s = 0.0f;
        if (m == m && m != INFINITY) {
            s = row_sum(log, x, n, vb, v_set1(opk_sm_shift(m)), eb,
                        i + 1 < r1 ? x + jb->ldx : NULL, have ? &pend : NULL);
            have = 0;
        }
        if (have)
            out_all(log, &pend, n, vb), have = 0;
        int cls = opk_sm_class(m, s);
        if (cls != OPK_SM_REGULAR) {
            row_fill(y, n, opk_sm_special(cls, log));
            continue;
        }
        pend.x = x, pend.e = eb, pend.y = y;
        pend.nt = nt && ((uintptr_t)y & 3) == 0;
        pend.h = pend.nt ? ((SM_VB - ((uintptr_t)y & (SM_VB - 1))) & (SM_VB - 1)) / 4 : 0;
        pend.vm = v_set1(m);
        pend.vq = log ? v_Lg(v_set1(s)) : v_set1(1.0f / s);
        have = 1;
        if (!buf1)
            out_all(log, &pend, n, vb), have = 0;
    }
    if (have)
        out_all(log, &pend, n, vb);
    if (nt)
        v_sfence(); /* streaming stores are weakly ordered */
}

void SM_NAME(opk_softmax_rows)(const opk_softmax_job *jb, size_t r0, size_t r1,
                               float *scratch)
{
    /* The second e buffer; without it (no memory) the same bits come out,
     * only with less overlap. */
    float *buf1 = r1 - r0 > 1 ? opk_alloc(((jb->cols + 15) & ~(size_t)15) * sizeof(float))
                              : NULL;
    if (jb->log)
        rows_run(1, jb, r0, r1, scratch, buf1);
    else
        rows_run(0, jb, r0, r1, scratch, buf1);
    opk_free(buf1);
}

/* ---- columns ------------------------------------------------------------------- */

/* Columns run as a three-stage pipeline over blocks of columns (see
 * softmax_shared.h): one sweep down the rows does pass 1 (max, and a
 * contiguous copy of the block) of block k + 1, pass 2 (exps, seq sum, on
 * the copy) of block k and pass 3 (output) of block k - 1, so the loads of
 * block k + 1 and the stores of block k - 1 overlap block k's exps. */

/* Up to this many vectors (512 columns) per block (blocks live on the stack). */
#define MAX_VECS (512 / VL)

typedef struct col_blk {
    size_t b0, nv, last; /* columns b0 .. b0 + VL (nv - 1) + last - 1 */
    float *buf;          /* rows x ldw: x, then softmax's e; NULL: none */
    VM special[MAX_VECS], low[MAX_VECS];
    float m[VL * MAX_VECS] __attribute__((aligned(SM_VB))); /* max, then m' */
    float s[VL * MAX_VECS] __attribute__((aligned(SM_VB))); /* sum, then factor */
} col_blk;

/* Prefetches the segment of the row OPK_SM_COL_PF_ROWS below p (row i),
 * one line per 16 floats. */
ALWAYS_INLINE void col_prefetch(const float *p, size_t i, size_t rows,
                                size_t ld, size_t nv)
{
    if (i + OPK_SM_COL_PF_ROWS < rows)
        for (size_t v = 0; v < nv; v += 16 / VL)
            v_prefetch_l2(p + OPK_SM_COL_PF_ROWS * ld + VL * v);
}

ALWAYS_INLINE size_t lanes(const col_blk *b, size_t v)
{
    return v + 1 < b->nv ? VL : b->last;
}

/* Pass 1, row i: max (min) of x, NaN ignored; x copied to buf. */
ALWAYS_INLINE void p1_row(int neg, const opk_softmax_job *jb, col_blk *b,
                          size_t i, size_t ldw)
{
    const float *x = jb->x + i * jb->ldx + b->b0;
    col_prefetch(x, i, jb->rows, jb->ldx, b->nv);
    for (size_t v = 0; v < b->nv; v++) {
        size_t c = lanes(b, v);
        VF xv = v_loadu_c(x + VL * v, c), a = v_load_a(b->m + VL * v);
        VF r = neg ? v_min(xv, a) : v_max(xv, a);
        if (c < VL) /* masked-off lanes read +0: keep the accumulator */
            r = v_keep_n(a, r, c);
        v_store_a(b->m + VL * v, r);
        if (b->buf)
            v_store_a(b->buf + i * ldw + VL * v, xv);
    }
}

/* After pass 1: m = beta * extreme, kept as m' (0 where m = -inf). */
ALWAYS_INLINE void p1_end(const opk_softmax_job *jb, col_blk *b)
{
    const VF vb = v_set1(jb->beta);
    for (size_t v = 0; v < b->nv; v++) {
        VF mv = v_mul(vb, v_load_a(b->m + VL * v));
        b->special[v] = v_cmp_eq_uq(mv, v_set1(INFINITY)); /* +inf or NaN */
        b->low[v] = v_cmp_eq_oq(mv, v_set1(-INFINITY));
        v_store_a(b->m + VL * v, v_blend(b->low[v], mv, v_zero()));
        v_store_a(b->s + VL * v, v_zero());
    }
}

/* Pass 2, row i: s += E(t - m') (seq over ascending rows); softmax keeps e
 * in buf over x, or without buf in Y. */
ALWAYS_INLINE void p2_row(int log, const opk_softmax_job *jb, col_blk *b,
                          size_t i, size_t ldw)
{
    const float *x = b->buf ? b->buf + i * ldw : jb->x + i * jb->ldx + b->b0;
    float *e = b->buf ? b->buf + i * ldw : jb->y + i * jb->ldy + b->b0;
    const VF vb = v_set1(jb->beta);
    if (!b->buf)
        col_prefetch(x, i, jb->rows, jb->ldx, b->nv);
    for (size_t v = 0; v < b->nv; v++) {
        size_t c = lanes(b, v);
        VF t = v_mul(vb, v_loadu_c(x + VL * v, c));
        VF ev = v_E(v_sub(t, v_load_a(b->m + VL * v)));
        v_store_a(b->s + VL * v, v_add(v_load_a(b->s + VL * v), ev));
        if (!log)
            v_storeu_c(e + VL * v, ev, c);
    }
}

/* After pass 2: the classes; s becomes 1/s or Lg(s), or the special value. */
ALWAYS_INLINE void p2_end(int log, col_blk *b)
{
    const VF special_low = v_set1(log ? -INFINITY : 0.0f);
    for (size_t v = 0; v < b->nv; v++) {
        VF sv = v_load_a(b->s + VL * v);
        b->special[v] = v_mask_or(b->special[v], v_isnan(sv));
        b->low[v] = v_mask_andnot(b->special[v], b->low[v]);
        VF q = log ? v_Lg(sv) : v_div(v_set1(1.0f), sv);
        q = v_blend(b->low[v], q, special_low);
        q = v_blend(b->special[v], q, v_set1(NAN));
        v_store_a(b->s + VL * v, q);
        b->special[v] = v_mask_or(b->special[v], b->low[v]);
    }
}

/* Pass 3, row i: y = e * (1 / s), or (t - m) - Lg(s); special lanes from s.
 * With nt, whole aligned vectors of y are streamed. */
ALWAYS_INLINE void p3_row(int log, const opk_softmax_job *jb, col_blk *b,
                          size_t i, size_t ldw, int nt)
{
    float *y = jb->y + i * jb->ldy + b->b0;
    /* log: x; softmax: e (in buf, or in Y) */
    const float *src = b->buf ? b->buf + i * ldw : log ? jb->x + i * jb->ldx + b->b0 : y;
    const VF vb = v_set1(jb->beta);
    if (!b->buf)
        col_prefetch(src, i, jb->rows, log ? jb->ldx : jb->ldy, b->nv);
    const int stream = nt && ((uintptr_t)y & (SM_VB - 1)) == 0;
    for (size_t v = 0; v < b->nv; v++) {
        size_t c = lanes(b, v);
        VF q = v_load_a(b->s + VL * v), out;
        VF in = v_loadu_c(src + VL * v, c);
        if (log)
            out = v_sub(v_sub(v_mul(vb, in), v_load_a(b->m + VL * v)), q);
        else
            out = v_mul(in, q);
        out = v_blend(b->special[v], out, q);
        if (stream && c == VL)
            v_stream(y + VL * v, out);
        else
            v_storeu_c(y + VL * v, out, c);
    }
}

/* Columns [c0, c1) in blocks of bw; bufs: three rows x ldw buffers or NULL. */
ALWAYS_INLINE void cols_run(int log, int neg, const opk_softmax_job *jb,
                            size_t c0, size_t c1, size_t bw, size_t ldw,
                            float *bufs, int nt)
{
    const size_t rows = jb->rows, nblk = (c1 - c0 + bw - 1) / bw;
    col_blk blk[3];
    for (size_t k = 0; k < nblk + 2; k++) {
        col_blk *b1 = k < nblk ? &blk[k % 3] : NULL;
        col_blk *b2 = k >= 1 && k - 1 < nblk ? &blk[(k - 1) % 3] : NULL;
        col_blk *b3 = k >= 2 ? &blk[(k - 2) % 3] : NULL;
        if (b1) {
            size_t w = c1 - c0 - k * bw < bw ? c1 - c0 - k * bw : bw;
            b1->b0 = c0 + k * bw, b1->nv = (w + VL - 1) / VL;
            b1->last = w - (b1->nv - 1) * VL;
            b1->buf = bufs ? bufs + (k % 3) * rows * ldw : NULL;
            for (size_t v = 0; v < b1->nv; v++)
                v_store_a(b1->m + VL * v, v_set1(neg ? INFINITY : -INFINITY));
        }
        for (size_t i = 0; i < rows; i++) {
            if (b1)
                p1_row(neg, jb, b1, i, ldw);
            if (b2)
                p2_row(log, jb, b2, i, ldw);
            if (b3)
                p3_row(log, jb, b3, i, ldw, nt);
        }
        if (b1)
            p1_end(jb, b1);
        if (b2)
            p2_end(log, b2);
    }
}

void SM_NAME(opk_softmax_cols)(const opk_softmax_job *jb, size_t c0, size_t c1,
                               float *scratch)
{
    (void)scratch; /* the blocks' state lives on the stack */
    size_t bw = opk_sm_col_block(jb->rows, VL * MAX_VECS);
    bw = bw < c1 - c0 ? bw : c1 - c0;
    const size_t ldw = (bw + 15) & ~(size_t)15;
    /* The blocks' copies; without them (too big, no memory) the passes
     * read X and softmax keeps e in Y: the same bits, more traffic. */
    float *bufs = opk_sm_col_bufs(jb->rows, ldw);
    const int nt = bufs && opk_stream_worthwhile(jb->rows * jb->cols * sizeof(float));
    const int log = jb->log, neg = jb->beta < 0;
    if (log)
        neg ? cols_run(1, 1, jb, c0, c1, bw, ldw, bufs, nt)
            : cols_run(1, 0, jb, c0, c1, bw, ldw, bufs, nt);
    else
        neg ? cols_run(0, 1, jb, c0, c1, bw, ldw, bufs, nt)
            : cols_run(0, 0, jb, c0, c1, bw, ldw, bufs, nt);
    if (nt)
        v_sfence(); /* streaming stores are weakly ordered */
    opk_free(bufs);
}
