/* Test-only hooks of the library (not in opk.h; hidden in the shared
 * library, reachable by linking the static one): allocation failure
 * injection for the OPK_ERR_NOMEM paths (tests/test_nomem.c), and each
 * backend's E and Lg (tests/test_math.c). */
#ifndef OPK_TEST_HOOKS_H
#define OPK_TEST_HOOKS_H

#include <stddef.h>

/* From now on, the k-th call of opk_alloc (or opk_alloc_aligned,
 * opk_calloc, opk_realloc: kernels/common.h; 1-based, counted process-wide
 * across threads) returns NULL; the others succeed. k <= 0 turns it off. */
void opk_test_fail_alloc_at(long k);
/* opk_alloc calls since the last opk_test_fail_alloc_at. */
long opk_test_alloc_calls(void);
/* Blocks from opk_alloc (and the others) not yet given to opk_free (a
 * leak counter that works without a sanitizer). */
long opk_test_alloc_live(void);

/* y_i = E(x_i) (fn 0), Lg(x_i) (fn 1), Sq(x_i) (fn 2) or E(x_i) for
 * x_i <= 0 or NaN (fn 3; other x_i give any value) for i < n with
 * backend b's own vector functions (its table's math_n); -1 if b is not a
 * compiled-in CPU backend (tests/test_math.c). */
int opk_test_math(int b, int fn, const float *x, float *y, size_t n);

#endif
