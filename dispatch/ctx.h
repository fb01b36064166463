/* The context: a chosen backend and a thread count. Immutable after
 * creation, so one context serves many threads at once (the OpenCL state
 * behind `cl` has its own lock). */
#ifndef OPK_CTX_H
#define OPK_CTX_H

#include "backend.h"

struct opk_ctx {
    opk_backend backend;
    const opk_ops *ops;
    int num_threads;
    int cl_platform, cl_device;
    struct opk_cl *cl; /* OpenCL context, queue, programs (cl/runtime.h) */
};

#endif
