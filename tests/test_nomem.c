/* Allocation failure injection (kernels/test_hooks.h): for every kernel
 * case and backend, and for the host helpers (graphs, Laplacians, lmax,
 * Chebyshev coefficients, .mtx reading), fail the k-th allocation for
 * k = 1, 2, ... until the call succeeds. Each failing call must return OPK_ERR_NOMEM with a
 * message, leave its outputs bit for bit untouched and free what it had
 * allocated (the live-block counter here; LeakSanitizer in the sanitizer
 * build). A call may also absorb a failed allocation of an optional buffer
 * (the SIMD softmax's overlap buffers: same bits, more traffic); then its
 * result must be the uninjected one bit for bit. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- Host helpers (graph tooling): no backend, their own outputs ---- */

/* One call: `out` is an opk_csr the call allocates (csr = 1), or nfloat
 * floats. The message is opk_ctx_last_error(ctx) for opk_lmax, else
 * opk_ctx_last_error(NULL). */
typedef struct hm_case {
    const char *name;
    int csr;
    size_t nfloat;
    int ctx_msg; /* the message is the context's */
    opk_status (*run)(opk_ctx *ctx, void *out);
} hm_case;

/* Inputs made once with the hook off (hm_inputs). */
#define ED_N 21 /* node 20 is isolated */
static const int32_t ed_u[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 3, 3, 11, 12,
                               13, 14, 15, 16, 17, 18, 19, 5, 2, 7, 7};
static const int32_t ed_v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 5, 0, 3, 12, 13,
                               14, 15, 16, 17, 18, 19, 11, 0, 9, 1, 8};
#define ED_M (sizeof ed_u / sizeof ed_u[0])
static opk_csr hm_adj;        /* graph of the edges above */
static opk_csr hm_sym, hm_rw; /* its symmetric and random-walk Laplacians */
/* A weighted symmetric adjacency with unsorted rows, a duplicate (0,1)
 * split in two and a self-loop: the canonical sums run. */
static const int64_t wa_rp[] = {0, 3, 5, 7, 8};
static const int32_t wa_ci[] = {2, 1, 1, 0, 3, 0, 2, 1};
static const float wa_v[] = {0.5f, 1.0f, 0.25f, 1.25f, 2.0f, 0.5f, 3.0f, 2.0f};
static const opk_csr hm_w = {4, 4, 8, wa_rp, wa_ci, wa_v};
/* Matrix Market texts: small general with duplicates, symmetric pattern,
 * and one long enough (a 600-character comment, 1500 entries) to grow the
 * line buffer and the entry arrays several times. */
static const char mtx_general[] =
    "%%MatrixMarket matrix coordinate real general\n% duplicates summed\n"
    "3 4 5\n1 2 0.5\n3 4 -1\n1 2 0.25\n2 1 7\n3 1 0\n";
static const char mtx_sympat[] =
    "%%MatrixMarket matrix coordinate pattern symmetric\n4 4 4\n1 1\n2 1\n"
    "4 2\n3 3\n";
static char *mtx_big;
static size_t mtx_big_len;
static char mtx_path[64];

static opk_status hm_edges(opk_ctx *c, void *o)
{
    (void)c;
    return opk_graph_from_edges(ED_N, ED_M, ed_u, ed_v, o);
}
static opk_status hm_grid(opk_ctx *c, void *o)
{
    (void)c;
    return opk_graph_grid(5, 6, 11, 3, o);
}
static opk_status hm_lap_comb(opk_ctx *c, void *o)
{
    (void)c;
    return opk_laplacian(hm_adj, OPK_LAPLACIAN_COMBINATORIAL, o);
}
static opk_status hm_lap_sym(opk_ctx *c, void *o)
{
    (void)c;
    return opk_laplacian(hm_adj, OPK_LAPLACIAN_SYMMETRIC, o);
}
static opk_status hm_lap_rw(opk_ctx *c, void *o)
{
    (void)c;
    return opk_laplacian(hm_adj, OPK_LAPLACIAN_RANDOM_WALK, o);
}
static opk_status hm_lap_weighted(opk_ctx *c, void *o)
{
    (void)c;
    return opk_laplacian(hm_w, OPK_LAPLACIAN_SYMMETRIC, o);
}
static opk_status hm_lmax_sym(opk_ctx *c, void *o) { return opk_lmax(c, hm_sym, o); }
static opk_status hm_lmax_rw(opk_ctx *c, void *o) { return opk_lmax(c, hm_rw, o); }
static opk_status hm_coef_heat(opk_ctx *c, void *o)
{
    (void)c;
    return opk_cheb_coeffs(OPK_FILTER_HEAT, 0.7f, 9, 0.0f, 2.0f,
                           OPK_DAMPING_NONE, o);
}
static opk_status hm_coef_low(opk_ctx *c, void *o)
{
    (void)c;
    return opk_cheb_coeffs(OPK_FILTER_LOWPASS, 0.5f, 9, 0.0f, 2.0f,
                           OPK_DAMPING_JACKSON, o);
}
static double ramp(double l, void *user) { return *(const double *)user * l; }
static opk_status hm_coef_fn(opk_ctx *c, void *o)
{
    (void)c;
    static const double slope = -0.25;
    return opk_cheb_coeffs_fn(ramp, (void *)&slope, 79, -1.0f, 3.0f,
                              OPK_DAMPING_LANCZOS, o);
}
static opk_status hm_mtx_general(opk_ctx *c, void *o)
{
    (void)c;
    return opk_mtx_parse(mtx_general, sizeof mtx_general - 1, "general", o);
}
static opk_status hm_mtx_sympat(opk_ctx *c, void *o)
{
    (void)c;
    return opk_mtx_parse(mtx_sympat, sizeof mtx_sympat - 1, "sympat", o);
}
static opk_status hm_mtx_big(opk_ctx *c, void *o)
{
    (void)c;
    return opk_mtx_parse(mtx_big, mtx_big_len, "big", o);
}
static opk_status hm_mtx_read(opk_ctx *c, void *o)
{
    (void)c;
    return opk_mtx_read(mtx_path, o);
}

static const hm_case hcases[] = {
    {"graph_from_edges", 1, 0, 0, hm_edges},
    {"graph_grid", 1, 0, 0, hm_grid},
    {"laplacian comb", 1, 0, 0, hm_lap_comb},
    {"laplacian sym", 1, 0, 0, hm_lap_sym},
    {"laplacian rw", 1, 0, 0, hm_lap_rw},
    {"laplacian weighted", 1, 0, 0, hm_lap_weighted},
    {"lmax lanczos", 0, 1, 1, hm_lmax_sym},
    {"lmax gershgorin", 0, 1, 1, hm_lmax_rw},
    {"cheb_coeffs heat", 0, 10, 0, hm_coef_heat},
    {"cheb_coeffs lowpass", 0, 10, 0, hm_coef_low},
    {"cheb_coeffs_fn", 0, 80, 0, hm_coef_fn},
    {"mtx_parse general", 1, 0, 0, hm_mtx_general},
    {"mtx_parse sym", 1, 0, 0, hm_mtx_sympat},
    {"mtx_parse big", 1, 0, 0, hm_mtx_big},
    {"mtx_read", 1, 0, 0, hm_mtx_read},
};
#define NHCASES (sizeof hcases / sizeof hcases[0])

static void hm_inputs(void)
{
    opk_test_fail_alloc_at(0);
    if (opk_graph_from_edges(ED_N, ED_M, ed_u, ed_v, &hm_adj) ||
        opk_laplacian(hm_adj, OPK_LAPLACIAN_SYMMETRIC, &hm_sym) ||
        opk_laplacian(hm_adj, OPK_LAPLACIAN_RANDOM_WALK, &hm_rw)) {
        fprintf(stderr, "test_nomem: inputs: %s\n", opk_ctx_last_error(NULL));
        exit(1);
    }
    size_t cap = 64 << 10, n = 0;
    mtx_big = malloc(cap);
    if (!mtx_big)
        exit(1);
    n += (size_t)snprintf(mtx_big + n, cap - n,
                          "%%%%MatrixMarket matrix coordinate real general\n%%");
    for (int i = 0; i < 600; i++)
        mtx_big[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(mtx_big + n, cap - n, "\n40 50 1500\n");
    for (int e = 0; e < 1500; e++)
        n += (size_t)snprintf(mtx_big + n, cap - n, "%d %d %d.5\n",
                              1 + (e * 7) % 40, 1 + (e * 13) % 50, e % 9 - 4);
    mtx_big_len = n;
    snprintf(mtx_path, sizeof mtx_path, "/tmp/opk_nomem_XXXXXX");
    int fd = mkstemp(mtx_path);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f || fwrite(mtx_big, 1, n, f) != n || fclose(f)) {
        perror("test_nomem: temporary .mtx file");
        exit(1);
    }
}

static void hm_done(void)
{
    opk_csr_free(&hm_adj), opk_csr_free(&hm_sym), opk_csr_free(&hm_rw);
    free(mtx_big);
    remove(mtx_path);
}

/* Same matrix bit for bit (shape, row pointers, columns, values). */
static int csr_same(const opk_csr *a, const opk_csr *b)
{
    if (a->rows != b->rows || a->cols != b->cols || a->nnz != b->nnz)
        return 0;
    size_t nnz = (size_t)a->nnz;
    return !memcmp(a->row_ptr, b->row_ptr, ((size_t)a->rows + 1) * 8) &&
           !memcmp(a->col_idx, b->col_idx, nnz * 4) &&
           !memcmp(a->val, b->val, nnz * 4);
}

#define HM_OUT 512 /* bytes: an opk_csr or up to 128 floats */
static void one_host_case(opk_ctx *ctx, const hm_case *c)
{
    unsigned char want[HM_OUT], out[HM_OUT], before[HM_OUT];
    const size_t nb = c->csr ? sizeof(opk_csr) : c->nfloat * sizeof(float);
    memset(want, 0xa5, sizeof want); /* garbage a call must not keep */
    opk_status st = c->run(ctx, want);
    CHECK_ST(st, OPK_OK);
    if (st)
        return;
    long k;
    for (k = 1; k <= MAX_K; k++) {
        memset(out, 0x5a, sizeof out);
        memcpy(before, out, sizeof out);
        long live = opk_test_alloc_live();
        opk_test_fail_alloc_at(k);
        st = c->run(ctx, out);
        long calls = opk_test_alloc_calls();
        opk_test_fail_alloc_at(0);
        if (st == OPK_OK) {
            CHECK(calls < k, "%s k=%ld: the failed allocation went unnoticed",
                  c->name, k);
            if (c->csr) {
                CHECK(csr_same((opk_csr *)out, (opk_csr *)want),
                      "%s k=%ld: result differs from the uninjected run",
                      c->name, k);
                CHECK(opk_test_alloc_live() == live + 3,
                      "%s k=%ld: %ld block(s) live, want the result's 3",
                      c->name, k, opk_test_alloc_live() - live);
                opk_csr_free((opk_csr *)out);
            } else
                CHECK(!memcmp(out, want, nb),
                      "%s k=%ld: result differs from the uninjected run",
                      c->name, k);
            CHECK(opk_test_alloc_live() == live, "%s k=%ld: %ld block(s) leaked",
                  c->name, k, opk_test_alloc_live() - live);
            break;
        }
        const char *m = opk_ctx_last_error(c->ctx_msg ? ctx : NULL);
        CHECK(st == OPK_ERR_NOMEM, "%s k=%ld: %s (%s), want OPK_ERR_NOMEM",
              c->name, k, opk_status_str(st), m);
        CHECK(*m, "%s k=%ld: no message", c->name, k);
        CHECK(!memcmp(out, before, sizeof out),
              "%s k=%ld: outputs written by a failing call", c->name, k);
        CHECK(opk_test_alloc_live() == live, "%s k=%ld: %ld block(s) leaked",
              c->name, k, opk_test_alloc_live() - live);
        if (st != OPK_ERR_NOMEM)
            break;
    }
    CHECK(k <= MAX_K, "%s: never succeeded", c->name);
    if (c->csr)
        opk_csr_free((opk_csr *)want);
    printf("%-22s host   : %ld allocation(s), each failure checked\n", c->name,
           k - 1);
}

/* The OpenCL program cache's store (cl/cache.c): in an empty cache folder
 * a run compiles and writes the binary; a failed allocation of the binary
 * must only skip the write (same bits, no leak, no file). The load path is
 * covered by the cases above (a failed load compiles instead: absorbed). */
static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void rm_cache(const char *root)
{
    char p[256];
    snprintf(p, sizeof p, "%s/opk/cl", root);
    DIR *d = opendir(p);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            char f[512];
            snprintf(f, sizeof f, "%s/%s", p, e->d_name);
            remove(f);
        }
    if (d)
        closedir(d);
    rmdir(p);
    snprintf(p, sizeof p, "%s/opk", root);
    rmdir(p);
}

static void cl_cache_store(void)
{
    const nm_case *c = &cases[0];
    while (strcmp(c->name, "softmax rows"))
        c++;
    char dir[] = "/tmp/opk_nomem_cache_XXXXXX", sub[300];
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    const char *old = getenv("XDG_CACHE_HOME");
    char *saved = old ? strdup(old) : NULL;
    setenv("XDG_CACHE_HOME", dir, 1);
    snprintf(sub, sizeof sub, "%s/opk/cl", dir);
    float *want = malloc(c->nout * sizeof *want), *out = malloc(c->nout * sizeof *out);
    if (!want || !out)
        exit(1);
    opk_ctx *ctx = test_ctx(OPK_BACKEND_OPENCL, 0);
    prime(want, c);
    CHECK_ST(c->run(ctx, in, want), OPK_OK);
    opk_ctx_destroy(ctx);
    long k, absorbed = 0;
    for (k = 1; k <= MAX_K; k++) {
        rm_cache(dir);
        long live = opk_test_alloc_live();
        ctx = test_ctx(OPK_BACKEND_OPENCL, 0);
        prime(out, c);
        opk_test_fail_alloc_at(k);
        opk_status st = c->run(ctx, in, out);
        long calls = opk_test_alloc_calls();
        opk_test_fail_alloc_at(0);
        opk_ctx_destroy(ctx);
        CHECK(opk_test_alloc_live() == live, "cache k=%ld: %ld block(s) leaked",
              k, opk_test_alloc_live() - live);
        if (st == OPK_ERR_NOMEM)
            continue; /* a needed allocation (checked above) */
        CHECK_ST(st, OPK_OK);
        CHECK(!memcmp(out, want, c->nout * sizeof *out),
              "cache k=%ld: result differs from the uninjected run", k);
        if (calls < k) {
            CHECK(files_in(sub) == 1, "cache: %d file(s) after a clean run",
                  files_in(sub));
            break;
        }
        absorbed++;
        CHECK(files_in(sub) == 0, "cache k=%ld: a file written after the "
              "binary's allocation failed", k);
    }
    CHECK(absorbed >= 1, "cache: no allocation of the store was failed");
    printf("opencl cache store : %ld allocation(s) with an empty cache, %ld "
           "absorbed (nothing written)\n", k - 1, absorbed);
    rm_cache(dir);
    rmdir(dir);
    if (saved)
        setenv("XDG_CACHE_HOME", saved, 1), free(saved);
    else
        unsetenv("XDG_CACHE_HOME");
    free(want), free(out);
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
        if (list[i] == OPK_BACKEND_OPENCL)
            cl_cache_store();
    }
    /* Host code: the backend does not matter (opk_lmax's context only
     * gives its threads and its message slot). */
    hm_inputs();
    opk_ctx *ctx = test_ctx(nb ? list[0] : OPK_BACKEND_SCALAR, 0);
    for (size_t c = 0; c < NHCASES; c++)
        one_host_case(ctx, &hcases[c]);
    opk_ctx_destroy(ctx);
    hm_done();
    return check_summary("test_nomem");
}
