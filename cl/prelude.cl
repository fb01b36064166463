/* Put in front of every opk OpenCL program (cl/runtime.c). SPEC 1: no
 * contraction; every fma is written out. The program is built with
 * -cl-fp32-correctly-rounded-divide-sqrt where the device has it and never
 * with -cl-mad-enable or the relaxed/unsafe math options. */
#pragma OPENCL FP_CONTRACT OFF

/* The row/column classes of SPEC 3.1. */
#define OPK_REGULAR 0
#define OPK_ALL_NEG_INF 1
#define OPK_HAS_NAN 2

/* lane16's final fold (SPEC 1) of 16 lane sums: 8-4-2-1 pairwise. Every
 * work-item of a row may call it on the same local array and gets the same
 * bits, so no second barrier is needed to broadcast the result. */
static inline float opk_fold16(__local const float *lanes)
{
    float a[16];
    for (uint l = 0; l < 16; l++)
        a[l] = lanes[l];
    for (uint w = 8; w >= 1; w >>= 1)
        for (uint l = 0; l < w; l++)
            a[l] = a[l] + a[l + w];
    return a[0];
}

/* NaN-aware max (SPEC 1): once NaN, stays NaN, whatever the order. */
static inline float opk_nmax(float m, float u)
{
    return (u > m || u != u) ? u : m;
}
