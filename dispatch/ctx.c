/* Context creation: resolves AUTO (OPK_BACKEND, then the best CPU ISA) and
 * the thread count (config, OPK_NUM_THREADS, online cores). */
#include "ctx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kernels/common.h"

opk_backend opk_backend_best_cpu(void);
#ifdef OPK_HAVE_OPENCL
opk_status opk_cl_open(opk_ctx *ctx);  /* cl/runtime.c */
void opk_cl_close(opk_ctx *ctx);
#endif

opk_config opk_config_default(void)
{
    opk_config c = {OPK_BACKEND_AUTO, 0, 0, 0};
    return c;
}

/* The most threads a context takes, from the config or the environment. */
#define OPK_MAX_THREADS 4096

static opk_status env_threads(int *out)
{
    const char *s = getenv("OPK_NUM_THREADS");
    if (!s || !*s) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        *out = n > 0 ? (int)n : 1;
        return OPK_OK;
    }
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || *end || n < 1 || n > OPK_MAX_THREADS)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "OPK_NUM_THREADS='%s' is not a thread count (1..%d)",
                        s, OPK_MAX_THREADS);
    *out = (int)n;
    return OPK_OK;
}

opk_status opk_ctx_create(const opk_config *cfg, opk_ctx **out)
{
    if (!out)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "ctx: output is NULL");
    *out = NULL;
    opk_config c = cfg ? *cfg : opk_config_default();
    if ((unsigned)c.backend >= OPK_BACKEND_COUNT)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "config.backend (%d) is not an opk_backend",
                        (int)c.backend);
    if (c.num_threads < 0 || c.num_threads > OPK_MAX_THREADS)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "config.num_threads (%d) is not 0 (automatic) or a "
                        "thread count (1..%d)",
                        c.num_threads, OPK_MAX_THREADS);
    if (c.cl_platform < 0 || c.cl_device < 0)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "config.%s (%d) is negative",
                        c.cl_platform < 0 ? "cl_platform" : "cl_device",
                        c.cl_platform < 0 ? c.cl_platform : c.cl_device);
    opk_backend b = c.backend;
    int explicit_by_env = 0;
    if (b == OPK_BACKEND_AUTO) {
        const char *env = getenv("OPK_BACKEND");
        if (env && *env) {
            int p, d;
            if (opk_backend_parse(env, &b, &p, &d))
                return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                                "OPK_BACKEND='%s' is not a backend (auto, "
                                "scalar, avx2, avx512, neon, opencl[:P:D])",
                                env);
            explicit_by_env = b != OPK_BACKEND_AUTO;
            if (strchr(env, ':')) { /* opencl:P:D names the device; plain
                                     * opencl keeps the config's */
                c.cl_platform = p;
                c.cl_device = d;
            }
        }
        if (b == OPK_BACKEND_AUTO)
            b = opk_backend_best_cpu();
        if (b == OPK_BACKEND_AUTO)
            return opk_fail(NULL, OPK_ERR_UNSUPPORTED,
                            "no backend is usable on this machine: %s",
                            opk_backend_unavailable_reason(OPK_BACKEND_SCALAR));
    }
    if (!opk_backend_available(b))
        return opk_fail(NULL, OPK_ERR_UNSUPPORTED, "backend %s%s: %s",
                        opk_backend_name(b),
                        explicit_by_env ? " (from OPK_BACKEND)" : "",
                        opk_backend_unavailable_reason(b));
    int nt = c.num_threads;
    if (nt == 0) {
        opk_status st = env_threads(&nt);
        if (st)
            return st;
    }
    opk_ctx *ctx = opk_alloc(sizeof *ctx); /* opk_alloc: failure injection */
    if (!ctx)
        return opk_fail(NULL, OPK_ERR_NOMEM, "ctx: out of memory");
    memset(ctx, 0, sizeof *ctx);
    ctx->backend = b;
    ctx->ops = opk_ops_for(b);
    ctx->num_threads = nt;
    ctx->cl_platform = c.cl_platform;
    ctx->cl_device = c.cl_device;
#ifdef OPK_HAVE_OPENCL
    if (b == OPK_BACKEND_OPENCL) {
        opk_status st = opk_cl_open(ctx); /* device P:D, context, queue */
        if (st) {
            opk_free(ctx);
            return st;
        }
    }
#endif
    *out = ctx;
    return OPK_OK;
}

void opk_ctx_destroy(opk_ctx *ctx)
{
#ifdef OPK_HAVE_OPENCL
    if (ctx && ctx->cl)
        opk_cl_close(ctx);
#endif
    opk_free(ctx);
}

opk_backend opk_ctx_backend(const opk_ctx *ctx)
{
    return ctx ? ctx->backend : OPK_BACKEND_AUTO;
}

int opk_ctx_num_threads(const opk_ctx *ctx) { return ctx ? ctx->num_threads : 0; }
