/* The OpenCL backend's host runtime, shared by the cl/ files.
 *
 * One opk context on the opencl backend owns one cl_context and one in-order
 * queue on its device, the programs built for it (lazily, through the disk
 * cache of cl/cache.c), their kernels, and a few grow-only device buffers.
 *
 * Threads: a context may be used by several threads at once (SPEC 5). Every
 * call takes `lock` for its whole upload-launch-download sequence. Per-call
 * queues and buffers would let two calls overlap on the device, but the
 * reused buffers and the cl_kernel objects (clSetKernelArg is not
 * thread-safe on a shared kernel) would then need one copy per thread, and a
 * single device runs one such call at a time anyway. Threads that want
 * device concurrency use one context each.
 *
 * Adding a kernel: cl/NAME.cl (its kernels; the prelude, E and Lg are
 * prepended, see opk_cl_kernel) and a host function that validates nothing
 * (the generic layer did), sizes buffers with opk_cl_buffer, copies with
 * opk_cl_write/opk_cl_read and launches with clEnqueueNDRangeKernel, all
 * between opk_cl_lock/opk_cl_unlock, and goes into cl/table.c. */
#ifndef OPK_CL_RUNTIME_H
#define OPK_CL_RUNTIME_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <CL/cl.h>

#include "hooks.h"
#include "opk.h"

#define OPK_CL_MAX_PROGRAMS 8
#define OPK_CL_MAX_KERNELS 32
#define OPK_CL_MAX_BUFFERS 16

typedef struct opk_cl {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    pthread_mutex_t lock;
    opk_cl_device_info info; /* what opk_cl_device_describe says */
    char options[160];       /* build options (SPEC 1) */
    /* Largest single buffer: CL_DEVICE_MAX_MEM_ALLOC_SIZE, or less with the
     * test hook OPK_CL_MAX_ALLOC=BYTES (to exercise chunking and failures
     * on small data). */
    uint64_t max_alloc;
    struct {
        const char *name;
        cl_program prog;
    } progs[OPK_CL_MAX_PROGRAMS];
    struct {
        const char *name;
        cl_kernel k;
    } kernels[OPK_CL_MAX_KERNELS];
    struct {
        cl_mem mem;
        size_t size;
    } bufs[OPK_CL_MAX_BUFFERS];
    /* Profiling of the last call (when `profile` is set): nanoseconds spent
     * in host-to-device copies, kernels and device-to-host copies. */
    int profile;
    uint64_t ns_write, ns_kernel, ns_read;
} opk_cl;

/* ---- devices (devices.c) ---- */
/* The platform/device handles of device P:D; 0 if found. */
int opk_cl_find(int platform, int device, cl_platform_id *p, cl_device_id *d,
                opk_cl_device_info *info);
/* "CL_OUT_OF_RESOURCES" etc. */
const char *opk_cl_err_name(cl_int err);

/* ---- per-context runtime (runtime.c) ---- */
/* Takes the context lock and starts a call (resets the profile times). */
void opk_cl_lock(opk_cl *cl);
void opk_cl_unlock(opk_cl *cl);
/* Records an OpenCL failure: OPK_ERR_BACKEND with "opencl: WHAT: ERRNAME". */
opk_status opk_cl_fail(const opk_ctx *ctx, cl_int err, const char *what);
/* After a failed call: waits for the queue, drops the buffers (they are
 * re-created on demand) and re-creates the queue if it is broken, so that
 * the context stays usable. Call with the lock held. */
void opk_cl_recover(const opk_ctx *ctx);
/* Kernel `kernel` of program `program` (cl/<program>.cl), building or
 * loading the program on first use. Lock held. */
opk_status opk_cl_kernel(const opk_ctx *ctx, const char *program,
                         const char *kernel, cl_kernel *k);
/* Device buffer number `slot` with at least `bytes` (grow-only; fails with
 * OPK_ERR_BACKEND above max_alloc). Lock held. */
opk_status opk_cl_buffer(const opk_ctx *ctx, int slot, size_t bytes,
                         cl_mem *mem);
/* Copies a rows x cols block between host memory with leading dimension
 * `ld` (elements) and a device buffer holding it packed (row pitch cols).
 * Non-blocking write; blocking read. Lock held. */
opk_status opk_cl_write(const opk_ctx *ctx, cl_mem dst, const float *src,
                        size_t rows, size_t cols, size_t ld);
opk_status opk_cl_read(const opk_ctx *ctx, float *dst, cl_mem src,
                       size_t rows, size_t cols, size_t ld);
/* count copies of v into mem (clEnqueueFillBuffer); `what` names the
 * caller in the error. Lock held. */
opk_status opk_cl_fill(const opk_ctx *ctx, cl_mem mem, float v, size_t count,
                       const char *what);
/* Kernel arguments in the host files: ARG(k, i, v) ORs clSetKernelArg's
 * status into a local `err`; ARGS_OK(what) then returns the failure with
 * "clSetKernelArg (what)" (OPK_CL_WHO, defined by the file, in front). */
#define ARG(k, i, v) (err |= clSetKernelArg((k), (i), sizeof(v), &(v)))
#define ARGS_OK(what)                                                     \
    if (err != CL_SUCCESS)                                                \
        return opk_cl_fail(ctx, CL_INVALID_KERNEL_ARGS,                   \
                           OPK_CL_WHO ": clSetKernelArg (" what ")")
/* clEnqueueNDRangeKernel with profiling and a named error. Lock held. */
opk_status opk_cl_launch(const opk_ctx *ctx, cl_kernel k, const char *name,
                         cl_uint dims, const size_t *global,
                         const size_t *local);

/* ---- Sinkhorn passes (sinkhorn_host.c), also for attention's Sinkhorn
 * mode: cl/sinkhorn.cl's kernels with their launch geometry, over S (n x m,
 * packed) holding rows row0 ... of the problem (f, la, r, fnew indexed from
 * row0). mode: 1 update, 2 check, 3 both. The column pass's stage is 0
 * for a whole S (cm, cs unused) or OPK_SKC_* of cl/sinkhorn.cl. Lock
 * held. ---- */
opk_status opk_cl_sk_rows(const opk_ctx *ctx, cl_kernel k, cl_mem s,
                          cl_uint n, cl_uint m, cl_float beta, cl_mem la,
                          cl_mem f, cl_mem fnew, cl_mem g, cl_mem r,
                          cl_int mode, cl_uint row0);
opk_status opk_cl_sk_plan(const opk_ctx *ctx, cl_kernel k, cl_mem s,
                          cl_uint n, cl_uint m, cl_float beta, cl_mem f,
                          cl_mem g, cl_mem r, cl_uint row0);
opk_status opk_cl_sk_cols(const opk_ctx *ctx, cl_kernel k, cl_mem s,
                          cl_uint n, cl_uint m, cl_float beta, cl_mem f,
                          cl_mem lb, cl_mem g, cl_uint row0, cl_mem cm,
                          cl_mem cs, cl_int stage);

/* ---- programs and the disk cache (cache.c) ---- */
/* Builds `source` for cl's device with cl->options, through the cache
 * ($XDG_CACHE_HOME/opk/cl, else $HOME/.cache/opk/cl; OPK_CL_CACHE=0 turns
 * it off). `name` is for messages. On a build failure: OPK_ERR_BACKEND with
 * the (trimmed) build log in the message. */
opk_status opk_cl_build(const opk_ctx *ctx, const char *name,
                        const char *source, cl_program *out);

/* The cache file for a program source on ctx's device ("" if disabled). */
void opk_cl_cache_path(const opk_ctx *ctx, const char *source, char *path,
                       size_t n);
/* The full program text for cl/<program>.cl (prelude, E, Lg, the file);
 * from opk_alloc (opk_free it); NULL if no such file or out of memory. */
char *opk_cl_program_source(const char *program);

/* ---- kernels (softmax_host.c, mathtest_host.c) ---- */
struct opk_softmax_job;
opk_status opk_cl_softmax(opk_ctx *ctx, const struct opk_softmax_job *j,
                          opk_axis axis);
struct opk_sinkhorn_job;
opk_status opk_cl_sinkhorn(opk_ctx *ctx, const struct opk_sinkhorn_job *j,
                           const float *a, const opk_sinkhorn_opts *opts,
                           float tol, opk_sinkhorn_info *info);
struct opk_cheb_job;
opk_status opk_cl_cheb(opk_ctx *ctx, const struct opk_cheb_job *j,
                       const float *c, size_t K, opk_cmat X, opk_mat Y);
struct opk_attn_job;
opk_status opk_cl_attention(opk_ctx *ctx, const struct opk_attn_job *j,
                            int sinkhorn_iters, int linear_global_norm);

#endif
