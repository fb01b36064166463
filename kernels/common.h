/* Helpers shared by the kernels' argument checks and work splitting. */
#ifndef OPK_COMMON_H
#define OPK_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "opk.h"

#if defined(__GNUC__)
#define OPK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OPK_PRINTF(a, b)
#endif

/* Records a one-line message for opk_ctx_last_error(ctx) on this thread and
 * returns st, so checks read `return opk_fail(ctx, OPK_ERR_..., "...")`. */
opk_status opk_fail(const opk_ctx *ctx, opk_status st, const char *fmt, ...)
    OPK_PRINTF(3, 4);

/* A validated matrix argument: the byte range it covers, for overlap tests. */
typedef struct opk_span {
    uintptr_t lo, hi; /* [lo, hi) in bytes; lo == hi when empty */
} opk_span;

/* Checks data/rows/cols/ld of a matrix argument called `name` (NULL data
 * with nonzero size, ld < cols, byte count overflowing size_t). */
opk_status opk_check_mat(const opk_ctx *ctx, const char *name,
                         const void *data, size_t rows, size_t cols,
                         size_t ld, opk_span *span);
/* Checks that a matrix has the expected shape. */
opk_status opk_check_shape(const opk_ctx *ctx, const char *name, size_t rows,
                           size_t cols, size_t want_rows, size_t want_cols);
int opk_spans_overlap(opk_span a, opk_span b);

/* The answer for a kernel the context's backend has no implementation of
 * (a NULL table entry): OPK_ERR_UNSUPPORTED naming kernel and backend. */
opk_status opk_unported(const opk_ctx *ctx, const char *kernel);

/* Threads to use for `work` units of roughly `unit_bytes` each: one thread
 * for small problems (spawning costs more than it saves). */
int opk_threads_for(const opk_ctx *ctx, size_t work, size_t unit_bytes);

/* 64-byte aligned allocation (never for size 0: returns a valid pointer). */
void *opk_alloc(size_t bytes);
/* The same with a power-of-two alignment >= 64 (e.g. 2 MiB for huge pages);
 * freed with opk_free. */
void *opk_alloc_aligned(size_t bytes, size_t align);
/* A large buffer (2 MiB or more) on transparent huge pages where the system
 * offers them (a hint: elsewhere plain aligned memory); smaller ones as
 * opk_alloc. Random row reads of a big block (Chebyshev's T blocks) then
 * miss the TLB far less, and a big scratch (attention's scores) takes
 * thousands fewer page faults. Freed with opk_free. */
void *opk_alloc_huge(size_t bytes);
void opk_free(void *p);
/* malloc, calloc and realloc through the same failure-injection hook
 * (kernels/test_hooks.h) and live-block count as opk_alloc, for host
 * arrays (malloc-aligned only, exact size); freed with opk_free. Size 0
 * gives a valid block; opk_realloc(NULL, n) allocates, and on failure the
 * old block stays valid. */
void *opk_malloc(size_t bytes);
void *opk_calloc(size_t count, size_t size);
void *opk_realloc(void *p, size_t bytes);

#endif
