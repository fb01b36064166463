/* Softmax (SPEC 3.1) with AVX-512: the bits of kernels/softmax.c's scalar
 * reference. Rows: lane16 sum, lane l = element j mod 16 from the row start.
 * Columns: 16 columns per vector, seq sum over ascending rows. */
#include <stdint.h>

#include "../cache.h"
#include "../softmax_classes.h"
#include "kernels.h"
#include "vec.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---- rows ------------------------------------------------------------------------ */

/* Pass 1: max (or, for beta < 0, min) of x, NaN ignored; see
 * ../softmax_classes.h. Order-free: 4 accumulators. */
ALWAYS_INLINE __m512 ext(int neg, __m512 v, __m512 acc)
{
    return neg ? _mm512_min_ps(v, acc) : _mm512_max_ps(v, acc);
}

ALWAYS_INLINE float row_extreme(int neg, const float *x, size_t n)
{
    const __m512 init = _mm512_set1_ps(neg ? INFINITY : -INFINITY);
    __m512 a0 = init, a1 = init, a2 = init, a3 = init;
    size_t j = 0;
    for (; j + 64 <= n; j += 64) {
        a0 = ext(neg, _mm512_loadu_ps(x + j), a0);
        a1 = ext(neg, _mm512_loadu_ps(x + j + 16), a1);
        a2 = ext(neg, _mm512_loadu_ps(x + j + 32), a2);
        a3 = ext(neg, _mm512_loadu_ps(x + j + 48), a3);
    }
    for (; j + 16 <= n; j += 16)
        a0 = ext(neg, _mm512_loadu_ps(x + j), a0);
    if (j < n) /* masked-off lanes read +0: keep the accumulator there */
        a1 = _mm512_mask_blend_ps(v16_mask_n(n - j), a1,
                                  ext(neg, v16_load_n(x + j, n - j), a1));
    a0 = ext(neg, ext(neg, a0, a1), ext(neg, a2, a3));
    return neg ? _mm512_reduce_min_ps(a0) : _mm512_reduce_max_ps(a0);
}

static float row_max_t(const float *x, size_t n, float beta)
{
    return opk_sm_max_t(beta, beta < 0 ? row_extreme(1, x, n) : row_extreme(0, x, n));
}

/* Pass 2: e = E(t - m) into ebuf (padded to 16), s = lane16(e). The sum
 * runs behind the exps in blocks: every zmm register is caller-saved, so
 * an accumulator live across the SLEEF calls would go through memory each
 * call. next (may be NULL): the following row, prefetched into L2 meanwhile
 * so memory keeps streaming while this row computes. */
#define SUM_BLOCK 256
static float row_sum(const float *x, size_t n, __m512 vb, __m512 vm,
                     float *ebuf, const float *next)
{
    v16_lane16 s;
    v16_lane16_init(&s);
    for (size_t b = 0; b < n; b += SUM_BLOCK) {
        size_t be = n - b < SUM_BLOCK ? n : b + SUM_BLOCK, j = b;
        for (; j + 16 <= be; j += 16) {
            if (next)
                _mm_prefetch((const char *)(next + j), _MM_HINT_T1);
            __m512 t = _mm512_mul_ps(vb, _mm512_loadu_ps(x + j));
            _mm512_store_ps(ebuf + j, v16_E(_mm512_sub_ps(t, vm)));
        }
        if (j < be) {
            if (next)
                _mm_prefetch((const char *)(next + j), _MM_HINT_T1);
            __m512 t = _mm512_mul_ps(vb, v16_load_n(x + j, be - j));
            _mm512_store_ps(ebuf + j, v16_E(_mm512_sub_ps(t, vm)));
        }
        for (j = b; j + 16 <= be; j += 16)
            v16_lane16_add(&s, _mm512_load_ps(ebuf + j));
        if (j < be)
            v16_lane16_add_n(&s, _mm512_load_ps(ebuf + j), be - j);
    }
    return v16_lane16_result(&s);
}

/* Pass 3 values for elements j .. j+c-1 (c <= 16): softmax e * r from ebuf,
 * log-softmax (t - m) - Lg(s) from x. */
ALWAYS_INLINE __m512 row_out(int log, const float *x, const float *ebuf,
                             size_t j, size_t c, __m512 vb, __m512 vm,
                             __m512 vq)
{
    if (log) {
        __m512 xv = c == 16 ? _mm512_loadu_ps(x + j) : v16_load_n(x + j, c);
        return _mm512_sub_ps(_mm512_sub_ps(_mm512_mul_ps(vb, xv), vm), vq);
    }
    __m512 ev = c == 16 ? _mm512_loadu_ps(ebuf + j) : v16_load_n(ebuf + j, c);
    return _mm512_mul_ps(ev, vq);
}

/* Pass 3: writes the row. With nt, the 64-byte aligned body of y goes out
 * with streaming stores (no read-for-ownership of y); head and tail are
 * masked so nothing outside the row is touched. */
ALWAYS_INLINE void row_store(int log, const float *x, const float *ebuf,
                             float *y, size_t n, __m512 vb, __m512 vm,
                             __m512 vq, int nt)
{
    size_t j = 0;
    if (nt && ((uintptr_t)y & 3) == 0) {
        size_t h = ((64 - ((uintptr_t)y & 63)) & 63) / 4;
        h = h < n ? h : n;
        if (h)
            v16_store_n(y, row_out(log, x, ebuf, 0, h, vb, vm, vq), h);
        for (j = h; j + 16 <= n; j += 16)
            _mm512_stream_ps(y + j, row_out(log, x, ebuf, j, 16, vb, vm, vq));
    }
    for (; j + 16 <= n; j += 16)
        _mm512_storeu_ps(y + j, row_out(log, x, ebuf, j, 16, vb, vm, vq));
    if (j < n)
        v16_store_n(y + j, row_out(log, x, ebuf, j, n - j, vb, vm, vq), n - j);
}

static void row_fill(float *y, size_t n, float v)
{
    __m512 vv = _mm512_set1_ps(v);
    size_t j = 0;
    for (; j + 16 <= n; j += 16)
        _mm512_storeu_ps(y + j, vv);
    if (j < n)
        v16_store_n(y + j, vv, n - j);
}

void opk_softmax_rows_avx512(const opk_softmax_job *jb, size_t r0, size_t r1,
                             float *scratch)
{
    const size_t n = jb->cols;
    const __m512 vb = _mm512_set1_ps(jb->beta);
    const int nt = opk_stream_worthwhile(jb->rows * n * sizeof(float));
    for (size_t i = r0; i < r1; i++) {
        const float *x = jb->x + i * jb->ldx;
        float *y = jb->y + i * jb->ldy;
        const float *next = i + 1 < r1 ? x + jb->ldx : NULL;
        float m = row_max_t(x, n, jb->beta), s = 0.0f;
        if (m == m && m != INFINITY) {
            const __m512 vm = _mm512_set1_ps(opk_sm_shift(m));
            s = row_sum(x, n, vb, vm, scratch, next);
        }
        int cls = opk_sm_class(m, s);
        if (cls != OPK_SM_REGULAR) {
            row_fill(y, n, opk_sm_special(cls, jb->log));
            continue;
        }
        const __m512 vm = _mm512_set1_ps(m);
        if (jb->log) {
            __m512 ls = v16_Lg(_mm512_set1_ps(s));
            row_store(1, x, scratch, y, n, vb, vm, ls, nt);
        } else {
            row_store(0, x, scratch, y, n, vb, vm, _mm512_set1_ps(1.0f / s), nt);
        }
    }
    if (nt)
        _mm_sfence(); /* streaming stores are weakly ordered */
}

/* ---- columns ------------------------------------------------------------------- */

/* Up to this many 16-column vectors per block (the stack holds their masks). */
#define MAX_VECS 64

/* Columns per block: the block's rows x width floats of X (and of Y) should
 * stay in L2 across the three passes. */
static size_t col_block(size_t rows)
{
    size_t w = opk_l2_bytes() / 2 / (rows * sizeof(float) * 2);
    w &= ~(size_t)15;
    if (w < 16)
        w = 16;
    if (w > 16 * MAX_VECS)
        w = 16 * MAX_VECS;
    return w;
}

/* One block of columns [b0, b0 + w) of the job; m and s: w floats each. */
static void col_block_run(const opk_softmax_job *jb, size_t b0, size_t w,
                          float *m, float *s)
{
    const size_t rows = jb->rows, nv = (w + 15) / 16;
    const size_t last = w - (nv - 1) * 16; /* lanes of the last vector */
    const __m512 vb = _mm512_set1_ps(jb->beta);
    const __m512 special_low = _mm512_set1_ps(jb->log ? -INFINITY : 0.0f);
    __mmask16 reg[MAX_VECS], nan[MAX_VECS];

    /* Pass 1: column max; NaN lanes tracked apart (SPEC 3.1 classes). */
    for (size_t v = 0; v < nv; v++)
        _mm512_store_ps(m + 16 * v, _mm512_set1_ps(-INFINITY)), nan[v] = 0;
    for (size_t i = 0; i < rows; i++) {
        const float *x = jb->x + i * jb->ldx + b0;
        for (size_t v = 0; v < nv; v++) {
            size_t c = v + 1 < nv ? 16 : last;
            __m512 t = _mm512_mul_ps(vb, v16_load_n(x + 16 * v, c));
            nan[v] |= _mm512_cmp_ps_mask(t, t, _CMP_UNORD_Q);
            _mm512_store_ps(m + 16 * v, _mm512_max_ps(t, _mm512_load_ps(m + 16 * v)));
        }
    }
    /* Regular lanes; special lanes start s at their output value. */
    for (size_t v = 0; v < nv; v++) {
        __m512 mv = _mm512_load_ps(m + 16 * v);
        __mmask16 inf = _mm512_cmp_ps_mask(mv, _mm512_set1_ps(INFINITY), _CMP_EQ_OQ);
        __mmask16 ninf = _mm512_cmp_ps_mask(mv, _mm512_set1_ps(-INFINITY), _CMP_EQ_OQ);
        reg[v] = (__mmask16)(~(nan[v] | inf | ninf));
        __m512 sp = _mm512_mask_blend_ps(nan[v] | inf, special_low, _mm512_set1_ps(NAN));
        _mm512_store_ps(s + 16 * v, _mm512_mask_blend_ps(reg[v], sp, _mm512_setzero_ps()));
    }
    /* Pass 2: s = seq(E(t - m)) over ascending rows; softmax keeps e in Y. */
    for (size_t i = 0; i < rows; i++) {
        const float *x = jb->x + i * jb->ldx + b0;
        float *y = jb->y + i * jb->ldy + b0;
        for (size_t v = 0; v < nv; v++) {
            size_t c = v + 1 < nv ? 16 : last;
            __m512 t = _mm512_mul_ps(vb, v16_load_n(x + 16 * v, c));
            __m512 e = v16_E(_mm512_sub_ps(t, _mm512_load_ps(m + 16 * v)));
            __m512 sv = _mm512_load_ps(s + 16 * v);
            _mm512_store_ps(s + 16 * v, _mm512_mask_add_ps(sv, reg[v], sv, e));
            if (!jb->log)
                v16_store_n(y + 16 * v, e, c);
        }
    }
    for (size_t v = 0; v < nv; v++) {
        __m512 sv = _mm512_load_ps(s + 16 * v);
        __m512 q = jb->log ? v16_Lg(sv) : _mm512_div_ps(_mm512_set1_ps(1.0f), sv);
        _mm512_store_ps(s + 16 * v, _mm512_mask_blend_ps(reg[v], sv, q));
    }
    /* Pass 3: y = e * (1 / s), or (t - m) - Lg(s); special lanes from s. */
    for (size_t i = 0; i < rows; i++) {
        const float *x = jb->x + i * jb->ldx + b0;
        float *y = jb->y + i * jb->ldy + b0;
        for (size_t v = 0; v < nv; v++) {
            size_t c = v + 1 < nv ? 16 : last;
            __m512 q = _mm512_load_ps(s + 16 * v), out;
            if (jb->log) {
                __m512 t = _mm512_mul_ps(vb, v16_load_n(x + 16 * v, c));
                out = _mm512_sub_ps(_mm512_sub_ps(t, _mm512_load_ps(m + 16 * v)), q);
            } else {
                out = _mm512_mul_ps(v16_load_n(y + 16 * v, c), q);
            }
            v16_store_n(y + 16 * v, _mm512_mask_blend_ps(reg[v], q, out), c);
        }
    }
}

void opk_softmax_cols_avx512(const opk_softmax_job *jb, size_t c0, size_t c1,
                             float *scratch)
{
    size_t bw = col_block(jb->rows);
    bw = bw < c1 - c0 ? bw : c1 - c0;
    /* scratch: 2 * (c1 - c0) + 64 floats, room for two padded blocks. */
    float *m = scratch, *s = scratch + ((bw + 15) & ~(size_t)15);
    for (size_t b0 = c0; b0 < c1; b0 += bw)
        col_block_run(jb, b0, c1 - b0 < bw ? c1 - b0 : bw, m, s);
}
