/* E and Lg over an array with this backend's vector functions (the table's
 * math_n; see simd/math_tmpl.h). */
#include "kernels.h"
#include "vt.h"

#define MATH_NAME(x) x##_avx512
#include "../math_tmpl.h"
