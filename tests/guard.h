/* Buffers that end right before an inaccessible page, so that a kernel
 * reading or writing past the last element faults (the test crashes)
 * instead of passing by luck: SPEC's "no reads past a row's end" made
 * checkable for masked and emulated tails alike. */
#ifndef OPK_TEST_GUARD_H
#define OPK_TEST_GUARD_H

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct guarded {
    void *base;     /* page-aligned allocation */
    size_t data_pages, page;
    float *data;    /* n floats ending at the guard page */
} guarded;

/* n >= 1 floats; returns 0 on success. */
static inline int guarded_alloc(guarded *g, size_t n)
{
    g->page = (size_t)sysconf(_SC_PAGESIZE);
    g->data_pages = (n * sizeof(float) + g->page - 1) / g->page;
    if (posix_memalign(&g->base, g->page, (g->data_pages + 1) * g->page))
        return -1;
    char *guard = (char *)g->base + g->data_pages * g->page;
    if (mprotect(guard, g->page, PROT_NONE)) {
        free(g->base);
        return -1;
    }
    g->data = (float *)guard - n;
    return 0;
}

static inline void guarded_free(guarded *g)
{
    char *guard = (char *)g->base + g->data_pages * g->page;
    mprotect(guard, g->page, PROT_READ | PROT_WRITE);
    free(g->base);
}

#endif
