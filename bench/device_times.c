/* Where an OpenCL call's time goes (see timing.h): a few extra calls with
 * event profiling on, after the timed ones, so that the events' waits never
 * enter the medians. */
#include "timing.h"

#ifdef OPK_HAVE_OPENCL
#include "../cl/hooks.h"

int bench_device_times(opk_ctx *ctx, bench_call_fn fn, void *arg, int reps,
                       bench_device_stats *d)
{
    if (opk_ctx_backend(ctx) != OPK_BACKEND_OPENCL || reps < 1)
        return 0;
    double v[3][BENCH_DEVICE_REPS];
    if (reps > BENCH_DEVICE_REPS)
        reps = BENCH_DEVICE_REPS;
    opk_cl_set_profiling(ctx, 1);
    for (int i = 0; i < reps; i++) {
        int r = fn(arg);
        if (r) {
            opk_cl_set_profiling(ctx, 0);
            return r;
        }
        opk_cl_last_times(ctx, &v[0][i], &v[1][i], &v[2][i]);
    }
    opk_cl_set_profiling(ctx, 0);
    d->write_s = bench_median(v[0], reps);
    d->kernel_s = bench_median(v[1], reps);
    d->read_s = bench_median(v[2], reps);
    d->valid = 1;
    return 0;
}
#else
int bench_device_times(opk_ctx *ctx, bench_call_fn fn, void *arg, int reps,
                       bench_device_stats *d)
{
    (void)ctx, (void)fn, (void)arg, (void)reps, (void)d;
    return 0;
}
#endif
