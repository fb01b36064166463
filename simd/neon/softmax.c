/* Softmax (SPEC 3.1) with NEON, bit-identical to kernels/softmax.c: rows
 * sum with lane16 over 16-element blocks (four registers), columns with seq
 * down 16-column blocks; t = beta * x is recomputed rather than stored, as
 * the scalar reference does. */
#include "neon.h"
#include "vec.h"

/* Pass 1 of a row: max of t = beta * x over its n elements (NaN-aware). */
static float row_max(const float *x, size_t n, float32x4_t vb)
{
    float32x4_t mv[4];
    for (int k = 0; k < 4; k++)
        mv[k] = vdupq_n_f32(-INFINITY);
    for (size_t j = 0; j < n; j += 16) {
        size_t rem = n - j;
        float32x4_t t[4];
        opk_neon_load16_n(x + j, rem, t);
        for (size_t k = 0; k < 4; k++) {
            /* Padding lanes become -inf after beta (beta may be < 0). */
            t[k] = opk_neon_keep_n(vmulq_f32(vb, t[k]), opk_neon_count(rem, k),
                                   -INFINITY);
            mv[k] = opk_neon_max(mv[k], t[k]);
        }
    }
    return opk_neon_hmax(opk_neon_max(opk_neon_max(mv[0], mv[1]),
                                      opk_neon_max(mv[2], mv[3])));
}

static void softmax_row(const opk_softmax_job *jb, size_t i)
{
    const float *x = jb->x + i * jb->ldx;
    float *y = jb->y + i * jb->ldy;
    const size_t n = jb->cols;
    const float32x4_t vb = vdupq_n_f32(jb->beta);
    float m = row_max(x, n, vb);
    if (!(m < INFINITY) || m == -INFINITY) { /* NaN/+inf, or all -inf */
        float v = m == -INFINITY ? (jb->log ? -INFINITY : 0.0f) : NAN;
        for (size_t j = 0; j < n; j++)
            y[j] = v;
        return;
    }
    const float32x4_t vm = vdupq_n_f32(m);
    opk_neon_lane16 acc;
    opk_neon_lane16_init(&acc);
    for (size_t j = 0; j < n; j += 16) {
        size_t rem = n - j;
        float32x4_t e[4];
        opk_neon_load16_n(x + j, rem, e);
        for (int k = 0; k < 4; k++)
            e[k] = opk_neon_E(vsubq_f32(vmulq_f32(vb, e[k]), vm));
        opk_neon_lane16_add_n(&acc, e, rem);
        if (!jb->log)
            opk_neon_store16_n(y + j, e, rem); /* same block as x: in place ok */
    }
    float s = opk_neon_lane16_result(&acc);
    if (jb->log) {
        const float32x4_t ls = opk_neon_Lg(vdupq_n_f32(s));
        for (size_t j = 0; j < n; j += 16) {
            size_t rem = n - j;
            float32x4_t v[4];
            opk_neon_load16_n(x + j, rem, v);
            for (int k = 0; k < 4; k++)
                v[k] = vsubq_f32(vsubq_f32(vmulq_f32(vb, v[k]), vm), ls);
            opk_neon_store16_n(y + j, v, rem);
        }
    } else {
        const float32x4_t r = vdupq_n_f32(1.0f / s);
        for (size_t j = 0; j < n; j += 16) {
            size_t rem = n - j;
            float32x4_t v[4];
            opk_neon_load16_n(y + j, rem, v);
            for (int k = 0; k < 4; k++)
                v[k] = vmulq_f32(v[k], r);
            opk_neon_store16_n(y + j, v, rem);
        }
    }
}

void opk_softmax_rows_neon(const opk_softmax_job *jb, size_t r0, size_t r1,
                           float *scratch)
{
    (void)scratch;
    for (size_t i = r0; i < r1; i++)
        softmax_row(jb, i);
}

/* Columns c .. c+w-1 (w <= 16), statistics kept in registers: lanes past w
 * are computed on zeros and never stored. */
static void softmax_col_block(const opk_softmax_job *jb, size_t c, size_t w)
{
    const size_t rows = jb->rows;
    const float32x4_t vb = vdupq_n_f32(jb->beta);
    float32x4_t m[4], s[4], special[4];
    uint32x4_t regular[4];
    for (int k = 0; k < 4; k++)
        m[k] = vdupq_n_f32(-INFINITY), s[k] = vdupq_n_f32(0.0f);
    for (size_t i = 0; i < rows; i++) {
        float32x4_t t[4];
        opk_neon_load16_n(jb->x + i * jb->ldx + c, w, t);
        for (int k = 0; k < 4; k++)
            m[k] = opk_neon_max(m[k], vmulq_f32(vb, t[k]));
    }
    const float32x4_t zero_or_ninf = vdupq_n_f32(jb->log ? -INFINITY : 0.0f);
    for (int k = 0; k < 4; k++) {
        uint32x4_t finite_max = vcltq_f32(m[k], vdupq_n_f32(INFINITY)); /* not NaN/+inf */
        uint32x4_t all_ninf = vceqq_f32(m[k], vdupq_n_f32(-INFINITY));
        regular[k] = vbicq_u32(finite_max, all_ninf);
        special[k] = vbslq_f32(finite_max, zero_or_ninf, vdupq_n_f32(NAN));
    }
    for (size_t i = 0; i < rows; i++) { /* seq: rows ascending */
        float32x4_t e[4];
        opk_neon_load16_n(jb->x + i * jb->ldx + c, w, e);
        for (int k = 0; k < 4; k++) {
            e[k] = opk_neon_E(vsubq_f32(vmulq_f32(vb, e[k]), m[k]));
            s[k] = vaddq_f32(s[k], e[k]);
        }
        if (!jb->log)
            opk_neon_store16_n(jb->y + i * jb->ldy + c, e, w);
    }
    for (int k = 0; k < 4; k++)
        s[k] = jb->log ? opk_neon_Lg(s[k]) : vdivq_f32(vdupq_n_f32(1.0f), s[k]);
    for (size_t i = 0; i < rows; i++) {
        float32x4_t v[4];
        float *y = jb->y + i * jb->ldy + c;
        if (jb->log) {
            opk_neon_load16_n(jb->x + i * jb->ldx + c, w, v);
            for (int k = 0; k < 4; k++)
                v[k] = vsubq_f32(vsubq_f32(vmulq_f32(vb, v[k]), m[k]), s[k]);
        } else {
            opk_neon_load16_n(y, w, v);
            for (int k = 0; k < 4; k++)
                v[k] = vmulq_f32(v[k], s[k]);
        }
        for (int k = 0; k < 4; k++)
            v[k] = vbslq_f32(regular[k], v[k], special[k]);
        opk_neon_store16_n(y, v, w);
    }
}

void opk_softmax_cols_neon(const opk_softmax_job *jb, size_t c0, size_t c1,
                           float *scratch)
{
    (void)scratch;
    for (size_t c = c0; c < c1; c += 16)
        softmax_col_block(jb, c, c1 - c < 16 ? c1 - c : 16);
}
