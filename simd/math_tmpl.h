/* SPEC 1's E (fn 0), Lg (fn 1) or Sq (fn 2) over an array, or E of
 * arguments known to be <= 0 (fn 3, v_E_le0; for the others it may differ),
 * with the backend's own vector functions: what tests/test_math.c
 * compares with SLEEF's scalar ones bit for bit, so that an inlined E
 * (simd/avx512/vec.h, simd/avx2/vec.h) is checked on every run. The
 * including file defines MATH_NAME(x). */
static inline __attribute__((always_inline)) VF math_fn(int fn, VF v)
{
    return fn == 3 ? v_E_le0(v) : fn == 2 ? v_Sq(v) : fn ? v_Lg(v) : v_E(v);
}

void MATH_NAME(opk_math_n)(int fn, const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        VF v = v_load(x + i);
        v_store(y + i, math_fn(fn, v));
    }
    if (i < n) {
        VF v = v_load_n(x + i, n - i);
        v_store_n(y + i, math_fn(fn, v), n - i);
    }
}
