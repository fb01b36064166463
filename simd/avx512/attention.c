/* Damped attention (SPEC 3.4) with AVX-512: the ISA layer for the shared
 * kernels in simd/attention_fused.h (one key block = 4 vectors). */
#include <math.h>

#include "kernels.h"
#include "vt.h"

#include "../attention_blocks.h" /* block_max, block_lane16 */

/* 4 rows x 64 keys of S and 4 rows x 64 features of O in registers. */
#define ATTN_R 4
#define ATTN_C 4
#define ATTN_F 4
#define ATTN_NAME(x) x##_avx512
#include "../attention_fused.h"

/* ---- linear mode ---- */

/* 16 x nc (nc <= 16) transposed: T[k * ts + r] = x[r * ld + k]; rows from
 * nr on are +0, nothing past them is read. Pairs of rows interleaved, then
 * pairs of pairs, then the 4 x 4 blocks of 128-bit lanes. Every index is a
 * constant (the loops unrolled), so the tile stays in registers. */
static inline __attribute__((always_inline)) void
tile_T(const float *x, size_t ld, size_t nr, size_t nc, float *T, size_t ts)
{
    __m512 r[16], t[16];
    if (nr == 16 && nc == 16) {
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++)
            r[i] = _mm512_loadu_ps(x + (size_t)i * ld);
    } else {
        const __mmask16 mk = v16_mask_n(nc);
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++)
            r[i] = (size_t)i < nr ? _mm512_maskz_loadu_ps(mk, x + (size_t)i * ld)
                                  : _mm512_setzero_ps();
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#define PD(v) _mm512_castps_pd(v)
#define PS(v) _mm512_castpd_ps(v)
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) { /* r[4i + c], lane L: column 4L + c */
        r[4 * i + 0] = PS(_mm512_unpacklo_pd(PD(t[4 * i]), PD(t[4 * i + 2])));
        r[4 * i + 1] = PS(_mm512_unpackhi_pd(PD(t[4 * i]), PD(t[4 * i + 2])));
        r[4 * i + 2] = PS(_mm512_unpacklo_pd(PD(t[4 * i + 1]), PD(t[4 * i + 3])));
        r[4 * i + 3] = PS(_mm512_unpackhi_pd(PD(t[4 * i + 1]), PD(t[4 * i + 3])));
    }
#undef PD
#undef PS
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m512 a = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x44);
        __m512 b = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x44);
        __m512 e = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xEE);
        __m512 f = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xEE);
        t[c] = _mm512_shuffle_f32x4(a, b, 0x88);
        t[4 + c] = _mm512_shuffle_f32x4(a, b, 0xDD);
        t[8 + c] = _mm512_shuffle_f32x4(e, f, 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(e, f, 0xDD);
    }
#pragma GCC unroll 16
    for (int k = 0; k < 16; k++)
        if ((size_t)k < nc)
            _mm512_storeu_ps(T + (size_t)k * ts, t[k]);
}

/* 8 rows (of KV or queries) x 2 vectors of features in registers. */
#define LIN_R 8
#define LIN_F 2
#include "../attention_linear.h"
