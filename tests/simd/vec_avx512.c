/* Self-test of simd/avx512/vt.h and vec.h (built with the AVX-512 flags). */
#include "../../simd/avx512/vt.h"

#define VT_ISA "avx512"
#define VT_FN opk_vec_selftest_avx512
#include "vec_tmpl.h"
