/* FP32 FMA peak, AVX2+FMA (built with -mavx2 -mfma): bench/peak_tmpl.h on
 * 8-lane vectors (latency 4 x 2 pipes needs 8 chains). */
#include "../simd/avx2/vt.h"

#define PEAK_FN bench_peak_avx2
#include "peak_tmpl.h"
