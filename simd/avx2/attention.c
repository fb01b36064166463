/* Damped attention (SPEC 3.4) with AVX2: the ISA layer for the shared
 * kernels in simd/attention_fused.h (one key block = 8 vectors; lane16 in
 * two registers). */
#include <math.h>

#include "kernels.h"
#include "vt.h"

#include "../attention_blocks.h" /* block_max, block_lane16 */

/* 4 rows x 16 keys of S and 4 rows x 16 features of O in registers (with
 * the loaded K^T / V vectors and the broadcasts: 14 of 16 registers). */
#define ATTN_R 4
#define ATTN_C 2
#define ATTN_F 2
#define ATTN_NAME(x) x##_avx2
#include "../attention_fused.h"

/* ---- linear mode ---- */

/* 8 x nc (nc <= 8) transposed: T[k * ts + r] = x[r * ld + k]; rows from
 * nr on are +0, nothing past them is read. Pairs of rows interleaved, then
 * pairs of pairs, then the 128-bit halves; constant indices throughout. */
static inline __attribute__((always_inline)) void
tile_T(const float *x, size_t ld, size_t nr, size_t nc, float *T, size_t ts)
{
    __m256 r[8], t[8];
    if (nr == 8 && nc == 8) {
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            r[i] = _mm256_loadu_ps(x + (size_t)i * ld);
    } else {
        const __m256i mk = v8_mask_n(nc);
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            r[i] = (size_t)i < nr ? _mm256_maskload_ps(x + (size_t)i * ld, mk)
                                  : _mm256_setzero_ps();
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#define PD(v) _mm256_castps_pd(v)
#define PS(v) _mm256_castpd_ps(v)
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++) { /* r[4i + c], lane L: column 4L + c */
        r[4 * i + 0] = PS(_mm256_unpacklo_pd(PD(t[4 * i]), PD(t[4 * i + 2])));
        r[4 * i + 1] = PS(_mm256_unpackhi_pd(PD(t[4 * i]), PD(t[4 * i + 2])));
        r[4 * i + 2] = PS(_mm256_unpacklo_pd(PD(t[4 * i + 1]), PD(t[4 * i + 3])));
        r[4 * i + 3] = PS(_mm256_unpackhi_pd(PD(t[4 * i + 1]), PD(t[4 * i + 3])));
    }
#undef PD
#undef PS
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        t[c] = _mm256_permute2f128_ps(r[c], r[4 + c], 0x20);
        t[4 + c] = _mm256_permute2f128_ps(r[c], r[4 + c], 0x31);
    }
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++)
        if ((size_t)k < nc)
            _mm256_storeu_ps(T + (size_t)k * ts, t[k]);
}

/* 4 rows (of KV or queries) x 2 vectors of features in registers. */
#define LIN_R 4
#define LIN_F 2
#include "../attention_linear.h"
