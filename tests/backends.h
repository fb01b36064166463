/* Iterating over every usable backend, so that each test covers every ISA
 * this machine runs (Highway's rule: every target, every run). */
#ifndef OPK_TEST_BACKENDS_H
#define OPK_TEST_BACKENDS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opk.h"

/* Fills list with the usable concrete backends; returns the count. The
 * scalar reference is always first when usable. OPK_TEST_BACKENDS (comma
 * list) restricts it, e.g. for the QEMU runs. */
static inline int test_backends(opk_backend *list)
{
    const char *only = getenv("OPK_TEST_BACKENDS");
    int n = 0;
    for (int b = OPK_BACKEND_SCALAR; b < OPK_BACKEND_COUNT; b++) {
        if (!opk_backend_available((opk_backend)b))
            continue;
        if (only && !strstr(only, opk_backend_name((opk_backend)b)))
            continue;
        list[n++] = (opk_backend)b;
    }
    return n;
}

/* The usable backends that implement kernel k (see test_backends). */
static inline int test_backends_for(opk_kernel k, opk_backend *list)
{
    opk_backend all[OPK_BACKEND_COUNT];
    int n = test_backends(all), m = 0;
    for (int i = 0; i < n; i++)
        if (opk_backend_implements(all[i], k))
            list[m++] = all[i];
        else
            printf("(%s does not implement %s: not tested on it)\n",
                   opk_backend_name(all[i]), opk_kernel_name(k));
    return m;
}

/* 1 if OPK_TEST_BACKENDS is set and leaves backend b out (tests of one
 * backend only, e.g. the OpenCL tests, then skip: tests/sanitize.sh). */
static inline int test_backend_excluded(opk_backend b)
{
    const char *only = getenv("OPK_TEST_BACKENDS");
    return only && !strstr(only, opk_backend_name(b));
}

static inline opk_ctx *test_ctx(opk_backend b, int threads)
{
    opk_config cfg = opk_config_default();
    cfg.backend = b;
    cfg.num_threads = threads;
    opk_ctx *ctx = NULL;
    if (opk_ctx_create(&cfg, &ctx)) {
        fprintf(stderr, "cannot create a %s context: %s\n",
                opk_backend_name(b), opk_ctx_last_error(NULL));
        exit(1);
    }
    return ctx;
}

/* Case count for a randomized test: n times OPK_TEST_SCALE (a positive
 * number, default 1), at least 1. Lets a slow emulated run (QEMU) shrink
 * the randomized loops instead of skipping them; exhaustive checks belong
 * under the ctest label `slow` instead. */
static inline unsigned long test_scaled(unsigned long n)
{
    const char *s = getenv("OPK_TEST_SCALE");
    double f = s ? strtod(s, NULL) : 1.0;
    if (!(f > 0.0))
        f = 1.0;
    double k = (double)n * f;
    return k < 1.0 ? 1 : (unsigned long)k;
}

#endif
