/* libFuzzer harness: the public entry points outside the kernels and the
 * graph tooling: opk_hash and opk_fill (a matrix in the arena of
 * harness.h, any ld, NULL), opk_backend_parse (any text, NULL pointers),
 * opk_ctx_create and the context accessors (any config), the name and
 * availability queries (any enum value) and opk_cl_device_describe (any
 * index). Each answer must follow opk.h and SPEC 7: the statuses the
 * oracle predicts, a message on failure, outputs untouched on failure, and
 * results that agree with a second computation (a fill or hash of the same
 * matrix packed without padding). */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opk.h"

#include "harness.h"

static void expect(int ok, const char *what, opk_status st)
{
    if (!ok)
        fail(what, st, NULL);
}

static void status_ok(const char *what, opk_status st, int definite)
{
    expect(definite ? st == OPK_ERR_INVALID_ARG : st == OPK_OK, what, st);
    if (st != OPK_OK)
        expect(*opk_ctx_last_error(NULL) != 0, "no message", st);
}

/* ---- opk_fill, opk_hash ---- */
static void fill_hash(rd *r, float *arena, unsigned char *w)
{
    fmat m = make_mat(r, arena);
    const int do_fill = take(r, 1) & 1;
    opk_mat M = {m.data, m.rows, m.cols, m.ld};
    size_t n = m.rows * m.cols; /* only used when valid (no overflow) */
    if (do_fill) {
        uint64_t seed = take(r, 8);
        float lo = take_param(r), hi = take_param(r);
        int definite = mat_invalid(&m) || !isfinite(lo) || !isfinite(hi);
        if (!definite && !m.in_arena)
            return;
        opk_status st = opk_fill(seed, lo, hi, M);
        status_ok("fill: status differs from the oracle", st, definite);
        if (st != OPK_OK)
            return;
        mark(w, arena, &m);
        /* The same values packed (k is the row-major index, not ld's). */
        float *p = malloc(n ? n * sizeof *p : 1);
        if (!p)
            abort();
        opk_mat Pm = {p, m.rows, m.cols, m.cols};
        expect(opk_fill(seed, lo, hi, Pm) == OPK_OK, "fill: packed", OPK_OK);
        for (size_t i = 0; m.cols && i < m.rows; i++) /* no ld when empty */
            expect(!memcmp(p + i * m.cols, m.data + i * m.ld, m.cols * 4),
                   "fill: depends on ld", OPK_OK);
        free(p);
    } else {
        uint64_t h = 0x0123456789abcdefu, *hp = (take(r, 1) & 15) ? &h : NULL;
        int definite = mat_invalid(&m) || !hp;
        if (!definite && !m.in_arena)
            return;
        opk_cmat C = {m.data, m.rows, m.cols, m.ld};
        opk_status st = opk_hash(C, hp);
        status_ok("hash: status differs from the oracle", st, definite);
        if (st != OPK_OK) {
            expect(h == 0x0123456789abcdefu, "hash: written on failure", st);
            return;
        }
        float *p = malloc(n ? n * sizeof *p : 1);
        if (!p)
            abort();
        for (size_t i = 0; m.cols && i < m.rows; i++)
            memcpy(p + i * m.cols, m.data + i * m.ld, m.cols * 4);
        opk_cmat Pc = {p, m.rows, m.cols, m.cols};
        uint64_t h2 = 0;
        expect(opk_hash(Pc, &h2) == OPK_OK && h2 == h, "hash: depends on ld", OPK_OK);
        free(p);
    }
}

/* ---- opk_backend_parse ---- */
static const char *const names[OPK_BACKEND_COUNT] = {"auto", "scalar", "avx2",
                                                     "avx512", "neon", "opencl"};

/* The strict reading: a name, or opencl:P:D with P and D plain decimal
 * numbers <= INT_MAX (no spaces, no signs). 0: invalid, 1: valid. */
static int strict(const char *s, int *b, long *p, long *d)
{
    for (int i = 0; i < OPK_BACKEND_COUNT; i++)
        if (!strcmp(s, names[i]))
            return *b = i, *p = *d = 0, 1;
    if (strncmp(s, "opencl:", 7))
        return 0;
    const char *c = s + 7;
    long v[2];
    for (int k = 0; k < 2; k++) {
        if (*c < '0' || *c > '9')
            return 0;
        v[k] = 0;
        for (; *c >= '0' && *c <= '9'; c++)
            if ((v[k] = v[k] * 10 + (*c - '0')) > INT_MAX)
                return 0;
        if (*c != (k ? '\0' : ':'))
            return 0;
        c++;
    }
    *b = OPK_BACKEND_OPENCL, *p = v[0], *d = v[1];
    return 1;
}

static void backend_parse(rd *r)
{
    char s[40];
    uint8_t kind = (uint8_t)take(r, 1);
    size_t len = (size_t)take(r, 1) % 32, k = 0;
    if (kind % 4 == 0) { /* a name, then bytes */
        const char *nm = names[kind / 4 % OPK_BACKEND_COUNT];
        k = strlen(nm);
        memcpy(s, nm, k);
        if (kind & 0x80)
            len = 0;
    } else if (kind % 4 == 1) { /* opencl: and digit-ish bytes */
        memcpy(s, "opencl:", 7), k = 7;
    }
    for (size_t i = 0; i < len && k + 1 < sizeof s; i++) {
        uint8_t c = (uint8_t)take(r, 1);
        s[k++] = kind % 4 == 1 && c < 224 ? "0123456789:"[c % 11] : (char)(c ? c : 'x');
    }
    s[k] = 0;
    uint8_t np = (uint8_t)take(r, 1);
    const char *sp = np % 32 == 0 ? NULL : s;
    opk_backend b = (opk_backend)77, *bp = np % 32 == 1 ? NULL : &b;
    int p = -5, d = -6, *pp = np & 32 ? NULL : &p, *dp = np & 64 ? NULL : &d;
    opk_status st = opk_backend_parse(sp, bp, pp, dp);
    int want_b = -1;
    long want_p = -1, want_d = -1;
    int sv = sp ? strict(s, &want_b, &want_p, &want_d) : 0;
    if (!sp || !bp)
        status_ok("backend_parse: NULL accepted", st, 1);
    else
        status_ok("backend_parse: status differs from the oracle", st, !sv);
    if (st != OPK_OK) {
        expect(b == (opk_backend)77 && p == -5 && d == -6,
               "backend_parse: written on failure", st);
    } else {
        expect((unsigned)b < OPK_BACKEND_COUNT && (!pp || p >= 0) && (!dp || d >= 0) &&
                   (b == OPK_BACKEND_OPENCL || ((!pp || p == 0) && (!dp || d == 0))),
               "backend_parse: bad result", st);
        if (sv == 1)
            expect((int)b == want_b && (!pp || p == want_p) && (!dp || d == want_d),
                   "backend_parse: wrong result", st);
    }
}

/* ---- opk_ctx_create and the accessors ---- */
static void ctx_create(rd *r)
{
    opk_config cfg = opk_config_default();
    uint8_t m = (uint8_t)take(r, 1);
    cfg.backend = (opk_backend)(m < 224 ? m % OPK_BACKEND_COUNT : (int)(int8_t)take(r, 1));
    uint8_t t = (uint8_t)take(r, 1);
    cfg.num_threads = t < 200 ? t % 9 : t < 230 ? -1 - t % 3 : t == 255 ? INT_MIN : INT_MAX;
    cfg.cl_platform = (int)(int8_t)take(r, 1), cfg.cl_device = (int)(int8_t)take(r, 1);
    if (cfg.backend == OPK_BACKEND_OPENCL)
        return; /* device contexts: test_opencl (slow, and PoCL under ASan) */
    uint8_t np = (uint8_t)take(r, 1);
    const opk_config *cp = np % 16 == 0 ? NULL : &cfg;
    opk_ctx *ctx = (opk_ctx *)&cfg, **out = np % 16 == 1 ? NULL : &ctx;
    opk_status st = opk_ctx_create(cp, out);
    const opk_config c = cp ? cfg : opk_config_default();
    int bad = !out || (unsigned)c.backend >= OPK_BACKEND_COUNT || c.num_threads < 0 ||
              c.num_threads > 4096 || c.cl_platform < 0 || c.cl_device < 0;
    if (bad) {
        status_ok("ctx_create: status differs from the oracle", st, 1);
    } else if (c.backend != OPK_BACKEND_AUTO && !opk_backend_available(c.backend)) {
        expect(st == OPK_ERR_UNSUPPORTED && *opk_ctx_last_error(NULL),
               "ctx_create: an unusable backend", st);
    } else {
        expect(st == OPK_OK, "ctx_create: a valid config refused", st);
    }
    if (out && st != OPK_OK)
        expect(ctx == NULL, "ctx_create: *ctx not NULL on failure", st);
    if (st != OPK_OK)
        return;
    opk_backend b = opk_ctx_backend(ctx);
    expect(opk_backend_available(b) &&
               (c.backend == OPK_BACKEND_AUTO || b == c.backend),
           "ctx_create: backend", st);
    expect(c.num_threads ? opk_ctx_num_threads(ctx) == c.num_threads
                         : opk_ctx_num_threads(ctx) >= 1,
           "ctx_create: threads", st);
    expect(opk_ctx_bitwise(ctx) == 1 && !*opk_ctx_last_error(ctx),
           "ctx_create: fresh context", st);
    opk_ctx_destroy(ctx);
}

/* ---- names, availability, OpenCL devices ---- */
static void queries(rd *r)
{
    int v = (int)(int32_t)take(r, 4), k = (int)(int8_t)take(r, 1);
    if (take(r, 1) & 1)
        v %= 8; /* mostly near the valid range */
    const char *s1 = opk_backend_name((opk_backend)v);
    const char *s2 = opk_kernel_name((opk_kernel)k);
    const char *s3 = opk_status_str((opk_status)v);
    const char *s4 = opk_backend_unavailable_reason((opk_backend)v);
    expect(s1 && s2 && s3 && s4 && *s1 && *s2 && *s3, "names: NULL or empty", OPK_OK);
    expect(((unsigned)v < OPK_BACKEND_COUNT) == (strcmp(s1, "?") != 0),
           "backend_name: range", OPK_OK);
    expect(((unsigned)k < OPK_KERNEL_COUNT) == (strcmp(s2, "?") != 0),
           "kernel_name: range", OPK_OK);
    int av = opk_backend_available((opk_backend)v);
    expect((av == 0 || av == 1) && (!av || ((unsigned)v < OPK_BACKEND_COUNT && v != 0)) &&
               (!av || !*s4),
           "backend_available", OPK_OK);
    int im = opk_backend_implements((opk_backend)v, (opk_kernel)k);
    expect((im == 0 || im == 1) && (!im || (av && (unsigned)k < OPK_KERNEL_COUNT)),
           "backend_implements", OPK_OK);
    opk_cl_device_info info, copy;
    memset(&info, 0x5a, sizeof info);
    memcpy(&copy, &info, sizeof info);
    int n = opk_cl_device_count();
    opk_status st = opk_cl_device_describe(v, (k & 1) ? &info : NULL);
    int valid = (k & 1) && v >= 0 && v < n;
    expect(valid ? st == OPK_OK : st != OPK_OK && *opk_ctx_last_error(NULL),
           "cl_device_describe: status", st);
    if (st != OPK_OK)
        expect(!memcmp(&info, &copy, sizeof info), "cl_device_describe: written", st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static float *arena;
    static unsigned char *w;
    arena_reset(&arena, &w, 3, -2.0f, 2.0f, 83);
    rd r = {data, size};
    switch (take(&r, 1) % 4) {
    case 0: fill_hash(&r, arena, w); break;
    case 1: backend_parse(&r); break;
    case 2: ctx_create(&r); break;
    case 3: queries(&r); break;
    }
    for (size_t i = 0; i < ARENA; i++)
        if (!w[i] && memcmp(&arena[i], &pristine[i], sizeof(float))) {
            fprintf(stderr, "fuzz_api: element %zu outside the output was written\n", i);
            abort();
        }
    return 0;
}
