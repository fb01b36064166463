/* FP32 FMA peak, scalar ISA: BENCH_FMA_CHAINS independent fmaf chains, more
 * than latency x issue width (4 x 2 on current x86-64), so the FMA units
 * never wait. Built with -mfma (x86-64) and without auto-vectorization, so
 * each fmaf stays one scalar instruction. */
#include <math.h>

#include "limits.h"

#define STEP(a) a = fmaf(a, m, c)

int bench_peak_scalar(long iters, float *sink)
{
    /* a <- a*m + c converges to c/(1-m): values stay normal, no overflow. */
    /* Starting values the compiler cannot see, or it folds a chain that
     * starts at a fixed point (1.0f here) into a constant. */
    volatile float seed = 0.1f;
    const float m = 0.9999f, c = 1e-4f, s = seed;
    float a0 = s, a1 = 2 * s, a2 = 3 * s, a3 = 4 * s, a4 = 5 * s, a5 = 6 * s;
    float a6 = 7 * s, a7 = 8 * s, a8 = 9 * s, a9 = 10 * s, a10 = 11 * s;
    float a11 = 12 * s;
    for (long i = 0; i < iters; i++) {
        STEP(a0); STEP(a1); STEP(a2); STEP(a3); STEP(a4); STEP(a5);
        STEP(a6); STEP(a7); STEP(a8); STEP(a9); STEP(a10); STEP(a11);
    }
    *sink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    return BENCH_FMA_CHAINS;
}
