/* Linear-mode attention (SPEC 3.4): the zero-norm errors, on every usable
 * backend and several thread counts.
 * - a row is zero exactly when SPEC's dot(x, x) is +0: entries up to 2^-75
 *   in magnitude square to +0 (2^-150 rounds to even), so such a row is an
 *   error, and one entry just above 2^-75 makes it valid (with bits equal
 *   to the scalar reference);
 * - in a problem of several pieces of keys and of query rows, the first
 *   zero row is named (of Q before K), whichever thread finds it;
 * - O is untouched on every error;
 * - one key row with a huge ld for K and V (only row 0 exists, so any ld is
 *   valid) gives the bits of ld = d on every backend. (Forming a pointer
 *   past the operands there was undefined behaviour that clang's UBSan
 *   reports: the fuzz_attn_cheb finding, replayed from its corpus by
 *   tests/fuzz.sh; GCC's sanitizer build does not see it.)
 * - tau = 1 with H = V (H NULL), where the kernels read H only for zero
 *   results (opk_attn_linear.h_sign_only): the bits of the same call with
 *   H a copy of V (which reads it everywhere), for finite V, V with an inf
 *   or a NaN (no shortcut then), and a one-key problem whose B is -0, where
 *   H's sign shows.
 * - row scales whose dot is an input where SLEEF's sqrtf (Sq, SPEC 1) is
 *   not the IEEE square root: the bits of the scalar reference on every
 *   backend (OpenCL once took the device's sqrt there). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "check.h"
#include "opk.h"

static opk_backend backends[OPK_BACKEND_COUNT];
static int nbackends;
static const int threads[] = {1, 2, 3, 7};

typedef struct prob {
    size_t n, m, d, dv;
    size_t ldk, ldv; /* of K and V: d and dv unless a test sets them */
    float *q, *k, *v, *h, *o;
} prob;

static void prob_init(prob *p, size_t n, size_t m, size_t d, size_t dv,
                      uint64_t seed)
{
    p->n = n, p->m = m, p->d = d, p->dv = dv;
    p->ldk = d, p->ldv = dv;
    p->q = malloc(n * d * 4), p->k = malloc(m * d * 4);
    p->v = malloc(m * dv * 4), p->o = malloc(n * dv * 4);
    p->h = malloc(n * dv * 4);
    opk_fill(seed, -1.0f, 2.0f, (opk_mat){p->q, n, d, d});
    opk_fill(seed + 1, -1.0f, 2.0f, (opk_mat){p->k, m, d, d});
    opk_fill(seed + 2, -1.5f, 1.0f, (opk_mat){p->v, m, dv, dv});
    opk_fill(seed + 3, -1.0f, 1.0f, (opk_mat){p->h, n, dv, dv});
}

static void prob_free(prob *p)
{
    free(p->q), free(p->k), free(p->v), free(p->h), free(p->o);
}

/* Runs every backend and thread count; with want (a row name such as
 * "row 5 of Q"), expects that error and O untouched, else success with
 * the scalar reference's bits. */
static void expect(const prob *p, const char *want, const char *what)
{
    size_t no = p->n * p->dv;
    float *ref = malloc(no * 4), *mark = malloc(no * 4);
    for (size_t i = 0; i < no; i++)
        mark[i] = -7.0f;
    for (int bi = 0; bi < nbackends; bi++)
        for (int t = 0; t < 4; t++) {
            memcpy(p->o, mark, no * 4);
            opk_ctx *ctx = test_ctx(backends[bi], threads[t]);
            opk_attention_opts op = opk_attention_opts_default();
            op.norm = OPK_NORM_LINEAR;
            op.tau = 0.6f;
            opk_cmat V = {p->v, p->m, p->dv, p->ldv};
            opk_cmat H = {p->h, p->n, p->dv, p->dv};
            opk_status st = opk_attention(
                ctx, (opk_cmat){p->q, p->n, p->d, p->d},
                (opk_cmat){p->k, p->m, p->d, p->ldk}, V,
                p->n == p->m ? NULL : &H, &op,
                (opk_mat){p->o, p->n, p->dv, p->dv});
            const char *be = opk_backend_name(backends[bi]);
            if (want) {
                CHECK(st == OPK_ERR_INVALID_ARG, "%s %s, %d threads: got %s",
                      what, be, threads[t], opk_status_str(st));
                const char *msg = opk_ctx_last_error(ctx);
                CHECK(strstr(msg, want) != NULL,
                      "%s %s, %d threads: message '%s' does not name '%s'",
                      what, be, threads[t], msg, want);
                CHECK(!memcmp(p->o, mark, no * 4),
                      "%s %s, %d threads: output was written", what, be,
                      threads[t]);
            } else {
                CHECK_ST(st, OPK_OK);
                if (bi == 0 && t == 0)
                    memcpy(ref, p->o, no * 4);
                else
                    CHECK(!memcmp(p->o, ref, no * 4),
                          "%s %s, %d threads: bits differ from scalar", what,
                          be, threads[t]);
            }
            opk_ctx_destroy(ctx);
        }
    free(ref), free(mark);
}

/* Row r of x (d wide) made of entries of magnitude <= 2^-75 (and zeros),
 * or with one entry just above when above. */
static void tiny_row(float *x, size_t d, size_t r, int above)
{
    const float t = ldexpf(1.0f, -75);
    for (size_t c = 0; c < d; c++)
        x[r * d + c] = c % 3 == 0 ? t : c % 3 == 1 ? -t : 0.0f;
    if (above)
        x[r * d + d / 2] = nextafterf(t, 1.0f);
}

static void test_underflow(void)
{
    static const size_t ds[] = {1, 5, 16, 33};
    for (int i = 0; i < 4; i++) {
        size_t d = ds[i];
        prob p;
        prob_init(&p, 41, 37, d, 9, 100 + (uint64_t)i);
        char what[64];
        snprintf(what, sizeof what, "d %zu: tiny Q row", d);
        tiny_row(p.q, d, 17, 0);
        expect(&p, "row 17 of Q", what);
        tiny_row(p.q, d, 17, 1);
        snprintf(what, sizeof what, "d %zu: Q row just above", d);
        expect(&p, NULL, what);
        tiny_row(p.k, d, 36, 0);
        snprintf(what, sizeof what, "d %zu: tiny K row", d);
        expect(&p, "row 36 of K", what);
        tiny_row(p.k, d, 36, 1);
        snprintf(what, sizeof what, "d %zu: K row just above", d);
        expect(&p, NULL, what);
        prob_free(&p);
    }
}

/* Several pieces of keys and of query rows per thread. */
static void test_first_zero_row(void)
{
    prob p;
    prob_init(&p, 40000, 40000, 20, 7, 7);
    memset(p.k + 39990 * 20, 0, 20 * 4);
    expect(&p, "row 39990 of K", "big: zero K row");
    memset(p.k + 20001 * 20, 0, 20 * 4);
    expect(&p, "row 20001 of K", "big: two zero K rows");
    memset(p.q + 31000 * 20, 0, 20 * 4);
    expect(&p, "row 31000 of Q", "big: zero Q and K rows");
    memset(p.q + 12345 * 20, 0, 20 * 4);
    memset(p.q + 39999 * 20, 0, 20 * 4);
    expect(&p, "row 12345 of Q", "big: three zero Q rows");
    prob_free(&p);
}

/* dot((1, x), (1, x)) = 0x405ae03b, where Sq gives 0x3fecb616 and the
 * IEEE square root 0x3fecb617: in a Q row and a K row. */
static void test_sq_not_ieee(void)
{
    prob p;
    prob_init(&p, 9, 11, 2, 3, 21);
    const float x = 0x1.8e3cbep+0f;
    p.q[4 * 2] = 1.0f, p.q[4 * 2 + 1] = x;
    p.k[7 * 2] = 1.0f, p.k[7 * 2 + 1] = -x;
    expect(&p, NULL, "Sq not IEEE sqrt");
    prob_free(&p);
}

static void test_huge_ld(void)
{
    prob p;
    prob_init(&p, 1, 1, 3, 2, 91);
    float tight[2];
    expect(&p, NULL, "one key, ld = d");
    memcpy(tight, p.o, sizeof tight);
    /* 256 rows of it (a batch of keys) times 4 bytes wrap to -4096 */
    p.ldk = p.ldv = ((size_t)1 << 54) - 4;
    expect(&p, NULL, "one key, ld = 2^54 - 4");
    CHECK(!memcmp(p.o, tight, sizeof tight), "one key: a huge ld changes the bits");
    prob_free(&p);
}

/* One call with tau = 1 and H = NULL (hv = 0) or H = a copy of V (hv = 1);
 * nonzero status is a failure. */
static opk_status call_tau1(const prob *p, opk_backend b, int t, int hv,
                            float *o)
{
    opk_ctx *ctx = test_ctx(b, t);
    opk_attention_opts op = opk_attention_opts_default();
    op.norm = OPK_NORM_LINEAR;
    op.tau = 1.0f;
    float *hc = malloc(p->m * p->dv * 4);
    memcpy(hc, p->v, p->m * p->dv * 4);
    opk_cmat H = {hc, p->n, p->dv, p->dv};
    opk_status st = opk_attention(ctx, (opk_cmat){p->q, p->n, p->d, p->d},
                                  (opk_cmat){p->k, p->m, p->d, p->d},
                                  (opk_cmat){p->v, p->m, p->dv, p->dv},
                                  hv ? &H : NULL, &op,
                                  (opk_mat){o, p->n, p->dv, p->dv});
    free(hc);
    opk_ctx_destroy(ctx);
    return st;
}

/* Every backend and thread count: H = NULL gives the bits of H = copy. */
static void expect_h_copy(const prob *p, const char *what)
{
    size_t no = p->n * p->dv;
    float *ref = malloc(no * 4), *o = malloc(no * 4);
    for (int bi = 0; bi < nbackends; bi++)
        for (int t = 0; t < 4; t++) {
            const char *be = opk_backend_name(backends[bi]);
            /* Different marks: a call that writes nothing cannot match. */
            for (size_t i = 0; i < no; i++)
                ref[i] = 1.0f, o[i] = 2.0f;
            CHECK_ST(call_tau1(p, backends[bi], threads[t], 1, ref), OPK_OK);
            CHECK_ST(call_tau1(p, backends[bi], threads[t], 0, o), OPK_OK);
            CHECK(!memcmp(o, ref, no * 4),
                  "%s %s, %d threads: H = NULL and H = a copy of V differ",
                  what, be, threads[t]);
        }
    free(ref), free(o);
}

static void test_tau1_h_is_v(void)
{
    prob p;
    prob_init(&p, 3000, 3000, 24, 35, 55);
    expect_h_copy(&p, "tau 1, finite V");
    /* Q and K positive: the column of an inf in V is +inf in every B row,
     * and only the inf's own row of O is NaN (0 * inf in the mixing) */
    opk_fill(57, 0.5f, 2.0f, (opk_mat){p.q, p.n, p.d, p.d});
    opk_fill(58, 0.5f, 2.0f, (opk_mat){p.k, p.m, p.d, p.d});
    p.v[1234 * 35 + 17] = INFINITY;
    expect_h_copy(&p, "tau 1, an inf in V");
    p.v[1234 * 35 + 17] = NAN;
    expect_h_copy(&p, "tau 1, a NaN in V");
    prob_free(&p);
    /* One key and query q = -k: den = fl(1 - |k^|^2) is negative when
     * |k^|^2 rounds above 1, then B = +0 * rden = -0 for V's zero column,
     * and O = -0 + fl(0 * -0) = -0 needs H's sign. Scan k = (1, x) for it
     * on the scalar reference (H a copy: no shortcut). */
    prob_init(&p, 1, 1, 2, 2, 56);
    int found = 0;
    float o[2];
    for (int x = 1; x < 4096 && !found; x++) {
        p.k[0] = 1.0f, p.k[1] = (float)x / 4096.0f;
        p.q[0] = -p.k[0], p.q[1] = -p.k[1];
        p.v[0] = -0.0f, p.v[1] = 1.0f;
        found = call_tau1(&p, OPK_BACKEND_SCALAR, 1, 1, o) == OPK_OK &&
                o[0] == 0.0f && signbit(o[0]);
    }
    CHECK(found, "tau 1: no k = (1, x) gives B = -0 (the case is not tested)");
    if (found)
        expect_h_copy(&p, "tau 1, B = -0");
    prob_free(&p);
}

int main(void)
{
    nbackends = test_backends_for(OPK_KERNEL_ATTENTION, backends);
    printf("test_attention_linear: backends");
    for (int i = 0; i < nbackends; i++)
        printf(" %s", opk_backend_name(backends[i]));
    printf("\n");
    test_underflow();
    test_first_zero_row();
    test_huge_ld();
    test_sq_not_ieee();
    test_tau1_h_is_v();
    return check_summary("test_attention_linear");
}
