/* Chebyshev order (SPEC 3.3) with AVX-512: simd/cheb_tmpl.h on
 * 16-lane vectors, 64 columns per pass. */
#include "kernels.h"
#include "vt.h"

#define CH_NAME(x) x##_avx512
#include "../cheb_tmpl.h"
