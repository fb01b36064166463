/* The OpenCL runtime (cl/): device listing and its fp capabilities, the
 * "tolerance only" test hook, device selection errors, failures that leave
 * the context usable (a buffer larger than the device allows, a program
 * that does not build), chunking under a small allocation limit, one
 * context shared by several threads, and the program cache on disk (write,
 * load, corrupt and stale files rebuilt, OPK_CL_CACHE=0, the HOME
 * fallback). The kernels' results themselves are checked by test_softmax
 * and test_golden, which run on every usable backend including opencl.
 * Exit status 77 (skipped) when no OpenCL device is usable. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE, mkdtemp */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../cl/hooks.h"
#include "backends.h"
#include "check.h"
#include "opk.h"

static opk_ctx *cl_ctx(int p, int d, opk_status *st)
{
    opk_config cfg = opk_config_default();
    cfg.backend = OPK_BACKEND_OPENCL;
    cfg.cl_platform = p;
    cfg.cl_device = d;
    opk_ctx *ctx = NULL;
    *st = opk_ctx_create(&cfg, &ctx);
    return ctx;
}

static int same_bits(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], 4) && !(isnan(a[i]) && isnan(b[i])))
            return 0;
    return 1;
}

/* Softmax on ctx and on the scalar reference, compared bit for bit. */
static int matches_scalar(opk_ctx *ctx, size_t rows, size_t cols, size_t ld,
                          opk_axis axis, unsigned flags, uint64_t seed)
{
    size_t n = rows * ld;
    float *x = malloc(n * 4), *y = malloc(n * 4), *r = malloc(n * 4);
    for (size_t i = 0; i < n; i++)
        x[i] = NAN, y[i] = r[i] = -3.0f;
    opk_fill(seed, -30.0f, 20.0f, (opk_mat){x, rows, cols, ld});
    x[seed % (rows * cols) / cols * ld + seed % cols] = -INFINITY;
    opk_ctx *ref = test_ctx(OPK_BACKEND_SCALAR, 1);
    opk_status s1 = opk_softmax(ref, (opk_cmat){x, rows, cols, ld},
                                (opk_mat){r, rows, cols, ld}, 1.25f, axis, flags);
    opk_status s2 = opk_softmax(ctx, (opk_cmat){x, rows, cols, ld},
                                (opk_mat){y, rows, cols, ld}, 1.25f, axis, flags);
    if (s2)
        fprintf(stderr, "opencl softmax: %s\n", opk_ctx_last_error(ctx));
    int ok = !s1 && !s2 && same_bits(r, y, n);
    opk_ctx_destroy(ref);
    free(x), free(y), free(r);
    return ok;
}

static void test_devices(void)
{
    int n = opk_cl_device_count();
    CHECK(n >= 1, "opencl is usable but lists %d devices", n);
    CHECK(opk_cl_platform_count() >= 1, "no platform");
    for (int i = 0; i < n; i++) {
        opk_cl_device_info d;
        CHECK_ST(opk_cl_device_describe(i, &d), OPK_OK);
        CHECK(d.index == i && d.platform >= 0 && d.device >= 0, "indices");
        CHECK(d.name[0] && d.platform_name[0] && d.version[0] &&
                  d.driver_version[0] && d.type[0],
              "device %d: empty names", i);
        CHECK(d.compute_units >= 1 && d.global_mem > 0 && d.max_alloc > 0 &&
                  d.max_alloc <= d.global_mem,
              "device %d: sizes", i);
        CHECK(d.bitwise == (d.fp_denorm && d.fp_fma &&
                            d.fp_correctly_rounded_divide_sqrt),
              "device %d: bitwise flag", i);
        printf("device %d:%d %s (%s): denorm %d fma %d correctly rounded "
               "divide/sqrt %d -> %s\n",
               d.platform, d.device, d.name, d.platform_name, d.fp_denorm,
               d.fp_fma, d.fp_correctly_rounded_divide_sqrt,
               d.bitwise ? "bitwise" : "tolerance only");
    }
    opk_cl_device_info d;
    CHECK_ST(opk_cl_device_describe(n, &d), OPK_ERR_INVALID_ARG);
    CHECK(strstr(opk_ctx_last_error(NULL), "index") != NULL, "names the index");
    CHECK_ST(opk_cl_device_describe(-1, &d), OPK_ERR_INVALID_ARG);
    CHECK_ST(opk_cl_device_describe(0, NULL), OPK_ERR_INVALID_ARG);

    /* The test hook that makes a device "tolerance only". */
    opk_cl_device_info d0;
    opk_cl_device_describe(0, &d0);
    setenv("OPK_CL_ASSUME_NO_DENORM", "1", 1);
    CHECK_ST(opk_cl_device_describe(0, &d), OPK_OK);
    CHECK(!d.fp_denorm && !d.bitwise, "OPK_CL_ASSUME_NO_DENORM");
    opk_status st;
    opk_ctx *ctx = cl_ctx(d0.platform, d0.device, &st);
    CHECK(ctx && opk_ctx_bitwise(ctx) == 0, "context on a tolerance-only device");
    CHECK(ctx && matches_scalar(ctx, 9, 33, 35, OPK_ROWS, 0, 5),
          "a tolerance-only device still runs");
    opk_ctx_destroy(ctx);
    unsetenv("OPK_CL_ASSUME_NO_DENORM");
    ctx = cl_ctx(d0.platform, d0.device, &st);
    CHECK(opk_ctx_bitwise(ctx) == d0.bitwise, "bitwise back");
    opk_ctx_destroy(ctx);
    opk_ctx *cpu = test_ctx(OPK_BACKEND_SCALAR, 1);
    CHECK(opk_ctx_bitwise(cpu) == 1 && opk_ctx_bitwise(NULL) == 0,
          "CPU backends are bitwise");
    opk_ctx_destroy(cpu);
}

static void test_selection(void)
{
    opk_status st;
    opk_ctx *ctx = cl_ctx(0, 99, &st);
    CHECK(st == OPK_ERR_BACKEND && !ctx, "opencl:0:99 gives %s",
          opk_status_str(st));
    CHECK(strstr(opk_ctx_last_error(NULL), "device index 99"),
          "message: %s", opk_ctx_last_error(NULL));
    ctx = cl_ctx(99, 0, &st);
    CHECK(st == OPK_ERR_BACKEND && !ctx, "opencl:99:0");
    CHECK(strstr(opk_ctx_last_error(NULL), "platform index 99"),
          "message: %s", opk_ctx_last_error(NULL));
    setenv("OPK_BACKEND", "opencl:0:99", 1);
    CHECK_ST(opk_ctx_create(NULL, &ctx), OPK_ERR_BACKEND);
    CHECK(strstr(opk_ctx_last_error(NULL), "opencl:0:99"), "env message: %s",
          opk_ctx_last_error(NULL));
    setenv("OPK_BACKEND", "opencl", 1);
    CHECK_ST(opk_ctx_create(NULL, &ctx), OPK_OK);
    CHECK(opk_ctx_backend(ctx) == OPK_BACKEND_OPENCL, "OPK_BACKEND=opencl");
    opk_ctx_destroy(ctx);
    /* Plain opencl keeps the config's device; opencl:P:D overrides it. */
    opk_config cfg = opk_config_default();
    cfg.cl_device = 99;
    CHECK_ST(opk_ctx_create(&cfg, &ctx), OPK_ERR_BACKEND);
    CHECK(strstr(opk_ctx_last_error(NULL), "device index 99"),
          "config device with OPK_BACKEND=opencl: %s", opk_ctx_last_error(NULL));
    setenv("OPK_BACKEND", "opencl:0:0", 1);
    CHECK_ST(opk_ctx_create(&cfg, &ctx), OPK_OK);
    opk_ctx_destroy(ctx);
    unsetenv("OPK_BACKEND");
    CHECK_ST(opk_ctx_create(NULL, &ctx), OPK_OK);
    CHECK(opk_ctx_backend(ctx) != OPK_BACKEND_OPENCL, "AUTO never picks opencl");
    opk_ctx_destroy(ctx);
}

/* A matrix larger than the device's largest buffer in its unsplittable
 * direction: OPK_ERR_BACKEND, nothing written, and the context still works.
 * The memory is reserved, not committed (never touched). */
static void test_impossible_buffer(void)
{
    opk_cl_device_info d;
    opk_cl_device_describe(0, &d);
    size_t n = (size_t)(d.max_alloc / 4) + 1024, bytes = n * 4;
    float *big = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(big != MAP_FAILED, "mmap of %zu bytes", bytes);
    if (big == MAP_FAILED)
        return;
    opk_status st;
    opk_ctx *ctx = cl_ctx(d.platform, d.device, &st);
    for (int axis = 0; axis < 2; axis++) {
        size_t rows = axis ? n : 1, cols = axis ? 1 : n;
        st = opk_softmax(ctx, (opk_cmat){big, rows, cols, cols},
                         (opk_mat){big, rows, cols, cols}, 1.0f,
                         (opk_axis)axis, 0);
        CHECK(st == OPK_ERR_BACKEND, "axis %d: %zu floats gave %s", axis, n,
              opk_status_str(st));
        CHECK(strstr(opk_ctx_last_error(ctx), "largest allocation"),
              "message: %s", opk_ctx_last_error(ctx));
        CHECK(big[0] == 0.0f && big[n - 1] == 0.0f, "output untouched");
        CHECK(matches_scalar(ctx, 17, 40, 41, (opk_axis)axis, OPK_LOG, 3),
              "the context works after the failure");
    }
    opk_ctx_destroy(ctx);
    munmap(big, bytes);
}

/* OPK_CL_MAX_ALLOC shrinks the limit: calls go in chunks of rows or
 * columns (same bits), and a row over the limit fails cleanly. */
static void test_chunks(void)
{
    setenv("OPK_CL_MAX_ALLOC", "4096", 1);
    opk_status st;
    opk_ctx *ctx = cl_ctx(0, 0, &st);
    unsetenv("OPK_CL_MAX_ALLOC");
    CHECK(matches_scalar(ctx, 103, 50, 50, OPK_ROWS, 0, 1), "rows in chunks");
    CHECK(matches_scalar(ctx, 61, 50, 53, OPK_ROWS, OPK_LOG, 2), "padded rows");
    CHECK(matches_scalar(ctx, 50, 107, 111, OPK_COLS, 0, 3), "cols in chunks");
    CHECK(matches_scalar(ctx, 1024, 9, 9, OPK_COLS, OPK_LOG, 4),
          "one column per buffer");
    float x[1100], y[1100];
    for (int i = 0; i < 1100; i++)
        x[i] = (float)i, y[i] = -1.0f;
    CHECK_ST(opk_softmax(ctx, (opk_cmat){x, 1, 1100, 1100},
                         (opk_mat){y, 1, 1100, 1100}, 1.0f, OPK_ROWS, 0),
             OPK_ERR_BACKEND);
    CHECK(strstr(opk_ctx_last_error(ctx), "row of 1100 floats"), "message: %s",
          opk_ctx_last_error(ctx));
    CHECK(y[0] == -1.0f && y[1099] == -1.0f, "output untouched");
    CHECK(matches_scalar(ctx, 10, 1000, 1000, OPK_COLS, 0, 5),
          "usable after the failure");
    opk_ctx_destroy(ctx);
}

/* Sinkhorn keeps S on the device for the whole solve, in chunks of rows
 * when it exceeds the largest allocation: with a 4096-byte limit, S of
 * 40 x 30 (4800 bytes) goes in 2 chunks and 97 x 10 in 10; f, g, the plan
 * and the convergence info must be the scalar reference's bits (masses,
 * a padded ld, an iteration cap, the plan over S included). A row over the
 * limit fails cleanly (outputs untouched) and the context stays usable. */
static int sinkhorn_same(opk_ctx *ctx, opk_ctx *ref, size_t n, size_t m,
                         size_t lds, int masses, int plan, int max_iter)
{
    float *s = calloc(n * lds, 4), *p1 = calloc(n * lds, 4),
          *p2 = calloc(n * lds, 4), *f1 = calloc(n, 4), *f2 = calloc(n, 4),
          *g1 = calloc(m, 4), *g2 = calloc(m, 4), *a = calloc(n, 4),
          *b = calloc(m, 4);
    int ok = s && p1 && p2 && f1 && f2 && g1 && g2 && a && b;
    if (ok) {
        opk_fill(31 + (uint64_t)n, -3.0f, 2.0f, (opk_mat){s, n, m, lds});
        float sa = 0.0f, sb = 0.0f;
        for (size_t i = 0; i < n; i++)
            sa += a[i] = 0.5f + (float)(i % 7) * 0.25f;
        for (size_t k = 0; k < m; k++)
            sb += b[k] = 0.5f + (float)(k % 5) * 0.25f;
        for (size_t k = 0; k < m; k++) /* equal total masses */
            b[k] = b[k] * (sa / sb);
        opk_sinkhorn_opts o = opk_sinkhorn_opts_default();
        o.max_iter = max_iter, o.check_every = 3;
        opk_sinkhorn_info i1, i2;
        const float *pa = masses ? a : NULL, *pb = masses ? b : NULL;
        opk_status s1 = opk_sinkhorn(ref, (opk_cmat){s, n, m, lds}, 1.0f, pa,
                                     pb, &o, f1, g1,
                                     plan ? &(opk_mat){p1, n, m, lds} : NULL,
                                     &i1);
        opk_status s2 = opk_sinkhorn(ctx, (opk_cmat){s, n, m, lds}, 1.0f, pa,
                                     pb, &o, f2, g2,
                                     plan ? &(opk_mat){p2, n, m, lds} : NULL,
                                     &i2);
        ok = s1 == OPK_OK && s2 == OPK_OK && same_bits(f1, f2, n) &&
             same_bits(g1, g2, m) && (!plan || same_bits(p1, p2, n * lds)) &&
             i1.iterations == i2.iterations && !memcmp(&i1.err, &i2.err, 4) &&
             i1.converged == i2.converged;
        if (!ok)
            fprintf(stderr, "sinkhorn %zux%zu: %s / %s, %d / %d iterations: %s\n",
                    n, m, opk_status_str(s1), opk_status_str(s2), i1.iterations,
                    i2.iterations, opk_ctx_last_error(ctx));
    }
    free(s), free(p1), free(p2), free(f1), free(f2), free(g1), free(g2);
    free(a), free(b);
    return ok;
}

static void test_sinkhorn_chunks(void)
{
    setenv("OPK_CL_MAX_ALLOC", "4096", 1);
    opk_status st;
    opk_ctx *ctx = cl_ctx(0, 0, &st);
    unsetenv("OPK_CL_MAX_ALLOC");
    opk_ctx *ref = test_ctx(OPK_BACKEND_SCALAR, 1);
    CHECK(sinkhorn_same(ctx, ref, 40, 30, 30, 0, 0, 1000), "40x30 in 2 chunks");
    CHECK(sinkhorn_same(ctx, ref, 97, 10, 10, 1, 1, 1000),
          "97x10 in 10 chunks, masses, plan");
    CHECK(sinkhorn_same(ctx, ref, 70, 13, 16, 1, 1, 7),
          "70x13 padded in chunks, capped at 7 iterations, plan");
    CHECK(sinkhorn_same(ctx, ref, 3, 1000, 1000, 0, 1, 1000),
          "one row per chunk");
    enum { N = 4, M = 1100 };
    static float s[N * M];
    float f[N], g[M];
    opk_fill(7, -3.0f, 2.0f, (opk_mat){s, N, M, M});
    for (int i = 0; i < N; i++)
        f[i] = -7.0f;
    CHECK_ST(opk_sinkhorn(ctx, (opk_cmat){s, N, M, M}, 1.0f, NULL, NULL, NULL,
                          f, g, NULL, NULL),
             OPK_ERR_BACKEND);
    CHECK(strstr(opk_ctx_last_error(ctx), "a row of S (1100 floats)"),
          "message: %s", opk_ctx_last_error(ctx));
    CHECK(f[0] == -7.0f && f[N - 1] == -7.0f, "f untouched");
    CHECK(sinkhorn_same(ctx, ref, 30, 30, 30, 1, 1, 1000),
          "usable after the failure");
    opk_ctx_destroy(ref);
    opk_ctx_destroy(ctx);
}

static void test_build_failure(void)
{
    opk_status st;
    opk_ctx *ctx = cl_ctx(0, 0, &st);
    st = opk_cl_try_build(ctx, "broken",
                          "__kernel void k(__global float *y)\n"
                          "{ y[0] = opk_undeclared_thing; }\n");
    CHECK(st == OPK_ERR_BACKEND, "a broken program gives %s", opk_status_str(st));
    const char *msg = opk_ctx_last_error(ctx);
    CHECK(strstr(msg, "building program 'broken'") &&
              strstr(msg, "opk_undeclared_thing") && !strchr(msg, '\n'),
          "message with the build log on one line: %s", msg);
    CHECK(matches_scalar(ctx, 5, 70, 70, OPK_ROWS, 0, 6), "usable after it");
    opk_ctx_destroy(ctx);
}

struct worker {
    opk_ctx *ctx;
    int id, ok;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    w->ok = 1;
    for (int k = 0; k < 12; k++) {
        uint64_t r = opk_rand(100 + (uint64_t)w->id, (uint64_t)k);
        size_t rows = 1 + r % 90, cols = 1 + (r >> 8) % 150;
        w->ok &= matches_scalar(w->ctx, rows, cols, cols + (r >> 16) % 3,
                                (opk_axis)((r >> 20) & 1),
                                (r >> 21) & 1 ? OPK_LOG : 0, r);
    }
    return NULL;
}

static void test_threads(void)
{
    opk_status st;
    opk_ctx *ctx = cl_ctx(0, 0, &st);
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ctx, i, 0};
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].ok, "thread %d: results differ from scalar", i);
    }
    opk_ctx_destroy(ctx);
}

static void test_profiling(void)
{
    opk_status st;
    opk_ctx *ctx = cl_ctx(0, 0, &st);
    opk_cl_set_profiling(ctx, 1);
    CHECK(matches_scalar(ctx, 64, 500, 500, OPK_ROWS, 0, 9), "profiled call");
    double w, k, r;
    opk_cl_last_times(ctx, &w, &k, &r);
    CHECK(w >= 0 && k > 0 && r >= 0, "profile times %g %g %g", w, k, r);
    opk_ctx_destroy(ctx);
}

/* ---- the program cache -------------------------------------------------- */

static opk_cl_cache_stats delta(const opk_cl_cache_stats *before)
{
    opk_cl_cache_stats now;
    opk_cl_cache_stats_get(&now);
    now.loaded -= before->loaded;
    now.written -= before->written;
    now.rejected -= before->rejected;
    now.compiled -= before->compiled;
    return now;
}

/* A softmax on a fresh context; returns what the cache did meanwhile. */
static opk_cl_cache_stats fresh_run(char *path, size_t n)
{
    opk_cl_cache_stats before;
    opk_cl_cache_stats_get(&before);
    opk_status st;
    opk_ctx *ctx = cl_ctx(0, 0, &st);
    CHECK(matches_scalar(ctx, 8, 40, 40, OPK_ROWS, 0, 11), "softmax");
    if (path)
        opk_cl_program_cache_file(ctx, "softmax", path, n);
    opk_ctx_destroy(ctx);
    return delta(&before);
}

static long file_size(const char *p)
{
    struct stat sb;
    return stat(p, &sb) ? -1 : (long)sb.st_size;
}

static int count_files(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "find '%s' -type f 2>/dev/null | wc -l", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f && fscanf(f, "%d", &n) != 1)
        n = -1;
    if (f)
        pclose(f);
    return n;
}

static void flip_byte(const char *p, long at)
{
    FILE *f = fopen(p, "r+b");
    if (!f)
        return;
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
}

static void test_cache(void)
{
    char dir[] = "/tmp/opk_cl_cache_XXXXXX", path[4300], other[4300];
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    setenv("XDG_CACHE_HOME", dir, 1);
    unsetenv("OPK_CL_CACHE");

    opk_cl_cache_stats s = fresh_run(path, sizeof path);
    CHECK(s.compiled == 1 && s.written == 1 && s.loaded == 0,
          "first run: compiled %lu written %lu loaded %lu", s.compiled,
          s.written, s.loaded);
    CHECK(!strncmp(path, dir, strlen(dir)) && strstr(path, "/opk/cl/") &&
              file_size(path) > 40,
          "cache file %s", path);
    s = fresh_run(NULL, 0);
    CHECK(s.loaded == 1 && s.compiled == 0 && s.written == 0,
          "second run loads: loaded %lu compiled %lu", s.loaded, s.compiled);

    /* A corrupt payload byte: rejected, rebuilt, rewritten; then loads. */
    flip_byte(path, file_size(path) / 2);
    s = fresh_run(NULL, 0);
    CHECK(s.rejected == 1 && s.compiled == 1 && s.written == 1,
          "corrupt file: rejected %lu compiled %lu written %lu", s.rejected,
          s.compiled, s.written);
    s = fresh_run(NULL, 0);
    CHECK(s.loaded == 1 && s.compiled == 0, "rewritten file loads");

    /* A truncated file. */
    CHECK(truncate(path, file_size(path) - 7) == 0, "truncate");
    s = fresh_run(NULL, 0);
    CHECK(s.rejected == 1 && s.compiled == 1, "truncated file rejected");

    /* A stale file: another program's binary under this key's name. */
    opk_status st;
    opk_ctx *ctx = cl_ctx(0, 0, &st);
    float x[4] = {1, 2, 3, 4}, y[4];
    CHECK_ST(opk_cl_math(ctx, 0, x, y, 4), OPK_OK);
    opk_cl_program_cache_file(ctx, "mathtest", other, sizeof other);
    opk_ctx_destroy(ctx);
    CHECK(file_size(other) > 40 && strcmp(other, path), "mathtest file");
    CHECK(rename(other, path) == 0, "rename");
    s = fresh_run(NULL, 0);
    CHECK(s.rejected == 1 && s.compiled == 1 && s.written == 1,
          "stale file: rejected %lu compiled %lu", s.rejected, s.compiled);

    /* No leftover temporary files: softmax and mathtest only. */
    CHECK(count_files(dir) == 1, "%d files in %s", count_files(dir), dir);

    /* Only the user's own file in a folder no one else may write is read
     * (a planted binary would run as opk's code): a folder others may
     * write is neither read nor written; a symbolic link, a FIFO (opening
     * it used to wait forever) or another user's file at the path is
     * refused, then replaced by the rebuilt binary. */
    char cldir[4300];
    snprintf(cldir, sizeof cldir, "%s", path);
    *strrchr(cldir, '/') = 0;
    CHECK(chmod(cldir, 0777) == 0, "chmod");
    s = fresh_run(NULL, 0);
    CHECK(s.loaded == 0 && s.rejected == 1 && s.compiled == 1 && s.written == 0,
          "folder others may write: loaded %lu rejected %lu written %lu",
          s.loaded, s.rejected, s.written);
    CHECK(chmod(cldir, 0700) == 0, "chmod");
    s = fresh_run(NULL, 0);
    CHECK(s.loaded == 1 && s.compiled == 0, "the user's folder again: loads");
    CHECK(snprintf(other, sizeof other, "%s.real", path) < (int)sizeof other &&
              rename(path, other) == 0 && symlink(other, path) == 0,
          "symlink");
    s = fresh_run(NULL, 0);
    CHECK(s.rejected == 1 && s.compiled == 1 && s.written == 1,
          "symbolic link: rejected %lu compiled %lu written %lu", s.rejected,
          s.compiled, s.written);
    CHECK(unlink(other) == 0, "unlink");
    CHECK(unlink(path) == 0 && mkfifo(path, 0600) == 0, "mkfifo");
    s = fresh_run(NULL, 0);
    CHECK(s.rejected == 1 && s.compiled == 1 && s.written == 1,
          "FIFO: rejected %lu compiled %lu written %lu", s.rejected, s.compiled,
          s.written);
    if (geteuid() == 0) { /* only root can give a file away */
        CHECK(chown(path, 65534, 65534) == 0, "chown");
        s = fresh_run(NULL, 0);
        CHECK(s.rejected == 1 && s.compiled == 1 && s.written == 1,
              "another user's file: rejected %lu compiled %lu", s.rejected,
              s.compiled);
    }
    s = fresh_run(NULL, 0);
    CHECK(s.loaded == 1 && s.compiled == 0, "the rebuilt file loads");
    CHECK(count_files(dir) == 1, "%d files in %s", count_files(dir), dir);

    /* OPK_CL_CACHE=0: nothing read or written. */
    char dir2[] = "/tmp/opk_cl_cache_XXXXXX";
    CHECK(mkdtemp(dir2) != NULL, "mkdtemp");
    setenv("XDG_CACHE_HOME", dir2, 1);
    setenv("OPK_CL_CACHE", "0", 1);
    s = fresh_run(path, sizeof path);
    CHECK(s.compiled == 1 && s.written == 0 && s.loaded == 0 && !path[0],
          "disabled: compiled %lu written %lu", s.compiled, s.written);
    CHECK(count_files(dir2) == 0, "files written with OPK_CL_CACHE=0");
    unsetenv("OPK_CL_CACHE");

    /* Without XDG_CACHE_HOME: $HOME/.cache/opk/cl. */
    const char *home = getenv("HOME");
    char *saved = home ? strdup(home) : NULL;
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", dir2, 1);
    s = fresh_run(path, sizeof path);
    char want[600];
    snprintf(want, sizeof want, "%s/.cache/opk/cl/", dir2);
    CHECK(!strncmp(path, want, strlen(want)) && file_size(path) > 40 &&
              s.written == 1,
          "HOME fallback: %s", path);
    if (saved)
        setenv("HOME", saved, 1);
    free(saved);

    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, dir2);
    CHECK(system(cmd) == 0, "cleanup");
}

/* Attention whose operands exceed the device's allocation limit (shrunk by
 * OPK_CL_MAX_ALLOC): OPK_ERR_BACKEND naming the buffer, O untouched; the
 * same context then runs a smaller call with the scalar bits, every mode. */
static void test_attention_too_big(void)
{
    setenv("OPK_CL_MAX_ALLOC", "4096", 1);
    opk_status st;
    opk_ctx *ctx = cl_ctx(0, 0, &st);
    unsetenv("OPK_CL_MAX_ALLOC");
    enum { N = 40, M = 40, D = 30, DV = 20 };
    static float q[N * D], k[M * D], v[M * DV], o[N * DV], r[N * DV];
    opk_fill(11, -1.0f, 1.0f, (opk_mat){q, N, D, D});
    opk_fill(12, -1.0f, 1.0f, (opk_mat){k, M, D, D});
    opk_fill(13, -1.0f, 1.0f, (opk_mat){v, M, DV, DV});
    opk_ctx *ref = test_ctx(OPK_BACKEND_SCALAR, 1);
    for (int nm = 0; nm < 4; nm++) {
        opk_attention_opts op = opk_attention_opts_default();
        op.norm = (opk_norm)nm;
        for (int i = 0; i < N * DV; i++)
            o[i] = 42.0f;
        CHECK_ST(opk_attention(ctx, (opk_cmat){q, N, D, D},
                               (opk_cmat){k, M, D, D},
                               (opk_cmat){v, M, DV, DV}, NULL, &op,
                               (opk_mat){o, N, DV, DV}),
                 OPK_ERR_BACKEND);
        CHECK(strstr(opk_ctx_last_error(ctx), "exceeds the largest"),
              "message: %s", opk_ctx_last_error(ctx));
        CHECK(o[0] == 42.0f && o[N * DV - 1] == 42.0f, "O untouched");
        const size_t n = 12, d = 7, dv = 9; /* fits 4096 bytes everywhere */
        opk_cmat Q = {q, n, d, D}, K = {k, n, d, D}, V = {v, n, dv, DV};
        CHECK_ST(opk_attention(ref, Q, K, V, NULL, &op, (opk_mat){r, n, dv, DV}),
                 OPK_OK);
        CHECK_ST(opk_attention(ctx, Q, K, V, NULL, &op, (opk_mat){o, n, dv, DV}),
                 OPK_OK);
        int same = 1;
        for (size_t i = 0; i < n; i++)
            same &= !memcmp(o + i * DV, r + i * DV, dv * 4);
        CHECK(same, "mode %d: usable after the failure, same bits", nm);
    }
    opk_ctx_destroy(ref);
    opk_ctx_destroy(ctx);
}

int main(void)
{
    if (test_backend_excluded(OPK_BACKEND_OPENCL)) {
        printf("test_opencl: skipped: OPK_TEST_BACKENDS leaves opencl out\n");
        return 77;
    }
    if (!opk_backend_available(OPK_BACKEND_OPENCL)) {
        printf("test_opencl: skipped: %s\n",
               opk_backend_unavailable_reason(OPK_BACKEND_OPENCL));
        return 77;
    }
    unsetenv("OPK_CL_ASSUME_NO_DENORM");
    unsetenv("OPK_CL_MAX_ALLOC");
    test_devices();
    test_selection();
    test_impossible_buffer();
    test_chunks();
    test_sinkhorn_chunks();
    test_attention_too_big();
    test_build_failure();
    test_threads();
    test_profiling();
    test_cache(); /* last: it moves XDG_CACHE_HOME and HOME */
    return check_summary("test_opencl");
}
