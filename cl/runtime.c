/* Per-context OpenCL state: device selection, context and queue, kernels,
 * grow-only buffers, host<->device copies with leading dimensions. */
#include "runtime.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dispatch/ctx.h"
#include "../kernels/common.h"

/* Generated from the cl/NAME.cl files by CMakeLists.txt. */
extern const struct {
    const char *name, *text;
} opk_cl_sources[];

/* Library sources put in front of every program, in this order. */
static const char *const prologue[] = {"prelude", "sleef_expf", "sleef_logf",
                                        "sleef_sqrtf"};

static const char *source_text(const char *name)
{
    for (size_t i = 0; opk_cl_sources[i].name; i++)
        if (!strcmp(opk_cl_sources[i].name, name))
            return opk_cl_sources[i].text;
    return NULL;
}

char *opk_cl_program_source(const char *program)
{
    const char *parts[sizeof prologue / sizeof *prologue + 1];
    size_t n = 0, len = 1;
    for (size_t i = 0; i < sizeof prologue / sizeof *prologue; i++)
        parts[n++] = source_text(prologue[i]);
    parts[n++] = source_text(program);
    for (size_t i = 0; i < n; i++) {
        if (!parts[i])
            return NULL;
        len += strlen(parts[i]) + 1;
    }
    char *s = opk_alloc(len), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        memcpy(p, parts[i], l);
        p += l;
        *p++ = '\n';
    }
    *p = 0;
    return s;
}

void opk_cl_lock(opk_cl *cl)
{
    pthread_mutex_lock(&cl->lock);
    cl->ns_write = cl->ns_kernel = cl->ns_read = 0; /* per-call profile */
}
void opk_cl_unlock(opk_cl *cl) { pthread_mutex_unlock(&cl->lock); }

opk_status opk_cl_fail(const opk_ctx *ctx, cl_int err, const char *what)
{
    return opk_fail(ctx, OPK_ERR_BACKEND, "opencl: %s: %s (%d) on %s", what,
                    opk_cl_err_name(err), (int)err,
                    ctx && ctx->cl ? ctx->cl->info.name : "?");
}

static cl_command_queue make_queue(opk_cl *cl, cl_int *err)
{
    return clCreateCommandQueue(cl->context, cl->device,
                                CL_QUEUE_PROFILING_ENABLE, err);
}

static void drop_buffers(opk_cl *cl)
{
    for (int i = 0; i < OPK_CL_MAX_BUFFERS; i++) {
        if (cl->bufs[i].mem)
            clReleaseMemObject(cl->bufs[i].mem);
        cl->bufs[i].mem = NULL;
        cl->bufs[i].size = 0;
    }
}

void opk_cl_recover(const opk_ctx *ctx)
{
    opk_cl *cl = ctx->cl;
    cl_int err = clFinish(cl->queue);
    drop_buffers(cl);
    if (err != CL_SUCCESS) {
        cl_command_queue q = make_queue(cl, &err);
        if (q) {
            clReleaseCommandQueue(cl->queue);
            cl->queue = q;
        }
    }
}

/* OPK_CL_MAX_ALLOC=BYTES: a smaller allocation limit, for tests. */
static uint64_t max_alloc_limit(uint64_t device)
{
    const char *s = getenv("OPK_CL_MAX_ALLOC");
    if (!s || !*s)
        return device;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0)
        return device;
    return v < device ? v : device;
}

opk_status opk_cl_open(opk_ctx *ctx)
{
    int P = ctx->cl_platform, D = ctx->cl_device;
    cl_platform_id plat;
    cl_device_id dev;
    opk_cl_device_info info;
    if (opk_cl_find(P, D, &plat, &dev, &info)) {
        int np = opk_cl_platform_count(), nd = 0;
        for (int i = 0; i < opk_cl_device_count(); i++) {
            opk_cl_device_info x;
            if (!opk_cl_device_describe(i, &x) && x.platform == P)
                nd++;
        }
        if (P >= np)
            return opk_fail(NULL, OPK_ERR_BACKEND,
                            "opencl:%d:%d: platform index %d does not exist "
                            "(%d platform%s)",
                            P, D, P, np, np == 1 ? "" : "s");
        return opk_fail(NULL, OPK_ERR_BACKEND,
                        "opencl:%d:%d: device index %d does not exist on "
                        "platform %d (%d device%s)",
                        P, D, D, P, nd, nd == 1 ? "" : "s");
    }
    opk_cl *cl = opk_alloc(sizeof *cl);
    if (!cl)
        return opk_fail(NULL, OPK_ERR_NOMEM, "opencl: out of memory");
    memset(cl, 0, sizeof *cl);
    cl->platform = plat;
    cl->device = dev;
    cl->info = info;
    cl->max_alloc = max_alloc_limit(info.max_alloc);
    /* SPEC 1: never -cl-mad-enable or the relaxed-math options; correctly
     * rounded divide/sqrt where the device has it (the option is only
     * allowed there). FP_CONTRACT OFF is in cl/prelude.cl. */
    snprintf(cl->options, sizeof cl->options, "-cl-std=CL1.2%s",
             info.fp_correctly_rounded_divide_sqrt
                 ? " -cl-fp32-correctly-rounded-divide-sqrt"
                 : "");
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                     (cl_context_properties)plat, 0};
    cl->context = clCreateContext(props, 1, &dev, NULL, NULL, &err);
    if (!cl->context) {
        opk_free(cl);
        return opk_fail(NULL, OPK_ERR_BACKEND,
                        "opencl:%d:%d: clCreateContext on %s: %s (%d)", P, D,
                        info.name, opk_cl_err_name(err), (int)err);
    }
    cl->queue = make_queue(cl, &err);
    if (!cl->queue) {
        clReleaseContext(cl->context);
        opk_free(cl);
        return opk_fail(NULL, OPK_ERR_BACKEND,
                        "opencl:%d:%d: clCreateCommandQueue on %s: %s (%d)",
                        P, D, info.name, opk_cl_err_name(err), (int)err);
    }
    pthread_mutex_init(&cl->lock, NULL);
    ctx->cl = cl;
    return OPK_OK;
}

void opk_cl_close(opk_ctx *ctx)
{
    opk_cl *cl = ctx->cl;
    clFinish(cl->queue);
    drop_buffers(cl);
    for (int i = 0; i < OPK_CL_MAX_KERNELS; i++)
        if (cl->kernels[i].k)
            clReleaseKernel(cl->kernels[i].k);
    for (int i = 0; i < OPK_CL_MAX_PROGRAMS; i++)
        if (cl->progs[i].prog)
            clReleaseProgram(cl->progs[i].prog);
    clReleaseCommandQueue(cl->queue);
    clReleaseContext(cl->context);
    pthread_mutex_destroy(&cl->lock);
    opk_free(cl);
    ctx->cl = NULL;
}

static opk_status get_program(const opk_ctx *ctx, const char *name,
                              cl_program *out)
{
    opk_cl *cl = ctx->cl;
    int free_slot = -1;
    for (int i = 0; i < OPK_CL_MAX_PROGRAMS; i++) {
        if (cl->progs[i].prog && !strcmp(cl->progs[i].name, name)) {
            *out = cl->progs[i].prog;
            return OPK_OK;
        }
        if (!cl->progs[i].prog && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0)
        return opk_fail(ctx, OPK_ERR_BACKEND,
                        "opencl: more than %d programs (raise "
                        "OPK_CL_MAX_PROGRAMS)",
                        OPK_CL_MAX_PROGRAMS);
    char *src = opk_cl_program_source(name);
    if (!src)
        return source_text(name)
                   ? opk_fail(ctx, OPK_ERR_NOMEM,
                              "opencl: out of memory for program cl/%s.cl", name)
                   : opk_fail(ctx, OPK_ERR_BACKEND,
                              "opencl: no program cl/%s.cl in this build", name);
    opk_status st = opk_cl_build(ctx, name, src, out);
    opk_free(src);
    if (st)
        return st;
    for (size_t i = 0; opk_cl_sources[i].name; i++)
        if (!strcmp(opk_cl_sources[i].name, name))
            cl->progs[free_slot].name = opk_cl_sources[i].name;
    cl->progs[free_slot].prog = *out;
    return OPK_OK;
}

opk_status opk_cl_kernel(const opk_ctx *ctx, const char *program,
                         const char *kernel, cl_kernel *k)
{
    opk_cl *cl = ctx->cl;
    int free_slot = -1;
    for (int i = 0; i < OPK_CL_MAX_KERNELS; i++) {
        if (cl->kernels[i].k && !strcmp(cl->kernels[i].name, kernel)) {
            *k = cl->kernels[i].k;
            return OPK_OK;
        }
        if (!cl->kernels[i].k && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0)
        return opk_fail(ctx, OPK_ERR_BACKEND,
                        "opencl: more than %d kernels (raise "
                        "OPK_CL_MAX_KERNELS)",
                        OPK_CL_MAX_KERNELS);
    cl_program prog;
    opk_status st = get_program(ctx, program, &prog);
    if (st)
        return st;
    cl_int err;
    *k = clCreateKernel(prog, kernel, &err);
    if (!*k) {
        char what[96];
        snprintf(what, sizeof what, "clCreateKernel(%s)", kernel);
        return opk_cl_fail(ctx, err, what);
    }
    /* Kernel names are string literals of the host files: keep the pointer. */
    cl->kernels[free_slot].name = kernel;
    cl->kernels[free_slot].k = *k;
    return OPK_OK;
}

opk_status opk_cl_buffer(const opk_ctx *ctx, int slot, size_t bytes,
                         cl_mem *mem)
{
    opk_cl *cl = ctx->cl;
    if (bytes > cl->max_alloc)
        return opk_fail(ctx, OPK_ERR_BACKEND,
                        "opencl: a buffer of %zu bytes exceeds the largest "
                        "allocation of %s (%" PRIu64 " bytes)",
                        bytes, cl->info.name, cl->max_alloc);
    if (cl->bufs[slot].mem && cl->bufs[slot].size >= bytes) {
        *mem = cl->bufs[slot].mem;
        return OPK_OK;
    }
    if (cl->bufs[slot].mem)
        clReleaseMemObject(cl->bufs[slot].mem);
    cl->bufs[slot].mem = NULL;
    cl->bufs[slot].size = 0;
    cl_int err;
    cl_mem m = clCreateBuffer(cl->context, CL_MEM_READ_WRITE,
                              bytes ? bytes : 4, NULL, &err);
    if (!m) {
        char what[96];
        snprintf(what, sizeof what, "clCreateBuffer(%zu bytes)", bytes);
        return opk_cl_fail(ctx, err, what);
    }
    cl->bufs[slot].mem = m;
    cl->bufs[slot].size = bytes;
    *mem = m;
    return OPK_OK;
}

static uint64_t event_ns(cl_event ev)
{
    cl_ulong a = 0, b = 0;
    clWaitForEvents(1, &ev);
    clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof a, &a, NULL);
    clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof b, &b, NULL);
    clReleaseEvent(ev);
    return b > a ? (uint64_t)(b - a) : 0;
}

/* Rect copies: host rows of ld floats, device rows of cols floats. */
static void rect(size_t rows, size_t cols, size_t ld, size_t region[3],
                 size_t *host_pitch, size_t *dev_pitch)
{
    region[0] = cols * sizeof(float);
    region[1] = rows;
    region[2] = 1;
    *host_pitch = ld * sizeof(float);
    *dev_pitch = cols * sizeof(float);
}

opk_status opk_cl_write(const opk_ctx *ctx, cl_mem dst, const float *src,
                        size_t rows, size_t cols, size_t ld)
{
    opk_cl *cl = ctx->cl;
    cl_event ev = NULL, *pev = cl->profile ? &ev : NULL;
    cl_int err;
    if (ld == cols || rows == 1) {
        err = clEnqueueWriteBuffer(cl->queue, dst, CL_FALSE, 0,
                                   rows * cols * sizeof(float), src, 0, NULL,
                                   pev);
    } else {
        size_t zero[3] = {0, 0, 0}, region[3], hp, dp;
        rect(rows, cols, ld, region, &hp, &dp);
        err = clEnqueueWriteBufferRect(cl->queue, dst, CL_FALSE, zero, zero,
                                       region, dp, 0, hp, 0, src, 0, NULL, pev);
    }
    if (err != CL_SUCCESS)
        return opk_cl_fail(ctx, err, "host-to-device copy");
    if (ev)
        cl->ns_write += event_ns(ev);
    return OPK_OK;
}

opk_status opk_cl_read(const opk_ctx *ctx, float *dst, cl_mem src,
                       size_t rows, size_t cols, size_t ld)
{
    opk_cl *cl = ctx->cl;
    cl_event ev = NULL, *pev = cl->profile ? &ev : NULL;
    cl_int err;
    if (ld == cols || rows == 1) {
        err = clEnqueueReadBuffer(cl->queue, src, CL_TRUE, 0,
                                  rows * cols * sizeof(float), dst, 0, NULL,
                                  pev);
    } else {
        /* Only the cols of each row are written: Y's padding stays. */
        size_t zero[3] = {0, 0, 0}, region[3], hp, dp;
        rect(rows, cols, ld, region, &hp, &dp);
        err = clEnqueueReadBufferRect(cl->queue, src, CL_TRUE, zero, zero,
                                      region, dp, 0, hp, 0, dst, 0, NULL, pev);
    }
    if (err != CL_SUCCESS)
        return opk_cl_fail(ctx, err, "device-to-host copy");
    if (ev)
        cl->ns_read += event_ns(ev);
    return OPK_OK;
}

opk_status opk_cl_fill(const opk_ctx *ctx, cl_mem mem, float v, size_t count,
                       const char *what)
{
    cl_int err = clEnqueueFillBuffer(ctx->cl->queue, mem, &v, sizeof v, 0,
                                     count * sizeof(float), 0, NULL, NULL);
    if (err == CL_SUCCESS)
        return OPK_OK;
    char msg[96];
    snprintf(msg, sizeof msg, "%s: clEnqueueFillBuffer", what);
    return opk_cl_fail(ctx, err, msg);
}

opk_status opk_cl_launch(const opk_ctx *ctx, cl_kernel k, const char *name,
                         cl_uint dims, const size_t *global,
                         const size_t *local)
{
    opk_cl *cl = ctx->cl;
    cl_event ev = NULL, *pev = cl->profile ? &ev : NULL;
    cl_int err = clEnqueueNDRangeKernel(cl->queue, k, dims, NULL, global,
                                        local, 0, NULL, pev);
    if (err == CL_INVALID_WORK_GROUP_SIZE && local) {
        /* opk's kernels fix their work-group shape (reqd_work_group_size):
         * say which size the device refused, and what it allows. */
        size_t want = 1, kmax = 0;
        for (cl_uint d = 0; d < dims; d++)
            want *= local[d];
        clGetKernelWorkGroupInfo(k, cl->device, CL_KERNEL_WORK_GROUP_SIZE,
                                 sizeof kmax, &kmax, NULL);
        return opk_fail(ctx, OPK_ERR_BACKEND,
                        "opencl: %s: needs work-groups of %zu work-items; %s "
                        "allows %zu for it (CL_KERNEL_WORK_GROUP_SIZE): "
                        "CL_INVALID_WORK_GROUP_SIZE (-54)",
                        name, want, cl->info.name, kmax);
    }
    if (err != CL_SUCCESS)
        return opk_cl_fail(ctx, err, name);
    if (ev)
        cl->ns_kernel += event_ns(ev);
    return OPK_OK;
}

void opk_cl_set_profiling(opk_ctx *ctx, int on)
{
    if (ctx && ctx->cl)
        ctx->cl->profile = on;
}

void opk_cl_last_times(const opk_ctx *ctx, double *write_s, double *kernel_s,
                       double *read_s)
{
    const opk_cl *cl = ctx->cl;
    *write_s = cl ? (double)cl->ns_write * 1e-9 : 0;
    *kernel_s = cl ? (double)cl->ns_kernel * 1e-9 : 0;
    *read_s = cl ? (double)cl->ns_read * 1e-9 : 0;
}
