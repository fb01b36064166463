/* Scalar forms of the canonical reductions of SPEC 1 (lane16, max with NaN
 * propagation), shared by the scalar reference kernels. */
#ifndef OPK_LANE16_H
#define OPK_LANE16_H

#include <stddef.h>

typedef struct opk_lane16 {
    float acc[16];
} opk_lane16;

static inline void opk_lane16_init(opk_lane16 *l)
{
    for (int i = 0; i < 16; i++)
        l->acc[i] = 0.0f;
}

/* Adds e as element number j of the sum. */
static inline void opk_lane16_add(opk_lane16 *l, size_t j, float e)
{
    l->acc[j & 15] = l->acc[j & 15] + e;
}

/* Pairwise fold 8, 4, 2, 1. */
static inline float opk_lane16_result(const opk_lane16 *l)
{
    float a[16];
    for (int i = 0; i < 16; i++)
        a[i] = l->acc[i];
    for (int w = 8; w >= 1; w >>= 1)
        for (int i = 0; i < w; i++)
            a[i] = a[i] + a[i + w];
    return a[0];
}

#endif
