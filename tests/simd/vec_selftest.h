/* The per-ISA self-tests of simd/<isa>/vec.h (tests/simd/vec_<isa>.c, each
 * built with its ISA's flags), run by tests/test_simd_vec.c. */
#ifndef OPK_VEC_SELFTEST_H
#define OPK_VEC_SELFTEST_H

#include <stddef.h>

/* Checks the helpers on random data against the scalar forms; returns the
 * number of failures, the first one described in msg. guard: a readable
 * page followed by an unreadable one (masked tails at its end must not
 * fault). */
int opk_vec_selftest_avx2(char *msg, size_t n, float *guard_end);
int opk_vec_selftest_avx512(char *msg, size_t n, float *guard_end);
int opk_vec_selftest_neon(char *msg, size_t n, float *guard_end);

#endif
