/* Put in front of every opk OpenCL program (cl/runtime.c). SPEC 1: no
 * contraction; every fma is written out. The program is built with
 * -cl-fp32-correctly-rounded-divide-sqrt where the device has it and never
 * with -cl-mad-enable or the relaxed/unsafe math options. */
#pragma OPENCL FP_CONTRACT OFF

/* The row/column classes of SPEC 3.1. */
#define OPK_REGULAR 0
#define OPK_ALL_NEG_INF 1
#define OPK_HAS_NAN 2
