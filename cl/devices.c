/* OpenCL platforms and devices: enumeration (once per process), the public
 * device API of opk.h, and whether the opencl backend is usable. Built in
 * every configuration: without OpenCL the API reports no device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dispatch/ctx.h"
#include "../kernels/common.h"

#ifdef OPK_HAVE_OPENCL
#include "runtime.h"

static struct {
    int nplat, ndev;
    cl_platform_id *plat;
    cl_device_id *dev;
    opk_cl_device_info *info;
    char why[160]; /* why there is no device */
} g;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void str_info(cl_device_id d, cl_device_info what, char *buf, size_t n)
{
    if (clGetDeviceInfo(d, what, n, buf, NULL) != CL_SUCCESS)
        snprintf(buf, n, "?");
    buf[n - 1] = 0;
}

static void describe(cl_platform_id p, cl_device_id d, opk_cl_device_info *in)
{
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof in->platform_name,
                          in->platform_name, NULL) != CL_SUCCESS)
        snprintf(in->platform_name, sizeof in->platform_name, "?");
    if (clGetPlatformInfo(p, CL_PLATFORM_VERSION, sizeof in->platform_version,
                          in->platform_version, NULL) != CL_SUCCESS)
        snprintf(in->platform_version, sizeof in->platform_version, "?");
    in->platform_name[sizeof in->platform_name - 1] = 0;
    in->platform_version[sizeof in->platform_version - 1] = 0;
    str_info(d, CL_DEVICE_NAME, in->name, sizeof in->name);
    str_info(d, CL_DEVICE_VENDOR, in->vendor, sizeof in->vendor);
    str_info(d, CL_DEVICE_VERSION, in->version, sizeof in->version);
    str_info(d, CL_DRIVER_VERSION, in->driver_version, sizeof in->driver_version);
    cl_device_type t = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof t, &t, NULL);
    snprintf(in->type, sizeof in->type, "%s",
             (t & CL_DEVICE_TYPE_GPU)           ? "GPU"
             : (t & CL_DEVICE_TYPE_CPU)         ? "CPU"
             : (t & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator"
                                                : "other");
    cl_uint cu = 0;
    cl_ulong gm = 0, lm = 0, ma = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gm, &gm, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof lm, &lm, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ma, &ma, NULL);
    in->compute_units = cu;
    in->global_mem = gm, in->local_mem = lm, in->max_alloc = ma;
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(d, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
    in->fp_denorm = (fp & CL_FP_DENORM) != 0;
    in->fp_fma = (fp & CL_FP_FMA) != 0;
    in->fp_correctly_rounded_divide_sqrt =
        (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
    in->fp_inf_nan = (fp & CL_FP_INF_NAN) != 0;
    in->fp_round_to_nearest = (fp & CL_FP_ROUND_TO_NEAREST) != 0;
}

static void enumerate(void)
{
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err != CL_SUCCESS || np == 0) {
        snprintf(g.why, sizeof g.why, "no OpenCL platform found%s%s%s",
                 err != CL_SUCCESS ? " (clGetPlatformIDs: " : "",
                 err != CL_SUCCESS ? opk_cl_err_name(err) : "",
                 err != CL_SUCCESS ? ")" : "");
        return;
    }
    g.plat = calloc(np, sizeof *g.plat);
    if (!g.plat || clGetPlatformIDs(np, g.plat, NULL) != CL_SUCCESS) {
        snprintf(g.why, sizeof g.why, "cannot list the OpenCL platforms");
        return;
    }
    g.nplat = (int)np;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(g.plat[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) !=
                CL_SUCCESS ||
            nd == 0)
            continue;
        cl_device_id *d = realloc(g.dev, (g.ndev + nd) * sizeof *d);
        opk_cl_device_info *in = realloc(g.info, (g.ndev + nd) * sizeof *in);
        if (d)
            g.dev = d;
        if (in)
            g.info = in;
        if (!d || !in ||
            clGetDeviceIDs(g.plat[p], CL_DEVICE_TYPE_ALL, nd, g.dev + g.ndev,
                           NULL) != CL_SUCCESS)
            continue;
        for (cl_uint k = 0; k < nd; k++) {
            opk_cl_device_info *x = &g.info[g.ndev];
            memset(x, 0, sizeof *x);
            x->index = g.ndev, x->platform = (int)p, x->device = (int)k;
            describe(g.plat[p], g.dev[g.ndev], x);
            g.ndev++;
        }
    }
    if (g.ndev == 0)
        snprintf(g.why, sizeof g.why,
                 "no OpenCL device found (%d platform%s without devices)",
                 g.nplat, g.nplat == 1 ? "" : "s");
}

static void ensure(void) { pthread_once(&g_once, enumerate); }

/* The capabilities as reported, less what the test hook takes away. */
static void finish(opk_cl_device_info *in)
{
    const char *e = getenv("OPK_CL_ASSUME_NO_DENORM");
    if (e && !strcmp(e, "1"))
        in->fp_denorm = 0;
    in->bitwise = in->fp_denorm && in->fp_fma &&
                  in->fp_correctly_rounded_divide_sqrt;
}

int opk_cl_device_count(void) { return ensure(), g.ndev; }
int opk_cl_platform_count(void) { return ensure(), g.nplat; }

opk_status opk_cl_device_describe(int index, opk_cl_device_info *info)
{
    ensure();
    if (!info)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "opk_cl_device_describe: info is NULL");
    if (index < 0 || index >= g.ndev)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "opk_cl_device_describe: index %d is not a device "
                        "(there are %d)",
                        index, g.ndev);
    *info = g.info[index];
    finish(info);
    return OPK_OK;
}

int opk_cl_find(int platform, int device, cl_platform_id *p, cl_device_id *d,
                opk_cl_device_info *info)
{
    ensure();
    for (int i = 0; i < g.ndev; i++)
        if (g.info[i].platform == platform && g.info[i].device == device) {
            *p = g.plat[platform];
            *d = g.dev[i];
            *info = g.info[i];
            finish(info);
            return 0;
        }
    return -1;
}

int opk_cl_usable(char *why, size_t n)
{
    ensure();
    snprintf(why, n, "%s", g.ndev ? "" : g.why);
    return g.ndev > 0;
}

int opk_ctx_bitwise(const opk_ctx *ctx)
{
    if (!ctx)
        return 0;
    if (ctx->backend != OPK_BACKEND_OPENCL)
        return 1;
    return ctx->cl ? ctx->cl->info.bitwise : 0;
}

const char *opk_cl_err_name(cl_int err)
{
    switch (err) {
#define E(x) \
    case x: return #x;
        E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE)
        E(CL_COMPILER_NOT_AVAILABLE) E(CL_MEM_OBJECT_ALLOCATION_FAILURE)
        E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
        E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP)
        E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
        E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
        E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM)
        E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT)
        E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE)
        E(CL_INVALID_HOST_PTR) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_BINARY)
        E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM)
        E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME)
        E(CL_INVALID_KERNEL_DEFINITION) E(CL_INVALID_KERNEL)
        E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE)
        E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION)
        E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE)
        E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST)
        E(CL_INVALID_EVENT) E(CL_INVALID_OPERATION) E(CL_INVALID_BUFFER_SIZE)
        E(CL_INVALID_GLOBAL_WORK_SIZE)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "unknown OpenCL error";
    }
}

#else /* !OPK_HAVE_OPENCL */

int opk_cl_device_count(void) { return 0; }
int opk_cl_platform_count(void) { return 0; }

opk_status opk_cl_device_describe(int index, opk_cl_device_info *info)
{
    (void)index, (void)info;
    return opk_fail(NULL, OPK_ERR_UNSUPPORTED,
                    "opk_cl_device_describe: the opencl backend is not "
                    "compiled into this build");
}

int opk_cl_usable(char *why, size_t n)
{
    snprintf(why, n, "the opencl backend is not compiled into this build");
    return 0;
}

int opk_ctx_bitwise(const opk_ctx *ctx)
{
    return ctx != NULL;
}

#endif
