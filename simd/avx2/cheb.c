/* Chebyshev order (SPEC 3.3) with AVX2: simd/cheb_tmpl.h on
 * 8-lane vectors, 32 columns per pass. */
#include "kernels.h"
#include "vt.h"

#define CH_NAME(x) x##_avx2
#include "../cheb_tmpl.h"
