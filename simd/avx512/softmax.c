/* Softmax (SPEC 3.1) with AVX-512: simd/softmax_tmpl.h on 16-lane vectors
 * (lane16 sum in one register, 16 columns per vector). */
#include "kernels.h"
#include "vt.h"

#define SM_NAME(x) x##_avx512
#include "../softmax_tmpl.h"
