/* Golden conformance cases (SPEC 4): parsing tests/golden/conformance.tsv,
 * building each case's canonical inputs, running it on a context, hashing
 * the outputs and measuring the error against a double-precision
 * evaluation. Shared by `opk verify`, the tests and the regeneration driver. */
#ifndef OPK_GOLDEN_H
#define OPK_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#include "opk.h"

#define GOLDEN_MAX_OUT 4

typedef struct golden_case {
    int line;
    char kernel[24];
    char name[64];
    char params[512];
    char expect[256]; /* "Y=0123456789abcdef f=…" or "-" when not yet made */
} golden_case;

typedef struct golden_result {
    int nout;
    char out[GOLDEN_MAX_OUT][8]; /* output names, e.g. "Y" */
    uint64_t hash[GOLDEN_MAX_OUT];
    double max_err; /* error metric vs the double evaluation (see refdouble.h) */
    double tol;     /* the stated bound for that metric */
    opk_status status;
    char msg[256];
} golden_result;

/* The golden file compiled into this build. */
extern const char opk_golden_tsv[];

/* Parses TSV text into a malloc'ed array. Returns 0, or -1 with err set. */
int golden_parse(const char *text, golden_case **cases, size_t *n, char *err,
                 size_t errlen);
/* Reads and parses a file. */
int golden_load(const char *path, golden_case **cases, size_t *n, char *err,
                size_t errlen);

/* Parameter access ("key=value" words). Return 0 if found and well formed. */
int golden_get_size(const golden_case *c, const char *key, size_t *v);
int golden_get_u64(const golden_case *c, const char *key, uint64_t *v);
int golden_get_float(const golden_case *c, const char *key, float *v);
int golden_get_str(const golden_case *c, const char *key, char *v, size_t n);
/* Expected hash of output `out`; 0 if present. */
int golden_expected(const golden_case *c, const char *out, uint64_t *h);

/* Runs the case on ctx. with_ref: also evaluate in double (slower). Returns
 * 0 if the kernel ran; -1 if the case is malformed or the call failed (the
 * status and message are in r). */
int golden_run(opk_ctx *ctx, const golden_case *c, int with_ref,
               golden_result *r);
/* 1 if every output's hash equals the expected one. */
int golden_matches(const golden_case *c, const golden_result *r);
/* Whether this build can run cases of the kernel. */
int golden_kernel_known(const char *kernel);

/* Per-kernel runners (cases_<kernel>.c). */
int golden_run_softmax(opk_ctx *ctx, const golden_case *c, int with_ref,
                       golden_result *r);
int golden_run_sinkhorn(opk_ctx *ctx, const golden_case *c, int with_ref,
                        golden_result *r);

int golden_run_attention(opk_ctx *ctx, const golden_case *c, int with_ref,
                         golden_result *r);
/* "softmax" | "sinkhorn" | "linear" | "sigmoid" to an opk_norm; 0 if known. */
int golden_parse_norm(const char *s, opk_norm *norm);
int golden_run_cheb(opk_ctx *ctx, const golden_case *c, int with_ref,
                    golden_result *r);

/* Helpers for runners. */
int golden_bad(golden_result *r, const char *fmt, ...);
void golden_add_hash(golden_result *r, const char *name, opk_cmat M);
/* A matrix with ld = cols + pad whose padding holds NaN (never read). */
float *golden_matrix(size_t rows, size_t cols, size_t pad);

#endif
