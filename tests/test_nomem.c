/* Allocation failure injection (kernels/test_hooks.h): for every kernel
 * case and backend, fail the k-th opk_alloc for k = 1, 2, ... until the
 * call succeeds. Each failing call must return OPK_ERR_NOMEM with a
 * message, leave its outputs bit for bit untouched and free what it had
 * allocated (the live-block counter here; LeakSanitizer in the sanitizer
 * build). A call may also absorb a failed allocation of an optional buffer
 * (the SIMD softmax's overlap buffers: same bits, more traffic); then its
 * result must be the uninjected one bit for bit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/test_hooks.h"
#include "backends.h"
#include "check.h"

#define MAX_K 1000 /* no kernel makes this many allocations per call */

/* One call of a kernel: inputs are made by the case itself from `in`
 * (canonical data), every output lies in out[0..nout). */
typedef struct nm_case {
    const char *name;
    size_t nout;
    int inplace; /* out starts as a copy of in (the call works in place) */
    opk_status (*run)(opk_ctx *ctx, const float *in, float *out);
} nm_case;

#define SM_R 37
#define SM_C 53
static opk_status sm(opk_ctx *ctx, const float *in, float *out, opk_axis a,
                     unsigned f)
{
    opk_cmat X = {in, SM_R, SM_C, SM_C};
    opk_mat Y = {out, SM_R, SM_C, SM_C};
    return opk_softmax(ctx, X, Y, 0.75f, a, f);
}
static opk_status sm_rows(opk_ctx *c, const float *i, float *o) { return sm(c, i, o, OPK_ROWS, 0); }
static opk_status sm_cols(opk_ctx *c, const float *i, float *o) { return sm(c, i, o, OPK_COLS, 0); }
static opk_status sm_rows_log(opk_ctx *c, const float *i, float *o) { return sm(c, i, o, OPK_ROWS, OPK_LOG); }
static opk_status sm_cols_log(opk_ctx *c, const float *i, float *o) { return sm(c, i, o, OPK_COLS, OPK_LOG); }
static opk_status sm_inplace(opk_ctx *c, const float *i, float *o)
{
    (void)i;
    opk_mat Y = {o, SM_R, SM_C, SM_C};
    return opk_softmax(c, opk_cmat_of(Y), Y, 1.0f, OPK_ROWS, 0);
}

/* Sinkhorn: f (SK_N), g (SK_M) and P (SK_N x SK_M) are the outputs; the
 * info struct is checked through them (it is written only on success). */
#define SK_N 29
#define SK_M 41
static opk_status sk(opk_ctx *ctx, const float *in, float *out, int with_masses)
{
    static float a[SK_N], b[SK_M];
    float sa = 0.0f, sb = 0.0f;
    for (int i = 0; i < SK_N; i++)
        sa += a[i] = 0.5f + (float)(i % 5) * 0.25f;
    for (int j = 0; j < SK_M; j++)
        sb += b[j] = 0.5f + (float)(j % 3) * 0.5f;
    for (int j = 0; j < SK_M; j++)
        b[j] = b[j] * (sa / sb);
    opk_cmat S = {in, SK_N, SK_M, SK_M};
    opk_mat P = {out + SK_N + SK_M, SK_N, SK_M, SK_M};
    opk_sinkhorn_opts o = opk_sinkhorn_opts_default();
    o.max_iter = 25;
    opk_sinkhorn_info info;
    return opk_sinkhorn(ctx, S, -0.5f, with_masses ? a : NULL,
                        with_masses ? b : NULL, &o, out, out + SK_N, &P, &info);
}
static opk_status sk_plain(opk_ctx *c, const float *i, float *o) { return sk(c, i, o, 0); }
static opk_status sk_masses(opk_ctx *c, const float *i, float *o) { return sk(c, i, o, 1); }

/* Attention: Q n x d, K and V m x d (m = n, so H may be NULL), O n x d. */
#define AT_N 19
#define AT_D 8
static opk_status at(opk_ctx *ctx, const float *in, float *out, opk_norm nm)
{
    opk_cmat Q = {in, AT_N, AT_D, AT_D};
    opk_cmat K = {in + AT_N * AT_D, AT_N, AT_D, AT_D};
    opk_cmat V = {in + 2 * AT_N * AT_D, AT_N, AT_D, AT_D};
    opk_mat O = {out, AT_N, AT_D, AT_D};
    opk_attention_opts o = opk_attention_opts_default();
    o.norm = nm;
    o.tau = 0.75f;
    return opk_attention(ctx, Q, K, V, NULL, &o, O);
}
static opk_status at_softmax(opk_ctx *c, const float *i, float *o) { return at(c, i, o, OPK_NORM_SOFTMAX); }
static opk_status at_sinkhorn(opk_ctx *c, const float *i, float *o) { return at(c, i, o, OPK_NORM_SINKHORN); }
static opk_status at_linear(opk_ctx *c, const float *i, float *o) { return at(c, i, o, OPK_NORM_LINEAR); }
static opk_status at_sigmoid(opk_ctx *c, const float *i, float *o) { return at(c, i, o, OPK_NORM_SIGMOID); }

/* Chebyshev propagation on a ring of CH_N nodes, F features, order 5. */
#define CH_N 23
#define CH_F 6
static opk_status ch(opk_ctx *ctx, const float *in, float *out)
{
    static int64_t rp[CH_N + 1];
    static int32_t ci[2 * CH_N];
    static float v[2 * CH_N];
    for (int i = 0; i < CH_N; i++) {
        rp[i + 1] = 2 * (i + 1);
        ci[2 * i] = (i + CH_N - 1) % CH_N, ci[2 * i + 1] = (i + 1) % CH_N;
        v[2 * i] = v[2 * i + 1] = -0.5f;
    }
    opk_csr L = {CH_N, CH_N, 2 * CH_N, rp, ci, v};
    const float c[6] = {0.5f, -0.25f, 0.125f, 0.0625f, -0.03125f, 0.015625f};
    opk_cmat X = {in, CH_N, CH_F, CH_F};
    opk_mat Y = {out, CH_N, CH_F, CH_F};
    return opk_cheb(ctx, L, -1.0f, 1.0f, c, 5, X, Y);
}

static const nm_case cases[] = {
    {"attention softmax", AT_N * AT_D, 0, at_softmax},
    {"attention sinkhorn", AT_N * AT_D, 0, at_sinkhorn},
    {"attention linear", AT_N * AT_D, 0, at_linear},
    {"attention sigmoid", AT_N * AT_D, 0, at_sigmoid},
    {"cheb", CH_N * CH_F, 0, ch},
    {"sinkhorn", SK_N + SK_M + SK_N * SK_M, 0, sk_plain},
    {"sinkhorn masses", SK_N + SK_M + SK_N * SK_M, 0, sk_masses},
    {"softmax rows", SM_R * SM_C, 0, sm_rows},
    {"softmax cols", SM_R * SM_C, 0, sm_cols},
    {"softmax rows log", SM_R * SM_C, 0, sm_rows_log},
    {"softmax cols log", SM_R * SM_C, 0, sm_cols_log},
    {"softmax in place", SM_R * SM_C, 1, sm_inplace},
};
#define NCASES (sizeof cases / sizeof cases[0])

#define IN_N 65536
static float in[IN_N];

static void prime(float *out, const nm_case *c)
{
    if (c->inplace)
        memcpy(out, in, c->nout * sizeof *out);
    else
        for (size_t i = 0; i < c->nout; i++) {
            uint32_t u = 0x7fa5a5a5u; /* a NaN no kernel produces */
            memcpy(&out[i], &u, sizeof u);
        }
}

/* Creating a context: every failing allocation is OPK_ERR_NOMEM, no leak. */
static void ctx_creation(opk_backend b)
{
    for (long k = 1; k <= MAX_K; k++) {
        opk_config cfg = opk_config_default();
        cfg.backend = b;
        opk_ctx *ctx = (opk_ctx *)1;
        long live = opk_test_alloc_live();
        opk_test_fail_alloc_at(k);
        opk_status st = opk_ctx_create(&cfg, &ctx);
        long calls = opk_test_alloc_calls();
        opk_test_fail_alloc_at(0);
        if (st == OPK_OK && calls < k) {
            opk_ctx_destroy(ctx);
            CHECK(opk_test_alloc_live() == live, "ctx %s: leak after destroy",
                  opk_backend_name(b));
            printf("ctx_create %-7s: %ld allocation(s), each failure checked\n",
                   opk_backend_name(b), k - 1);
            return;
        }
        CHECK(st == OPK_ERR_NOMEM, "ctx %s k=%ld: %s (%s)", opk_backend_name(b),
              k, opk_status_str(st), opk_ctx_last_error(NULL));
        CHECK(ctx == NULL, "ctx %s k=%ld: *ctx not NULL on failure",
              opk_backend_name(b), k);
        CHECK(opk_test_alloc_live() == live, "ctx %s k=%ld: %ld block(s) leaked",
              opk_backend_name(b), k, opk_test_alloc_live() - live);
        if (st == OPK_OK)
            opk_ctx_destroy(ctx);
        if (st != OPK_ERR_NOMEM)
            return;
    }
    CHECK(0, "ctx %s: still failing after %d allocations", opk_backend_name(b), MAX_K);
}

static void one_case(opk_backend b, const nm_case *c)
{
    float *want = malloc(c->nout * sizeof *want);
    float *out = malloc(c->nout * sizeof *out);
    float *before = malloc(c->nout * sizeof *out);
    if (!want || !out || !before) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    opk_ctx *ctx = test_ctx(b, 0);
    prime(want, c);
    opk_status st = c->run(ctx, in, want);
    opk_ctx_destroy(ctx);
    if (st == OPK_ERR_UNSUPPORTED) {
        printf("%-18s %-7s: not implemented there\n", c->name, opk_backend_name(b));
        free(want), free(out), free(before);
        return;
    }
    CHECK_ST(st, OPK_OK);
    long k, absorbed = 0;
    for (k = 1; k <= MAX_K; k++) {
        /* A fresh context each time: first-call allocations (an OpenCL
         * program's source) are then part of every run. */
        ctx = test_ctx(b, 0);
        prime(out, c);
        memcpy(before, out, c->nout * sizeof *out);
        long live = opk_test_alloc_live();
        opk_test_fail_alloc_at(k);
        st = c->run(ctx, in, out);
        long calls = opk_test_alloc_calls();
        opk_test_fail_alloc_at(0);
        if (st == OPK_OK) {
            /* Done (calls < k: nothing failed), or a failure absorbed by
             * a fallback: either way the uninjected bits, no leak. */
            CHECK(!memcmp(out, want, c->nout * sizeof *out),
                  "%s %s k=%ld: result differs from the uninjected run",
                  c->name, opk_backend_name(b), k);
            CHECK(opk_test_alloc_live() == live, "%s %s k=%ld: %ld block(s) leaked",
                  c->name, opk_backend_name(b), k, opk_test_alloc_live() - live);
            opk_ctx_destroy(ctx);
            if (calls < k)
                break;
            absorbed++;
            continue;
        }
        CHECK(st == OPK_ERR_NOMEM, "%s %s k=%ld: %s, want OPK_ERR_NOMEM",
              c->name, opk_backend_name(b), k, opk_status_str(st));
        CHECK(*opk_ctx_last_error(ctx), "%s %s k=%ld: no message", c->name,
              opk_backend_name(b), k);
        CHECK(!memcmp(out, before, c->nout * sizeof *out),
              "%s %s k=%ld: outputs written by a failing call", c->name,
              opk_backend_name(b), k);
        CHECK(opk_test_alloc_live() == live, "%s %s k=%ld: %ld block(s) leaked",
              c->name, opk_backend_name(b), k, opk_test_alloc_live() - live);
        opk_ctx_destroy(ctx);
    }
    CHECK(k <= MAX_K, "%s %s: never succeeded", c->name, opk_backend_name(b));
    printf("%-18s %-7s: %ld allocation(s), each failure checked (%ld absorbed "
           "by a same-bits fallback)\n",
           c->name, opk_backend_name(b), k - 1, absorbed);
    free(want), free(out), free(before);
}

int main(void)
{
    opk_mat I = {in, 1, IN_N, IN_N};
    opk_fill(7, -6.0f, 9.0f, I);
    opk_backend list[OPK_BACKEND_COUNT];
    int nb = test_backends(list);
    for (int i = 0; i < nb; i++) {
        ctx_creation(list[i]);
        for (size_t c = 0; c < NCASES; c++)
            one_case(list[i], &cases[c]);
    }
    return check_summary("test_nomem");
}
