/* E, Lg or Sq over an array, scalar (the table's math_n; fn 3, E of
 * arguments <= 0, is E): SLEEF's purecfma functions themselves, the
 * reference of tests/test_math.c. */
#include "scalar.h"
#include "sleef1.h"

void opk_math_n_scalar(int fn, const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = fn == 2 ? opk_Sq(x[i]) : fn == 1 ? opk_Lg(x[i]) : opk_E(x[i]);
}
