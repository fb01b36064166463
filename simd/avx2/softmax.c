/* Softmax (SPEC 3.1) with AVX2: simd/softmax_tmpl.h on 8-lane vectors
 * (lane16 sum in two registers, 8 columns per vector). */
#include "kernels.h"
#include "vt.h"

#define SM_NAME(x) x##_avx2
#include "../softmax_tmpl.h"
