/* Error messages, argument checks and aligned allocation shared by kernels. */
#define _DEFAULT_SOURCE /* madvise */
#include "common.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../dispatch/ctx.h"
#include "test_hooks.h"

/* The last error is per thread (a context may be shared by threads), tagged
 * with the context it belongs to. */
static _Thread_local struct {
    const opk_ctx *ctx;
    int set;
    char msg[2048];
} last_error;

opk_status opk_fail(const opk_ctx *ctx, opk_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error.msg, sizeof last_error.msg, fmt, ap);
    va_end(ap);
    last_error.ctx = ctx;
    last_error.set = 1;
    return st;
}

const char *opk_ctx_last_error(const opk_ctx *ctx)
{
    return (last_error.set && last_error.ctx == ctx) ? last_error.msg : "";
}

opk_status opk_check_mat(const opk_ctx *ctx, const char *name,
                         const void *data, size_t rows, size_t cols,
                         size_t ld, opk_span *span)
{
    if (ld < cols)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "%s: ld (%zu) is smaller than cols (%zu)", name, ld,
                        cols);
    span->lo = span->hi = (uintptr_t)data;
    if (rows == 0 || cols == 0)
        return OPK_OK;
    if (!data)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "%s: data is NULL but the matrix is %zux%zu", name,
                        rows, cols);
    /* Elements touched: (rows-1)*ld + cols; bytes: 4 times that. */
    size_t n;
    if (__builtin_mul_overflow(rows - 1, ld, &n) ||
        __builtin_add_overflow(n, cols, &n) ||
        __builtin_mul_overflow(n, sizeof(float), &n) ||
        (uintptr_t)data + n < (uintptr_t)data)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "%s: %zux%zu with ld %zu overflows the address space",
                        name, rows, cols, ld);
    span->hi = (uintptr_t)data + n;
    return OPK_OK;
}

opk_status opk_check_shape(const opk_ctx *ctx, const char *name, size_t rows,
                           size_t cols, size_t want_rows, size_t want_cols)
{
    if (rows != want_rows || cols != want_cols)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "%s is %zux%zu, expected %zux%zu", name, rows, cols,
                        want_rows, want_cols);
    return OPK_OK;
}

int opk_spans_overlap(opk_span a, opk_span b)
{
    if (a.lo == a.hi || b.lo == b.hi)
        return 0;
    return a.lo < b.hi && b.lo < a.hi;
}

opk_status opk_unported(const opk_ctx *ctx, const char *kernel)
{
    return opk_fail(ctx, OPK_ERR_UNSUPPORTED,
                    "%s is not implemented on the %s backend yet", kernel,
                    opk_backend_name(ctx->backend));
}

int opk_threads_for(const opk_ctx *ctx, size_t work, size_t unit_bytes)
{
    /* Below ~256 KiB of traffic a second thread does not pay for itself. */
    const size_t min_bytes_per_thread = (size_t)256 << 10;
    size_t bytes = work * (unit_bytes ? unit_bytes : 1);
    size_t t = bytes / min_bytes_per_thread;
    if (t < 1)
        t = 1;
    if (t > work)
        t = work ? work : 1;
    if (t > (size_t)ctx->num_threads)
        t = (size_t)ctx->num_threads;
    return (int)t;
}

/* Allocation failure injection (kernels/test_hooks.h). Always compiled in,
 * hidden from the shared library's exports: the path tests exercise is the
 * one that ships, at the cost of one relaxed atomic load per allocation. */
static _Atomic long fail_at;     /* 0: off; else fail call number fail_at */
static _Atomic long alloc_calls; /* calls since the hook was armed */
static _Atomic long alloc_live;  /* opk_alloc'ed blocks not yet freed */

void opk_test_fail_alloc_at(long k)
{
    atomic_store(&alloc_calls, 0);
    atomic_store(&fail_at, k > 0 ? k : 0);
}
long opk_test_alloc_calls(void) { return atomic_load(&alloc_calls); }
long opk_test_alloc_live(void) { return atomic_load(&alloc_live); }

/* 1 if this allocation is the one the hook fails. */
static int injected_failure(void)
{
    long k = atomic_load_explicit(&fail_at, memory_order_relaxed);
    return k > 0 && atomic_fetch_add(&alloc_calls, 1) + 1 == k;
}

void *opk_alloc(size_t bytes) { return opk_alloc_aligned(bytes, 64); }

void *opk_alloc_aligned(size_t bytes, size_t align)
{
    if (injected_failure())
        return NULL;
    size_t n = (bytes + align - 1) & ~(align - 1);
    if (n < bytes)
        return NULL;
    void *p = aligned_alloc(align, n ? n : align);
    if (p)
        atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
    return p;
}

void *opk_alloc_huge(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    if (bytes < 2 * huge)
        return opk_alloc(bytes);
    size_t n = (bytes + huge - 1) & ~(huge - 1);
    void *p = n < bytes ? NULL : opk_alloc_aligned(n, huge);
#ifdef MADV_HUGEPAGE
    if (p)
        madvise(p, n, MADV_HUGEPAGE);
#endif
    return p;
}

/* Exact sizes (no rounding to the alignment): ASan sees a read one past
 * the end of a host array. */
void *opk_malloc(size_t bytes)
{
    if (injected_failure())
        return NULL;
    void *p = malloc(bytes ? bytes : 1);
    if (p)
        atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
    return p;
}

/* calloc itself, not opk_malloc + memset: a large zeroed table (a count
 * per column of a wide matrix) stays untouched pages until used. */
void *opk_calloc(size_t count, size_t size)
{
    if (injected_failure())
        return NULL;
    void *p = count && size ? calloc(count, size) : calloc(1, 1);
    if (p)
        atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
    return p;
}

void *opk_realloc(void *p, size_t bytes)
{
    if (injected_failure())
        return NULL;
    /* realloc accepts aligned_alloc's blocks (C11 7.22.3); the result is
     * only malloc-aligned, which is all that growing host arrays need. */
    void *q = realloc(p, bytes ? bytes : 1);
    if (q && !p)
        atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
    return q;
}

void opk_free(void *p)
{
    if (p)
        atomic_fetch_sub_explicit(&alloc_live, 1, memory_order_relaxed);
    free(p);
}
