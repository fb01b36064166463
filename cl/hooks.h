/* Internal entry points of the OpenCL backend for tests and benchmarks
 * (linked from the static library; not part of opk.h). No OpenCL types, so
 * that users of this header need no OpenCL headers. */
#ifndef OPK_CL_HOOKS_H
#define OPK_CL_HOOKS_H

#include <stddef.h>

#include "opk.h"

/* y[i] = E(x[i]) (which 0), Lg(x[i]) (which 1) or Sq(x[i]) (which 2),
 * computed on ctx's device by cl/mathtest.cl. */
opk_status opk_cl_math(opk_ctx *ctx, int which, const float *x, float *y,
                       size_t n);

/* Process-wide program cache counters (OPK_CL_LOG=1 also prints each
 * event on stderr). */
typedef struct opk_cl_cache_stats {
    unsigned long loaded;   /* programs created from a cache file */
    unsigned long written;  /* cache files written */
    unsigned long rejected; /* corrupt, stale or unloadable files */
    unsigned long compiled; /* programs compiled from source */
} opk_cl_cache_stats;
void opk_cl_cache_stats_get(opk_cl_cache_stats *s);

/* The cache file that program cl/<program>.cl uses on ctx's device, with
 * the current environment ("" when the cache is off). 0 if the program
 * exists. */
int opk_cl_program_cache_file(const opk_ctx *ctx, const char *program,
                              char *path, size_t n);

/* Builds an arbitrary program text on ctx's device, as the kernels' own
 * programs are built (options, cache), then releases it: for testing build
 * failures. */
opk_status opk_cl_try_build(opk_ctx *ctx, const char *name,
                            const char *source);

/* Profiling: when on, each call records the time its host-to-device
 * copies, kernels and device-to-host copies took on the device. */
void opk_cl_set_profiling(opk_ctx *ctx, int on);
void opk_cl_last_times(const opk_ctx *ctx, double *write_s, double *kernel_s,
                       double *read_s);

#endif
