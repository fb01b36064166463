/* Softmax (SPEC 3.1) with AVX2: the bits of kernels/softmax.c's scalar
 * reference. Rows: lane16 sum in two registers, lane l = element j mod 16
 * from the row start. Columns: 8 columns per vector, seq sum over ascending
 * rows. The structure follows simd/avx512/softmax.c. */
#include <stdint.h>

#include "../cache.h"
#include "../softmax_classes.h"
#include "kernels.h"
#include "vec.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---- rows ------------------------------------------------------------------------ */

/* Pass 1: max (or, for beta < 0, min) of x, NaN ignored; see
 * ../softmax_classes.h. Order-free: 4 accumulators. */
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

/* Pass 2: e = E(t - m) into ebuf (padded to 16), s = lane16(e). The sum
 * runs behind the exps in blocks: every ymm register is caller-saved, so
 * accumulators live across the SLEEF calls would go through memory each
 * call. next (may be NULL): the following row, prefetched into L2 meanwhile
 * so memory keeps streaming while this row computes. */
#define SUM_BLOCK 256
static float row_sum(const float *x, size_t n, __m256 vb, __m256 vm,
                     float *ebuf, const float *next)
{
    v8_lane16 s;
    v8_lane16_init(&s);
    for (size_t b = 0; b < n; b += SUM_BLOCK) {
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
    }
    return v8_lane16_result(&s);
}

/* Pass 3 values for elements j .. j+c-1 (c <= 8): softmax e * r from ebuf,
 * log-softmax (t - m) - Lg(s) from x. */
ALWAYS_INLINE __m256 row_out(int log, const float *x, const float *ebuf,
                             size_t j, size_t c, __m256 vb, __m256 vm,
                             __m256 vq)
{
    if (log) {
        __m256 xv = c == 8 ? _mm256_loadu_ps(x + j) : v8_load_n(x + j, c);
        return _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(vb, xv), vm), vq);
    }
    __m256 ev = c == 8 ? _mm256_loadu_ps(ebuf + j) : v8_load_n(ebuf + j, c);
    return _mm256_mul_ps(ev, vq);
}

/* Pass 3: writes the row. With nt, the 32-byte aligned body of y goes out
 * with streaming stores (no read-for-ownership of y); head and tail are
 * masked so nothing outside the row is touched. */
ALWAYS_INLINE void row_store(int log, const float *x, const float *ebuf,
                             float *y, size_t n, __m256 vb, __m256 vm,
                             __m256 vq, int nt)
{
    size_t j = 0;
    if (nt && ((uintptr_t)y & 3) == 0) {
        size_t h = ((32 - ((uintptr_t)y & 31)) & 31) / 4;
        h = h < n ? h : n;
        if (h)
            v8_store_n(y, row_out(log, x, ebuf, 0, h, vb, vm, vq), h);
        for (j = h; j + 8 <= n; j += 8)
            _mm256_stream_ps(y + j, row_out(log, x, ebuf, j, 8, vb, vm, vq));
    }
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(y + j, row_out(log, x, ebuf, j, 8, vb, vm, vq));
    if (j < n)
        v8_store_n(y + j, row_out(log, x, ebuf, j, n - j, vb, vm, vq), n - j);
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

void opk_softmax_rows_avx2(const opk_softmax_job *jb, size_t r0, size_t r1,
                           float *scratch)
{
    const size_t n = jb->cols;
    const __m256 vb = _mm256_set1_ps(jb->beta);
    const int nt = opk_stream_worthwhile(jb->rows * n * sizeof(float));
    for (size_t i = r0; i < r1; i++) {
        const float *x = jb->x + i * jb->ldx;
        float *y = jb->y + i * jb->ldy;
        const float *next = i + 1 < r1 ? x + jb->ldx : NULL;
        float m = row_max_t(x, n, jb->beta), s = 0.0f;
        if (m == m && m != INFINITY) {
            const __m256 vm = _mm256_set1_ps(opk_sm_shift(m));
            s = row_sum(x, n, vb, vm, scratch, next);
        }
        int cls = opk_sm_class(m, s);
        if (cls != OPK_SM_REGULAR) {
            row_fill(y, n, opk_sm_special(cls, jb->log));
            continue;
        }
        const __m256 vm = _mm256_set1_ps(m);
        if (jb->log) {
            __m256 ls = v8_Lg(_mm256_set1_ps(s));
            row_store(1, x, scratch, y, n, vb, vm, ls, nt);
        } else {
            row_store(0, x, scratch, y, n, vb, vm, _mm256_set1_ps(1.0f / s), nt);
        }
    }
    if (nt)
        _mm_sfence(); /* streaming stores are weakly ordered */
}

/* ---- columns ------------------------------------------------------------------- */

/* Up to this many 8-column vectors per block (the stack holds their masks). */
#define MAX_VECS 128

/* Columns per block (a multiple of 16): the block's rows x width floats of
 * X and of Y should stay in half the L2 across the three passes. */
static size_t col_block(size_t rows)
{
    size_t w = opk_l2_bytes() / 2 / (rows * sizeof(float) * 2);
    w &= ~(size_t)15;
    if (w < 16)
        w = 16;
    if (w > 8 * MAX_VECS)
        w = 8 * MAX_VECS;
    return w;
}

/* One block of columns [b0, b0 + w) of the job; m and s: w floats each,
 * 32-byte aligned, padded to 8. */
static void col_block_run(const opk_softmax_job *jb, size_t b0, size_t w,
                          float *m, float *s)
{
    const size_t rows = jb->rows, nv = (w + 7) / 8;
    const size_t last = w - (nv - 1) * 8; /* lanes of the last vector */
    const __m256 vb = _mm256_set1_ps(jb->beta);
    const __m256 special_low = _mm256_set1_ps(jb->log ? -INFINITY : 0.0f);
    __m256 reg[MAX_VECS], nan[MAX_VECS]; /* all-ones lanes */

    /* Pass 1: column max; NaN lanes tracked apart (SPEC 3.1 classes). */
    for (size_t v = 0; v < nv; v++)
        _mm256_store_ps(m + 8 * v, _mm256_set1_ps(-INFINITY)),
            nan[v] = _mm256_setzero_ps();
    for (size_t i = 0; i < rows; i++) {
        const float *x = jb->x + i * jb->ldx + b0;
        for (size_t v = 0; v < nv; v++) {
            size_t c = v + 1 < nv ? 8 : last;
            __m256 t = _mm256_mul_ps(vb, v8_load_n(x + 8 * v, c));
            nan[v] = _mm256_or_ps(nan[v], _mm256_cmp_ps(t, t, _CMP_UNORD_Q));
            _mm256_store_ps(m + 8 * v, _mm256_max_ps(t, _mm256_load_ps(m + 8 * v)));
        }
    }
    /* Regular lanes; special lanes start s at their output value. */
    for (size_t v = 0; v < nv; v++) {
        __m256 mv = _mm256_load_ps(m + 8 * v);
        __m256 bad = _mm256_or_ps(
            nan[v], _mm256_cmp_ps(mv, _mm256_set1_ps(INFINITY), _CMP_EQ_OQ));
        __m256 low = _mm256_cmp_ps(mv, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ);
        reg[v] = _mm256_cmp_ps(_mm256_or_ps(bad, low), _mm256_setzero_ps(),
                               _CMP_EQ_OQ); /* neither: all bits zero */
        __m256 sp = _mm256_blendv_ps(special_low, _mm256_set1_ps(NAN), bad);
        _mm256_store_ps(s + 8 * v, _mm256_blendv_ps(sp, _mm256_setzero_ps(), reg[v]));
    }
    /* Pass 2: s = seq(E(t - m)) over ascending rows; softmax keeps e in Y. */
    for (size_t i = 0; i < rows; i++) {
        const float *x = jb->x + i * jb->ldx + b0;
        float *y = jb->y + i * jb->ldy + b0;
        for (size_t v = 0; v < nv; v++) {
            size_t c = v + 1 < nv ? 8 : last;
            __m256 t = _mm256_mul_ps(vb, v8_load_n(x + 8 * v, c));
            __m256 e = v8_E(_mm256_sub_ps(t, _mm256_load_ps(m + 8 * v)));
            __m256 sv = _mm256_load_ps(s + 8 * v);
            _mm256_store_ps(s + 8 * v,
                            _mm256_blendv_ps(sv, _mm256_add_ps(sv, e), reg[v]));
            if (!jb->log)
                v8_store_n(y + 8 * v, e, c);
        }
    }
    for (size_t v = 0; v < nv; v++) {
        __m256 sv = _mm256_load_ps(s + 8 * v);
        __m256 q = jb->log ? v8_Lg(sv) : _mm256_div_ps(_mm256_set1_ps(1.0f), sv);
        _mm256_store_ps(s + 8 * v, _mm256_blendv_ps(sv, q, reg[v]));
    }
    /* Pass 3: y = e * (1 / s), or (t - m) - Lg(s); special lanes from s. */
    for (size_t i = 0; i < rows; i++) {
        const float *x = jb->x + i * jb->ldx + b0;
        float *y = jb->y + i * jb->ldy + b0;
        for (size_t v = 0; v < nv; v++) {
            size_t c = v + 1 < nv ? 8 : last;
            __m256 q = _mm256_load_ps(s + 8 * v), out;
            if (jb->log) {
                __m256 t = _mm256_mul_ps(vb, v8_load_n(x + 8 * v, c));
                out = _mm256_sub_ps(_mm256_sub_ps(t, _mm256_load_ps(m + 8 * v)), q);
            } else {
                out = _mm256_mul_ps(v8_load_n(y + 8 * v, c), q);
            }
            v8_store_n(y + 8 * v, _mm256_blendv_ps(q, out, reg[v]), c);
        }
    }
}

void opk_softmax_cols_avx2(const opk_softmax_job *jb, size_t c0, size_t c1,
                           float *scratch)
{
    size_t bw = col_block(jb->rows);
    bw = bw < c1 - c0 ? bw : c1 - c0;
    /* scratch: 2 * (c1 - c0) + 64 floats, room for two padded blocks. */
    float *m = scratch, *s = scratch + ((bw + 15) & ~(size_t)15);
    for (size_t b0 = c0; b0 < c1; b0 += bw)
        col_block_run(jb, b0, c1 - b0 < bw ? c1 - b0 : bw, m, s);
}
