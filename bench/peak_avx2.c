/* FP32 FMA peak, AVX2+FMA: BENCH_FMA_CHAINS independent 8-lane fma chains
 * (latency 4 x 2 pipes needs 8). Compiled with -mavx2 -mfma; called only
 * when the avx2 backend is usable. */
#include <immintrin.h>

#include "limits.h"

#define STEP(a) a = _mm256_fmadd_ps(a, m, c)
#define START(k) _mm256_set1_ps((k) * s)

int bench_peak_avx2(long iters, float *sink)
{
    volatile float seed = 0.1f; /* opaque start: see peak_scalar.c */
    const float s = seed;
    const __m256 m = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(1e-4f);
    __m256 a0 = START(1), a1 = START(2), a2 = START(3), a3 = START(4);
    __m256 a4 = START(5), a5 = START(6), a6 = START(7), a7 = START(8);
    __m256 a8 = START(9), a9 = START(10), a10 = START(11), a11 = START(12);
    for (long i = 0; i < iters; i++) {
        STEP(a0); STEP(a1); STEP(a2); STEP(a3); STEP(a4); STEP(a5);
        STEP(a6); STEP(a7); STEP(a8); STEP(a9); STEP(a10); STEP(a11);
    }
    a0 = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    a4 = _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7));
    a8 = _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11));
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a4), a8));
    *sink = lanes[0] + lanes[7];
    return BENCH_FMA_CHAINS * 8;
}
