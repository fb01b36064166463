/* The list of benchmarked kernels and helpers shared by their entries. */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include "bench.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const bench_kernel *const bench_kernels[] = {
    &bench_softmax,
    &bench_sinkhorn,
    &bench_cheb,
    &bench_attention,
    &bench_attention_linear,
    NULL,
};

const bench_kernel *bench_kernel_find(const char *name)
{
    for (int i = 0; bench_kernels[i]; i++)
        if (!strcmp(bench_kernels[i]->name, name))
            return bench_kernels[i];
    return NULL;
}

void bench_shape_text(const bench_kernel *k, const bench_shape *s, char *buf,
                      size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    for (int d = 0; d < k->ndims && used < n; d++) {
        int w = snprintf(buf + used, n - used, "%s%zu", d ? "x" : "",
                         s->dims[d]);
        if (w < 0)
            return;
        used += (size_t)w;
    }
}

int bench_parse_size(const bench_kernel *k, const char *text,
                     size_t dims[BENCH_MAX_DIMS], char *err, size_t n)
{
    const char *p = text;
    int d = 0;
    for (;;) {
        if (*p < '0' || *p > '9')
            break;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        /* Each dim at most 2^31: products of a few stay far from size_t. */
        if (errno || d == BENCH_MAX_DIMS || v > (1ull << 31) ||
            (v == 0 && !(k->zero_dims >> d & 1)))
            break;
        dims[d++] = (size_t)v;
        p = end;
        if (*p == 0 && d == k->ndims) {
            const char *rule = k->size_rule ? k->size_rule(dims) : NULL;
            if (!rule)
                return 0;
            snprintf(err, n, "--size: '%s': the %s bench needs %s", text,
                     k->name, rule);
            return -1;
        }
        if (*p != 'x' || d == k->ndims)
            break;
        p++;
    }
    char want[64] = "";
    for (int i = 0; i < k->ndims; i++)
        strcat(want, i ? "xN" : "N");
    snprintf(err, n,
             "--size: '%s' is not a shape of the %s bench (%s, each an "
             "integer in [%s, 2^31])",
             text, k->name, want, k->zero_dims ? "1 (0 where noted)" : "1");
    return -1;
}

/* Arrays of 4 MiB or more as NumPy allocates them on Linux (its default
 * since kernel 4.6), so that opk meets its operands where a NumPy caller's
 * would be: madvise(MADV_HUGEPAGE), here on 2 MiB boundaries so that every
 * page of the array can be huge. A hint; the kernel follows it when
 * transparent huge pages are set to madvise or always. Measured on the
 * 2-core development VM: Sinkhorn 4096^2 4-7% faster (fewer TLB misses,
 * presumably: the VM has no counters to show it), the triad unchanged. */
float *bench_alloc_floats(size_t count)
{
    const size_t huge = (size_t)2 << 20;
    void *p = NULL;
    if (count == 0 || count > SIZE_MAX / sizeof(float))
        return NULL;
    const size_t bytes = count * sizeof(float);
    if (posix_memalign(&p, bytes >= 2 * huge ? huge : 64, bytes))
        return NULL;
#ifdef MADV_HUGEPAGE
    if (bytes >= 2 * huge) /* a hint: whole 2 MiB pages only */
        madvise(p, bytes & ~(huge - 1), MADV_HUGEPAGE);
#endif
    return p;
}
