/* Self-test of simd/avx2/vt.h and vec.h (built with -mavx2 -mfma). */
#include "../../simd/avx2/vt.h"

#define VT_ISA "avx2"
#define VT_FN opk_vec_selftest_avx2
#include "vec_tmpl.h"
