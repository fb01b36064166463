/* Each usable CPU backend's vector E, Lg and Sq, and E for arguments <= 0
 * (its table's math_n: the inlined E of simd/avx512/vec.h and
 * simd/avx2/vec.h, with and without its clamp, SLEEF's vector
 * functions elsewhere; Sq stays SLEEF's, which is not the IEEE sqrt on
 * every input: see README, Numerics) against SLEEF's scalar
 * Sleef_finz_expf1_u10purecfma, Sleef_finz_logf1_u10purecfma and
 * Sleef_finz_sqrtf1_u05purecfma, bit for bit (any NaN equals any NaN).
 * Every length mod the vector width is covered (the tails).
 *
 *   test_math        the sample and edge values of math_inputs.h
 *   test_math all    all 2^32 inputs (ctest label slow) */
#include <stdlib.h>

#include "../kernels/test_hooks.h"
#include "backends.h"
#include "check.h"
#include "math_inputs.h"

int main(int argc, char **argv)
{
    int all = argc > 1 && !strcmp(argv[1], "all");
    opk_backend list[OPK_BACKEND_COUNT];
    int nb = test_backends(list);
    float *x = malloc(MATH_CHUNK * sizeof(float)), *y = malloc(MATH_CHUNK * sizeof(float));
    if (!x || !y)
        return 1;
    for (int bi = 0; bi < nb; bi++) {
        const char *name = opk_backend_name(list[bi]);
        unsigned long bad[4] = {0, 0, 0, 0}, tested = 0;
        for (uint64_t k = 0; k < (all ? 256u : 2u); k++) {
            size_t n = MATH_CHUNK;
            if (all)
                math_block(x, k);
            else if (k == 0) /* QEMU (OPK_TEST_SCALE < 1): fewer low parts */
                n = math_sample(x, test_scaled(256) < 256 ? test_scaled(256) : 256);
            else
                n = math_edges(x);
            for (int fn = 0; fn < 4; fn++) {
                /* the edge values also at offsets 1..16: every tail
                 * length, from unaligned starts too */
                for (size_t o = 0; o <= (!all && k == 1 ? 16u : 0u); o++) {
                    memset(y, 0, n * sizeof(float));
                    if (opk_test_math(list[bi], fn, x + o, y + o, n - o))
                        goto next; /* not a CPU table (opencl) */
                    bad[fn] += math_compare(name, fn, x + o, y + o, n - o, bad[fn]);
                }
            }
            tested += n;
        }
        CHECK(bad[0] == 0 && bad[1] == 0 && bad[2] == 0 && bad[3] == 0,
              "%s: E differs on %lu, Lg on %lu, Sq on %lu, E_le0 on %lu inputs",
              name, bad[0], bad[1], bad[2], bad[3]);
        printf("%s: %lu inputs, E %lu differ, Lg %lu differ, Sq %lu differ, "
               "E_le0 %lu differ (of those <= 0 or NaN)\n",
               name, tested, bad[0], bad[1], bad[2], bad[3]);
    next:;
    }
    free(x), free(y);
    return check_summary("test_math");
}
