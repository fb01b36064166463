/* The benchmark registry of `opk bench`: one entry per kernel. A new kernel
 * adds a bench_<name>.c with its bench_kernel and one line in registry.c. */
#ifndef OPK_BENCH_H
#define OPK_BENCH_H

#include <stddef.h>

#include "opk.h"

#define BENCH_MAX_DIMS 4

/* One shape of a kernel: a variant (e.g. softmax "rows" or "cols"; may be
 * "") and its dimensions (ndims of the kernel's, e.g. rows x cols). */
typedef struct bench_shape {
    const char *variant;
    size_t dims[BENCH_MAX_DIMS];
} bench_shape;

/* Which machine limit a kernel's rate is compared to. */
typedef enum bench_limit_kind {
    BENCH_BANDWIDTH, /* rate in GB/s vs the triad bandwidth */
    BENCH_FMA_PEAK   /* rate in GFLOP/s vs the FMA peak of the backend's ISA */
} bench_limit_kind;

typedef struct bench_kernel {
    const char *name;
    opk_kernel op;                 /* backends that lack it are skipped */
    int ndims;                     /* dims per shape; --size gives them all */
    unsigned zero_dims;            /* bit i: dim i may be 0 (else >= 1) */
    /* Optional: a rule between the dims that --size must keep; NULL if
     * they do, else what they must be (e.g. "n = m"). */
    const char *(*size_rule)(const size_t *dims);
    const char *const *variants;   /* NULL-terminated; --size runs each */
    const bench_shape *shapes;     /* the default set */
    size_t nshapes;
    const bench_shape *quick;      /* the --quick set: runs in seconds */
    size_t nquick;
    bench_limit_kind limit;
    /* Bytes moved (BENCH_BANDWIDTH) or flops (BENCH_FMA_PEAK) of one call;
     * state is what setup made (a graph's nnz, say). */
    double (*work)(const bench_shape *s, const void *state);
    /* Optional, for a BENCH_BANDWIDTH kernel that also does real compute:
     * its flops per call. The row is then rated against whichever limit
     * bounds it (the larger of bytes / bandwidth and flops / FMA peak). */
    double (*flops)(const bench_shape *s, const void *state);
    /* Allocates and fills the operands (opk_fill) into *state; returns 0,
     * or -1 with a message in err. */
    int (*setup)(const bench_shape *s, void **state, char *err, size_t n);
    /* One call of the kernel. */
    opk_status (*run)(opk_ctx *ctx, void *state);
    void (*teardown)(void *state);
    /* Optional: a variant that times host code, not the backend's kernel
     * (a yardstick such as cheb's "gather"): it runs once, on the first
     * selected CPU backend's context (for its thread count). */
    const char *host_variant;
} bench_kernel;

/* All registered kernels, NULL-terminated. */
extern const bench_kernel *const bench_kernels[];
const bench_kernel *bench_kernel_find(const char *name);

/* "4096x4096": the dims joined by 'x'. */
void bench_shape_text(const bench_kernel *k, const bench_shape *s, char *buf,
                      size_t n);
/* Parses "RxC..." with exactly k->ndims dims into dims (positive unless
 * k->zero_dims allows 0, and keeping k->size_rule); returns 0, or -1 with
 * the reason in err. */
int bench_parse_size(const bench_kernel *k, const char *text,
                     size_t dims[BENCH_MAX_DIMS], char *err, size_t n);

/* 64-byte aligned float buffer (NULL on failure or byte-count overflow);
 * from 4 MiB on, 2 MiB aligned and advised to use huge pages, as NumPy's
 * large arrays are. */
float *bench_alloc_floats(size_t count);

extern const bench_kernel bench_softmax;
extern const bench_kernel bench_sinkhorn;
extern const bench_kernel bench_cheb;
extern const bench_kernel bench_attention;
extern const bench_kernel bench_attention_linear;

#endif
