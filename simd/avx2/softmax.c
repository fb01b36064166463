/* Softmax (SPEC 3.1) with AVX2: the bits of kernels/softmax.c's scalar
 * reference. Rows: lane16 sum in two registers, lane l = element j mod 16
 * from the row start. Columns: 8 columns per vector, seq sum over ascending
 * rows. The structure follows simd/avx512/softmax.c. */
#include <stdint.h>

#include "../../kernels/common.h"
#include "../softmax_shared.h"
#include "kernels.h"
#include "vec.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---- rows ------------------------------------------------------------------------ */

/* Pass 1: max (or, for beta < 0, min) of x, NaN ignored; see
 * ../softmax_shared.h. Order-free: 4 accumulators. */
ALWAYS_INLINE __m256 ext(int neg, __m256 v, __m256 acc)
{
    return neg ? _mm256_min_ps(v, acc) : _mm256_max_ps(v, acc);
}

ALWAYS_INLINE float row_extreme(int neg, const float *x, size_t n)
{
    const __m256 init = _mm256_set1_ps(neg ? INFINITY : -INFINITY);
    __m256 a0 = init, a1 = init, a2 = init, a3 = init;
    size_t j = 0;
    for (; j + 32 <= n; j += 32) {
        a0 = ext(neg, _mm256_loadu_ps(x + j), a0);
        a1 = ext(neg, _mm256_loadu_ps(x + j + 8), a1);
        a2 = ext(neg, _mm256_loadu_ps(x + j + 16), a2);
        a3 = ext(neg, _mm256_loadu_ps(x + j + 24), a3);
    }
    for (; j + 8 <= n; j += 8)
        a0 = ext(neg, _mm256_loadu_ps(x + j), a0);
    if (j < n) /* masked-off lanes read +0: keep the accumulator there */
        a1 = _mm256_blendv_ps(a1, ext(neg, v8_load_n(x + j, n - j), a1),
                              _mm256_castsi256_ps(v8_mask_n(n - j)));
    a0 = ext(neg, ext(neg, a0, a1), ext(neg, a2, a3));
    __m128 h = _mm256_castps256_ps128(a0), l = _mm256_extractf128_ps(a0, 1);
    h = neg ? _mm_min_ps(h, l) : _mm_max_ps(h, l);
    l = _mm_movehl_ps(h, h);
    h = neg ? _mm_min_ps(h, l) : _mm_max_ps(h, l);
    l = _mm_movehdup_ps(h);
    h = neg ? _mm_min_ss(h, l) : _mm_max_ss(h, l);
    return _mm_cvtss_f32(h);
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
    size_t h;           /* elements before y is 32-byte aligned (nt), else 0 */
    int nt;             /* streaming stores for the aligned body */
    __m256 vm, vq;      /* m, and 1/s (softmax) or Lg(s) (log-softmax) */
} out_row;

/* Output values for elements j .. j+c-1 (c <= 8): softmax e * (1/s),
 * log-softmax (t - m) - Lg(s) with t recomputed from x. */
ALWAYS_INLINE __m256 out_val(int log, const out_row *o, size_t j, size_t c,
                             __m256 vb)
{
    if (log) {
        __m256 xv = c == 8 ? _mm256_loadu_ps(o->x + j) : v8_load_n(o->x + j, c);
        return _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(vb, xv), o->vm), o->vq);
    }
    __m256 ev = c == 8 ? _mm256_loadu_ps(o->e + j) : v8_load_n(o->e + j, c);
    return _mm256_mul_ps(ev, o->vq);
}

/* Writes output block k, [h + 256k, h + 256(k+1)) clipped to [0, n), block
 * 0 starting at 0: the body is whole aligned vectors (streamed when nt);
 * the unaligned head and the tail are masked, touching nothing else. */
ALWAYS_INLINE void out_block(int log, const out_row *o, size_t n, size_t k,
                             __m256 vb)
{
    size_t j = k ? o->h + SUM_BLOCK * k : 0, hi = o->h + SUM_BLOCK * (k + 1);
    hi = hi < n ? hi : n;
    if (j >= hi)
        return;
    if (k == 0 && o->h) {
        size_t c = o->h < hi ? o->h : hi;
        v8_store_n(o->y, out_val(log, o, 0, c, vb), c);
        j = c;
    }
    if (o->nt)
        for (; j + 8 <= hi; j += 8)
            _mm256_stream_ps(o->y + j, out_val(log, o, j, 8, vb));
    else
        for (; j + 8 <= hi; j += 8)
            _mm256_storeu_ps(o->y + j, out_val(log, o, j, 8, vb));
    if (j < hi)
        v8_store_n(o->y + j, out_val(log, o, j, hi - j, vb), hi - j);
}

ALWAYS_INLINE void out_all(int log, const out_row *o, size_t n, __m256 vb)
{
    for (size_t k = 0; k * SUM_BLOCK < n; k++)
        out_block(log, o, n, k, vb);
}

/* Pass 2: e = E(t - m) into ebuf (padded to 16), s = lane16(e). The sum
 * runs behind the exps in blocks: every ymm register is caller-saved, so
 * accumulators live across the SLEEF calls would go through memory each
 * call. Meanwhile the next row (next, may be NULL) is prefetched into L2
 * and the previous row's output (prev, may be NULL) written. */
ALWAYS_INLINE float row_sum(int log, const float *x, size_t n, __m256 vb,
                            __m256 vm, float *ebuf, const float *next,
                            const out_row *prev)
{
    v8_lane16 s;
    v8_lane16_init(&s);
    for (size_t b = 0, k = 0; b < n; b += SUM_BLOCK, k++) {
        size_t be = n - b < SUM_BLOCK ? n : b + SUM_BLOCK, j = b;
        for (; j + 16 <= be; j += 16) {
            if (next)
                _mm_prefetch((const char *)(next + j), _MM_HINT_T1);
            __m256 t0 = _mm256_mul_ps(vb, _mm256_loadu_ps(x + j));
            _mm256_store_ps(ebuf + j, v8_E(_mm256_sub_ps(t0, vm)));
            __m256 t1 = _mm256_mul_ps(vb, _mm256_loadu_ps(x + j + 8));
            _mm256_store_ps(ebuf + j + 8, v8_E(_mm256_sub_ps(t1, vm)));
        }
        if (j < be) {
            size_t c = be - j;
            if (next)
                _mm_prefetch((const char *)(next + j), _MM_HINT_T1);
            __m256 t0 = _mm256_mul_ps(vb, v8_load_n(x + j, c));
            _mm256_store_ps(ebuf + j, v8_E(_mm256_sub_ps(t0, vm)));
            if (c > 8) {
                __m256 t1 = _mm256_mul_ps(vb, v8_load_n(x + j + 8, c - 8));
                _mm256_store_ps(ebuf + j + 8, v8_E(_mm256_sub_ps(t1, vm)));
            }
        }
        for (j = b; j + 16 <= be; j += 16)
            v8_lane16_add(&s, _mm256_load_ps(ebuf + j), _mm256_load_ps(ebuf + j + 8));
        if (j < be) /* lanes past the end are masked off (ebuf is padded) */
            v8_lane16_add_n(&s, _mm256_load_ps(ebuf + j),
                            _mm256_load_ps(ebuf + j + 8), be - j);
        if (prev)
            out_block(log, prev, n, k, vb);
    }
    return v8_lane16_result(&s);
}

static void row_fill(float *y, size_t n, float v)
{
    __m256 vv = _mm256_set1_ps(v);
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(y + j, vv);
    if (j < n)
        v8_store_n(y + j, vv, n - j);
}

/* Rows [r0, r1). With two e buffers a row's output is written during the
 * next row's pass 2; with one (buf1 NULL), right after its own. */
ALWAYS_INLINE void rows_run(int log, const opk_softmax_job *jb, size_t r0,
                            size_t r1, float *buf0, float *buf1)
{
    const size_t n = jb->cols;
    const __m256 vb = _mm256_set1_ps(jb->beta);
    const int nt = opk_stream_worthwhile(jb->rows * n * sizeof(float));
    out_row pend;
    int have = 0;
    for (size_t i = r0; i < r1; i++) {
        const float *x = jb->x + i * jb->ldx;
        float *y = jb->y + i * jb->ldy;
        float *eb = buf1 && (i & 1) ? buf1 : buf0;
        float m = row_max_t(x, n, jb->beta), s = 0.0f;
        if (m == m && m != INFINITY) {
            s = row_sum(log, x, n, vb, _mm256_set1_ps(opk_sm_shift(m)), eb,
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
        pend.h = pend.nt ? ((32 - ((uintptr_t)y & 31)) & 31) / 4 : 0;
        pend.vm = _mm256_set1_ps(m);
        pend.vq = log ? v8_Lg(_mm256_set1_ps(s)) : _mm256_set1_ps(1.0f / s);
        have = 1;
        if (!buf1)
            out_all(log, &pend, n, vb), have = 0;
    }
    if (have)
        out_all(log, &pend, n, vb);
    if (nt)
        _mm_sfence(); /* streaming stores are weakly ordered */
}

void opk_softmax_rows_avx2(const opk_softmax_job *jb, size_t r0, size_t r1,
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
 * ../softmax_shared.h): one sweep down the rows does pass 1 (max, and a
 * contiguous copy of the block) of block k + 1, pass 2 (exps, seq sum, on
 * the copy) of block k and pass 3 (output) of block k - 1, so the loads of
 * block k + 1 and the stores of block k - 1 overlap block k's exps. The
 * structure follows simd/avx512/softmax.c. */

/* Up to this many 8-column vectors per block (blocks live on the stack). */
#define MAX_VECS 64

typedef struct col_blk {
    size_t b0, nv, last; /* columns b0 .. b0 + 8 (nv - 1) + last - 1 */
    float *buf;          /* rows x ldw: x, then softmax's e; NULL: none */
    __m256 special[MAX_VECS], low[MAX_VECS]; /* all-ones lanes */
    float m[8 * MAX_VECS] __attribute__((aligned(32))); /* max, then m' */
    float s[8 * MAX_VECS] __attribute__((aligned(32))); /* sum, then factor */
} col_blk;

/* Prefetches the segment of the row OPK_SM_COL_PF_ROWS below p (row i),
 * one line per 16 floats. */
ALWAYS_INLINE void col_prefetch(const float *p, size_t i, size_t rows,
                                size_t ld, size_t nv)
{
    if (i + OPK_SM_COL_PF_ROWS < rows)
        for (size_t v = 0; v < nv; v += 2)
            _mm_prefetch((const char *)(p + OPK_SM_COL_PF_ROWS * ld + 8 * v),
                         _MM_HINT_T1);
}

ALWAYS_INLINE size_t lanes(const col_blk *b, size_t v)
{
    return v + 1 < b->nv ? 8 : b->last;
}

/* Pass 1, row i: max (min) of x, NaN ignored; x copied to buf. */
ALWAYS_INLINE void p1_row(int neg, const opk_softmax_job *jb, col_blk *b,
                          size_t i, size_t ldw)
{
    const float *x = jb->x + i * jb->ldx + b->b0;
    col_prefetch(x, i, jb->rows, jb->ldx, b->nv);
    for (size_t v = 0; v < b->nv; v++) {
        size_t c = lanes(b, v);
        __m256 xv = v8_loadu_c(x + 8 * v, c), a = _mm256_load_ps(b->m + 8 * v);
        __m256 r = neg ? _mm256_min_ps(xv, a) : _mm256_max_ps(xv, a);
        if (c < 8) /* masked-off lanes read +0: keep the accumulator */
            r = _mm256_blendv_ps(a, r, _mm256_castsi256_ps(v8_mask_n(c)));
        _mm256_store_ps(b->m + 8 * v, r);
        if (b->buf)
            _mm256_store_ps(b->buf + i * ldw + 8 * v, xv);
    }
}

/* After pass 1: m = beta * extreme, kept as m' (0 where m = -inf). */
ALWAYS_INLINE void p1_end(const opk_softmax_job *jb, col_blk *b)
{
    const __m256 vb = _mm256_set1_ps(jb->beta);
    for (size_t v = 0; v < b->nv; v++) {
        __m256 mv = _mm256_mul_ps(vb, _mm256_load_ps(b->m + 8 * v));
        b->special[v] = _mm256_cmp_ps(mv, _mm256_set1_ps(INFINITY),
                                      _CMP_EQ_UQ); /* +inf or NaN */
        b->low[v] = _mm256_cmp_ps(mv, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ);
        _mm256_store_ps(b->m + 8 * v,
                        _mm256_blendv_ps(mv, _mm256_setzero_ps(), b->low[v]));
        _mm256_store_ps(b->s + 8 * v, _mm256_setzero_ps());
    }
}

/* Pass 2, row i: s += E(t - m') (seq over ascending rows); softmax keeps e
 * in buf over x, or without buf in Y. */
ALWAYS_INLINE void p2_row(int log, const opk_softmax_job *jb, col_blk *b,
                          size_t i, size_t ldw)
{
    const float *x = b->buf ? b->buf + i * ldw : jb->x + i * jb->ldx + b->b0;
    float *e = b->buf ? b->buf + i * ldw : jb->y + i * jb->ldy + b->b0;
    const __m256 vb = _mm256_set1_ps(jb->beta);
    if (!b->buf)
        col_prefetch(x, i, jb->rows, jb->ldx, b->nv);
    for (size_t v = 0; v < b->nv; v++) {
        size_t c = lanes(b, v);
        __m256 t = _mm256_mul_ps(vb, v8_loadu_c(x + 8 * v, c));
        __m256 ev = v8_E(_mm256_sub_ps(t, _mm256_load_ps(b->m + 8 * v)));
        _mm256_store_ps(b->s + 8 * v, _mm256_add_ps(_mm256_load_ps(b->s + 8 * v), ev));
        if (!log)
            v8_storeu_c(e + 8 * v, ev, c);
    }
}

/* After pass 2: the classes; s becomes 1/s or Lg(s), or the special value. */
ALWAYS_INLINE void p2_end(int log, col_blk *b)
{
    const __m256 special_low = _mm256_set1_ps(log ? -INFINITY : 0.0f);
    for (size_t v = 0; v < b->nv; v++) {
        __m256 sv = _mm256_load_ps(b->s + 8 * v);
        b->special[v] = _mm256_or_ps(b->special[v], _mm256_cmp_ps(sv, sv, _CMP_UNORD_Q));
        b->low[v] = _mm256_andnot_ps(b->special[v], b->low[v]);
        __m256 q = log ? v8_Lg(sv) : _mm256_div_ps(_mm256_set1_ps(1.0f), sv);
        q = _mm256_blendv_ps(q, special_low, b->low[v]);
        q = _mm256_blendv_ps(q, _mm256_set1_ps(NAN), b->special[v]);
        _mm256_store_ps(b->s + 8 * v, q);
        b->special[v] = _mm256_or_ps(b->special[v], b->low[v]);
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
    const __m256 vb = _mm256_set1_ps(jb->beta);
    if (!b->buf)
        col_prefetch(src, i, jb->rows, log ? jb->ldx : jb->ldy, b->nv);
    const int stream = nt && ((uintptr_t)y & 31) == 0;
    for (size_t v = 0; v < b->nv; v++) {
        size_t c = lanes(b, v);
        __m256 q = _mm256_load_ps(b->s + 8 * v), out;
        __m256 in = v8_loadu_c(src + 8 * v, c);
        if (log)
            out = _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(vb, in),
                                              _mm256_load_ps(b->m + 8 * v)), q);
        else
            out = _mm256_mul_ps(in, q);
        out = _mm256_blendv_ps(out, q, b->special[v]);
        if (stream && c == 8)
            _mm256_stream_ps(y + 8 * v, out);
        else
            v8_storeu_c(y + 8 * v, out, c);
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
            b1->b0 = c0 + k * bw, b1->nv = (w + 7) / 8;
            b1->last = w - (b1->nv - 1) * 8;
            b1->buf = bufs ? bufs + (k % 3) * rows * ldw : NULL;
            for (size_t v = 0; v < b1->nv; v++)
                _mm256_store_ps(b1->m + 8 * v, _mm256_set1_ps(neg ? INFINITY : -INFINITY));
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

void opk_softmax_cols_avx2(const opk_softmax_job *jb, size_t c0, size_t c1,
                           float *scratch)
{
    (void)scratch; /* the blocks' state lives on the stack */
    size_t bw = opk_sm_col_block(jb->rows, 8 * MAX_VECS);
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
        _mm_sfence(); /* streaming stores are weakly ordered */
    opk_free(bufs);
}
