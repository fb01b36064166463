/* Sinkhorn passes (SPEC 3.2) with AVX-512: simd/sinkhorn_tmpl.h on 16-lane
 * vectors (lane16 sums in one register, 16 columns per vector). */
#include "kernels.h"
#include "vt.h"

#define SK_NAME(x) x##_avx512
#include "../sinkhorn_tmpl.h"
