/* FP32 FMA peak on one vector layer (simd/<isa>/vt.h): BENCH_FMA_CHAINS
 * independent VL-lane fma chains, enough to cover latency x pipes. Include
 * after vt.h with PEAK_FN defined; called only when that backend is
 * usable. */
#include "limits.h"

#define STEP(a) a = v_fma(a, m, c)
#define START(k) v_set1((k) * s)

int PEAK_FN(long iters, float *sink)
{
    volatile float seed = 0.1f; /* opaque start: see peak_scalar.c */
    const float s = seed;
    const VF m = v_set1(0.9999f), c = v_set1(1e-4f);
    VF a0 = START(1), a1 = START(2), a2 = START(3), a3 = START(4);
    VF a4 = START(5), a5 = START(6), a6 = START(7), a7 = START(8);
    VF a8 = START(9), a9 = START(10), a10 = START(11), a11 = START(12);
    for (long i = 0; i < iters; i++) {
        STEP(a0); STEP(a1); STEP(a2); STEP(a3); STEP(a4); STEP(a5);
        STEP(a6); STEP(a7); STEP(a8); STEP(a9); STEP(a10); STEP(a11);
    }
    a0 = v_add(v_add(a0, a1), v_add(a2, a3));
    a4 = v_add(v_add(a4, a5), v_add(a6, a7));
    a8 = v_add(v_add(a8, a9), v_add(a10, a11));
    float lanes[VL], sum = 0.0f;
    v_store(lanes, v_add(v_add(a0, a4), a8));
    for (int l = 0; l < VL; l++)
        sum += lanes[l];
    *sink = sum;
    return BENCH_FMA_CHAINS * VL;
}
