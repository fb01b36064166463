/* Sinkhorn passes (SPEC 3.2) with AVX2: simd/sinkhorn_tmpl.h on 8-lane
 * vectors (lane16 sums in two registers, 8 columns per vector). */
#include "kernels.h"
#include "vt.h"

#define SK_NAME(x) x##_avx2
#include "../sinkhorn_tmpl.h"
