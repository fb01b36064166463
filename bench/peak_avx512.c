/* FP32 FMA peak, AVX-512F: BENCH_FMA_CHAINS independent 16-lane fma chains.
 * Compiled with the AVX-512 flags; called only when the avx512 backend is
 * usable. */
#include <immintrin.h>

#include "limits.h"

#define STEP(a) a = _mm512_fmadd_ps(a, m, c)
#define START(k) _mm512_set1_ps((k) * s)

int bench_peak_avx512(long iters, float *sink)
{
    volatile float seed = 0.1f; /* opaque start: see peak_scalar.c */
    const float s = seed;
    const __m512 m = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-4f);
    __m512 a0 = START(1), a1 = START(2), a2 = START(3), a3 = START(4);
    __m512 a4 = START(5), a5 = START(6), a6 = START(7), a7 = START(8);
    __m512 a8 = START(9), a9 = START(10), a10 = START(11), a11 = START(12);
    for (long i = 0; i < iters; i++) {
        STEP(a0); STEP(a1); STEP(a2); STEP(a3); STEP(a4); STEP(a5);
        STEP(a6); STEP(a7); STEP(a8); STEP(a9); STEP(a10); STEP(a11);
    }
    a0 = _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
    a4 = _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7));
    a8 = _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11));
    *sink = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a4), a8));
    return BENCH_FMA_CHAINS * 16;
}
