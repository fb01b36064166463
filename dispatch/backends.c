/* The backend table and the rules that say which backends this machine can
 * run. Adding an ISA: a folder under simd/, its table, one line below. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/common.h"
#include "../kernels/test_hooks.h"
#include "backend.h"
#include "cpu.h"

int opk_cl_usable(char *why, size_t n); /* cl/devices.c */

static const char *const names[OPK_BACKEND_COUNT] = {
    "auto", "scalar", "avx2", "avx512", "neon", "opencl"};

const char *opk_backend_name(opk_backend b)
{
    return ((unsigned)b < OPK_BACKEND_COUNT) ? names[b] : "?";
}

const opk_ops *opk_ops_for(opk_backend b)
{
    switch (b) {
    case OPK_BACKEND_SCALAR: return &opk_ops_scalar;
#ifdef OPK_HAVE_AVX2
    case OPK_BACKEND_AVX2: return &opk_ops_avx2;
#endif
#ifdef OPK_HAVE_AVX512
    case OPK_BACKEND_AVX512: return &opk_ops_avx512;
#endif
#ifdef OPK_HAVE_NEON
    case OPK_BACKEND_NEON: return &opk_ops_neon;
#endif
#ifdef OPK_HAVE_OPENCL
    case OPK_BACKEND_OPENCL: return opk_ops_opencl();
#endif
    default: return NULL;
    }
}

int opk_test_math(int b, int fn, const float *x, float *y, size_t n)
{
    const opk_ops *o = opk_ops_for((opk_backend)b);
    if (!o || !o->math_n)
        return -1;
    o->math_n(fn, x, y, n);
    return 0;
}

opk_status opk_backend_parse(const char *s, opk_backend *b, int *cl_platform,
                             int *cl_device)
{
    if (!s || !b)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "backend name is NULL");
    int p = 0, d = 0;
    for (int i = 0; i < OPK_BACKEND_COUNT; i++)
        if (!strcmp(s, names[i])) {
            *b = (opk_backend)i;
            goto done;
        }
    /* opencl:P:D: strtol, not sscanf's %d, whose overflow is undefined
     * (glibc wrapped opencl:4294967296:0 to platform 0; found by
     * tests/fuzz/fuzz_api.c). */
    if (!strncmp(s, "opencl:", 7)) {
        char *end;
        long v[2];
        const char *c = s + 7;
        int ok = 1;
        for (int k = 0; k < 2 && ok; k++) {
            errno = 0;
            v[k] = strtol(c, &end, 10);
            /* A digit first: strtol would also take spaces and a sign. */
            ok = *c >= '0' && *c <= '9' && !errno && v[k] <= INT_MAX &&
                 *end == (k ? '\0' : ':');
            c = end + 1;
        }
        if (ok) {
            *b = OPK_BACKEND_OPENCL;
            p = (int)v[0], d = (int)v[1];
            goto done;
        }
    }
    return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                    "unknown backend '%s' (expected auto, scalar, avx2, "
                    "avx512, neon, opencl or opencl:P:D)",
                    s);
done:
    if (cl_platform)
        *cl_platform = p;
    if (cl_device)
        *cl_device = d;
    return OPK_OK;
}

/* Writes why b cannot run here into buf; returns 1 if it can. */
static int usable(opk_backend b, char *buf, size_t n)
{
    const opk_cpu *c = opk_cpu_get();
    if ((unsigned)b >= OPK_BACKEND_COUNT) {
        snprintf(buf, n, "backend %d does not exist", (int)b);
        return 0;
    }
    if (b == OPK_BACKEND_AUTO)
        return snprintf(buf, n, "%s", ""), 1;
    if (b != OPK_BACKEND_OPENCL && !opk_ops_for(b)) {
        snprintf(buf, n, "the %s backend is not compiled into this build",
                 opk_backend_name(b));
        return 0;
    }
    buf[0] = 0;
    switch (b) {
    case OPK_BACKEND_SCALAR:
#if defined(__x86_64__)
        /* The scalar reference uses SLEEF's purecfma functions. */
        if (!c->fma)
            return snprintf(buf, n, "this CPU lacks FMA3 (the scalar "
                                    "reference needs hardware fma)"),
                   0;
#endif
        return 1;
    case OPK_BACKEND_AVX2:
        if (!c->os_ymm)
            return snprintf(buf, n, "the OS has not enabled AVX (YMM) state"), 0;
        if (!c->avx2 || !c->fma)
            return snprintf(buf, n, "this CPU lacks %s%s%s",
                            c->avx2 ? "" : "AVX2",
                            (!c->avx2 && !c->fma) ? " and " : "",
                            c->fma ? "" : "FMA3"),
                   0;
        return 1;
    case OPK_BACKEND_AVX512: {
        if (!c->os_zmm)
            return snprintf(buf, n, "the OS has not enabled AVX-512 (ZMM) "
                                    "state, or this CPU lacks AVX-512"),
                   0;
        char miss[64] = "";
        if (!c->avx512f) strcat(miss, " F");
        if (!c->avx512bw) strcat(miss, " BW");
        if (!c->avx512dq) strcat(miss, " DQ");
        if (!c->avx512vl) strcat(miss, " VL");
        if (miss[0])
            return snprintf(buf, n, "this CPU lacks AVX-512%s", miss), 0;
        return 1;
    }
    case OPK_BACKEND_NEON:
        if (!c->asimd)
            return snprintf(buf, n, "this CPU lacks Advanced SIMD"), 0;
        return 1;
    case OPK_BACKEND_OPENCL:
        /* Compiled in and at least one device (cl/devices.c). */
        return opk_cl_usable(buf, n);
    default: /* AUTO and out of range are handled above */
        return 0;
    }
}

int opk_backend_available(opk_backend b)
{
    char buf[160];
    return (unsigned)b < OPK_BACKEND_COUNT && b != OPK_BACKEND_AUTO &&
           usable(b, buf, sizeof buf);
}

const char *opk_backend_unavailable_reason(opk_backend b)
{
    static _Thread_local char buf[160];
    usable(b, buf, sizeof buf);
    return buf;
}

/* Best CPU ISA usable here: the order of preference for AUTO. */
opk_backend opk_backend_best_cpu(void)
{
    static const opk_backend order[] = {OPK_BACKEND_AVX512, OPK_BACKEND_AVX2,
                                        OPK_BACKEND_NEON, OPK_BACKEND_SCALAR};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (opk_backend_available(order[i]))
            return order[i];
    return OPK_BACKEND_AUTO; /* nothing usable */
}

const char *opk_kernel_name(opk_kernel k)
{
    static const char *const kn[OPK_KERNEL_COUNT] = {"softmax", "sinkhorn",
                                                     "cheb", "attention"};
    return ((unsigned)k < OPK_KERNEL_COUNT) ? kn[k] : "?";
}

int opk_backend_implements(opk_backend b, opk_kernel k)
{
    if (!opk_backend_available(b))
        return 0;
    const opk_ops *o = opk_ops_for(b);
    switch (k) {
    case OPK_KERNEL_SOFTMAX:
        return o->softmax_call || (o->softmax_rows && o->softmax_cols);
    case OPK_KERNEL_SINKHORN:
        return o->sinkhorn_call || (o->sinkhorn_rows && o->sinkhorn_cols);
    case OPK_KERNEL_CHEB:
        return o->cheb_call || o->cheb_rows;
    case OPK_KERNEL_ATTENTION: /* the sinkhorn mode and graph term need those */
        if (o->attention_call) /* a device: the graph term runs cheb_call */
            return o->cheb_call || o->cheb_rows;
        return o->attn_fused_rows && o->attn_row_dots && o->attn_linear_kv &&
               o->attn_linear_rows && o->attn_scores && o->attn_pv_rows &&
               o->sinkhorn_rows && o->sinkhorn_cols && o->cheb_rows &&
               o->attn_zero_row;
    default:
        return 0;
    }
}
