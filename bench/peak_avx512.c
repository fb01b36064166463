/* FP32 FMA peak, AVX-512F (built with the AVX-512 flags): bench/peak_tmpl.h
 * on 16-lane vectors. */
#include "../simd/avx512/vt.h"

#define PEAK_FN bench_peak_avx512
#include "peak_tmpl.h"
