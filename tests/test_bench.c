/* The machinery of `opk bench` without timing decisions: the limits cache
 * (format, parse, every corruption, atomic save, path rules, which files
 * and folders are trusted), --size
 * parsing, the JSON writer's escaping and nesting, the repetition counts
 * of the timing loop, the median, and the registry's softmax entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "check.h"
#include "json.h"
#include "limits.h"
#include "timing.h"

/* A check whose condition says it all. */
#define EXPECT(cond) CHECK(cond, "%s", "")

static bench_machine machine(void)
{
    bench_machine m;
    memset(&m, 0, sizeof m);
    snprintf(m.model, sizeof m.model, "Test CPU \"X\"/9 @ 3GHz");
    m.cores = 3;
    snprintf(m.version, sizeof m.version, "%s", opk_version());
    return m;
}

/* Limits with a peak for every backend, so parse's "usable backends need a
 * peak" rule is met whatever this machine has. */
static bench_limits sample_limits(void)
{
    bench_limits L;
    memset(&L, 0, sizeof L);
    L.cores = 3;
    L.triad_mib = 64;
    L.bw_gbs = 25.5;
    L.bw1_gbs = 14.25;
    for (int b = 1; b < OPK_BACKEND_COUNT; b++) {
        L.fma1_gflops[b] = 10.0 * b + 0.125;
        L.fman_gflops[b] = 30.0 * b + 0.5;
    }
    return L;
}

static void test_cache_text(void)
{
    bench_machine m = machine();
    bench_limits L = sample_limits(), got;
    char text[8192], why[256];
    int n = bench_limits_format(&m, &L, text, sizeof text);
    EXPECT(n > 0 && (size_t)n == strlen(text));
    EXPECT(bench_limits_parse(text, &m, 64, &got, why, sizeof why) == 0);
    EXPECT(got.bw_gbs == L.bw_gbs && got.bw1_gbs == L.bw1_gbs);
    EXPECT(got.cores == 3 && got.triad_mib == 64);
    for (int b = 1; b < OPK_BACKEND_COUNT; b++)
        EXPECT(got.fma1_gflops[b] == L.fma1_gflops[b] &&
              got.fman_gflops[b] == L.fman_gflops[b]);
    /* The FMA limit for t threads: t x the 1-thread peak, capped. */
    L.fma1_gflops[OPK_BACKEND_SCALAR] = 10, L.fman_gflops[OPK_BACKEND_SCALAR] = 25;
    EXPECT(bench_limits_fma(&L, OPK_BACKEND_SCALAR, 1) == 10);
    EXPECT(bench_limits_fma(&L, OPK_BACKEND_SCALAR, 2) == 20);
    EXPECT(bench_limits_fma(&L, OPK_BACKEND_SCALAR, 3) == 25);
    EXPECT(bench_limits_fma(&L, OPK_BACKEND_SCALAR, 64) == 25);
    L.fman_gflops[OPK_BACKEND_SCALAR] = 8; /* busy machine: all < one */
    EXPECT(bench_limits_fma(&L, OPK_BACKEND_SCALAR, 2) == 10);
    EXPECT(bench_limits_bw(&L) == 25.5);
    L.bw1_gbs = 30;
    EXPECT(bench_limits_bw(&L) == 30);
    EXPECT(bench_limits_fma(&L, OPK_BACKEND_AUTO, 1) == 0);
    EXPECT(bench_limits_fma(&L, (opk_backend)99, 1) == 0);
    L = sample_limits();
    /* Too small a buffer is an error, not a truncated file. */
    EXPECT(bench_limits_format(&m, &L, text, 40) == -1);
    n = bench_limits_format(&m, &L, text, sizeof text);

    /* Another triad size, machine, core count or version: not ours. */
    EXPECT(bench_limits_parse(text, &m, 256, &got, why, sizeof why) == -1);
    CHECK(strstr(why, "MiB") != NULL, "%s", why);
    bench_machine other = m;
    other.cores = 4;
    EXPECT(bench_limits_parse(text, &other, 64, &got, why, sizeof why) == -1);
    other = m;
    strcpy(other.version, "9.9.9");
    EXPECT(bench_limits_parse(text, &other, 64, &got, why, sizeof why) == -1);

    /* Every truncation and every single-byte change is rejected. */
    char bad[8192];
    int prefix_ok = 0, flip_ok = 0;
    for (int k = 0; k < n; k++) {
        memcpy(bad, text, (size_t)k);
        bad[k] = 0;
        prefix_ok += !bench_limits_parse(bad, &m, 64, &got, why, sizeof why);
        memcpy(bad, text, (size_t)n + 1);
        bad[k] = (char)(bad[k] == '7' ? '8' : bad[k] == '\n' ? 'x' : '7');
        flip_ok += !bench_limits_parse(bad, &m, 64, &got, why, sizeof why);
    }
    CHECK(prefix_ok == 0, "%d truncated cache files accepted", prefix_ok);
    CHECK(flip_ok == 0, "%d cache files with a changed byte accepted", flip_ok);
    /* Text after the check line. */
    CHECK(snprintf(bad, sizeof bad, "%sbw_gbs=1\n", text) < (int)sizeof bad,
          "limits text of %d bytes", n);
    EXPECT(bench_limits_parse(bad, &m, 64, &got, why, sizeof why) == -1);
    EXPECT(bench_limits_parse("garbage", &m, 64, &got, why, sizeof why) == -1);
    EXPECT(bench_limits_parse("", &m, 64, &got, why, sizeof why) == -1);

    /* A usable backend without its peak (a rebuilt binary, say): stale. */
    if (opk_backend_available(OPK_BACKEND_SCALAR)) {
        bench_limits noscalar = L;
        noscalar.fma1_gflops[OPK_BACKEND_SCALAR] = 0;
        bench_limits_format(&m, &noscalar, text, sizeof text);
        EXPECT(bench_limits_parse(text, &m, 64, &got, why, sizeof why) == -1);
        CHECK(strstr(why, "scalar") != NULL, "%s", why);
    }
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Only the user's own regular file in the user's own folder, that no one
 * else may write, is read: the limits decide what % of limit says. path is
 * the limits file in dir. */
static void test_cache_trust(const bench_machine *m, const char *path,
                             const char *dir)
{
    bench_limits L = sample_limits(), got;
    char why[512], other[4300];
    EXPECT(bench_limits_save(path, m, &L, why, sizeof why) == 0);
    EXPECT(bench_limits_load(path, m, 64, &got, why, sizeof why) == 0);
    /* A folder others may write: neither read nor written. */
    EXPECT(chmod(dir, 0777) == 0);
    EXPECT(bench_limits_load(path, m, 64, &got, why, sizeof why) == -1);
    CHECK(strstr(why, "not trusted") != NULL, "%s", why);
    EXPECT(bench_limits_save(path, m, &L, why, sizeof why) == -1);
    CHECK(strstr(why, "not trusted") != NULL, "%s", why);
    EXPECT(chmod(dir, 0700) == 0);
    EXPECT(bench_limits_load(path, m, 64, &got, why, sizeof why) == 0);
    /* A symbolic link to a valid file: refused (it could point anywhere). */
    snprintf(other, sizeof other, "%s.real", path);
    EXPECT(rename(path, other) == 0 && symlink(other, path) == 0);
    EXPECT(bench_limits_load(path, m, 64, &got, why, sizeof why) == -1);
    CHECK(strstr(why, "symbolic link") != NULL, "%s", why);
    /* Saving replaces the link itself, never writes through it. */
    L.bw_gbs = 3.0;
    EXPECT(bench_limits_save(path, m, &L, why, sizeof why) == 0);
    EXPECT(bench_limits_load(path, m, 64, &got, why, sizeof why) == 0 &&
           got.bw_gbs == 3.0);
    EXPECT(bench_limits_load(other, m, 64, &got, why, sizeof why) == 0 &&
           got.bw_gbs != 3.0);
    unlink(other);
    /* A FIFO at the path: refused at once (opening it used to wait for a
     * writer forever). */
    EXPECT(unlink(path) == 0 && mkfifo(path, 0600) == 0);
    EXPECT(bench_limits_load(path, m, 64, &got, why, sizeof why) == -1);
    CHECK(strstr(why, "regular file") != NULL, "%s", why);
    EXPECT(bench_limits_save(path, m, &L, why, sizeof why) == 0);
    EXPECT(bench_limits_load(path, m, 64, &got, why, sizeof why) == 0);
    /* Another user's file (only root can make one here). */
    if (geteuid() == 0) {
        EXPECT(chown(path, 65534, 65534) == 0);
        EXPECT(bench_limits_load(path, m, 64, &got, why, sizeof why) == -1);
        CHECK(strstr(why, "regular file of the user's") != NULL, "%s", why);
    }
    /* A killed writer's temporary file goes at the next save once an hour
     * old; a recent one (a writer at work) stays. */
    char stale[4400], fresh[4400];
    EXPECT(snprintf(stale, sizeof stale, "%s.tmp.1.0", path) < (int)sizeof stale &&
           snprintf(fresh, sizeof fresh, "%s.tmp.2.0", path) < (int)sizeof fresh);
    FILE *f = fopen(stale, "w"), *g = fopen(fresh, "w");
    EXPECT(f && g);
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    const struct timespec t[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
    EXPECT(utimensat(AT_FDCWD, stale, t, 0) == 0);
    EXPECT(bench_limits_save(path, m, &L, why, sizeof why) == 0);
    EXPECT(access(stale, F_OK) != 0 && access(fresh, F_OK) == 0);
    unlink(fresh);
}

static void test_cache_files(void)
{
    char tmpl[] = "/tmp/opk_test_bench_XXXXXX";
    char *root = mkdtemp(tmpl);
    EXPECT(root != NULL);
    if (!root)
        return;
    bench_machine m = machine();
    char path[4096], why[256], want[4200];

    /* XDG_CACHE_HOME wins when absolute; a relative one is ignored. */
    setenv("XDG_CACHE_HOME", root, 1);
    setenv("HOME", "/nonexistent-home", 1);
    EXPECT(bench_cache_path(&m, 256, path, sizeof path) == 0);
    snprintf(want, sizeof want, "%s/opk/limits-Test_CPU__X__9___3GHz-3c-v%s.txt",
             root, opk_version());
    CHECK(!strcmp(path, want), "%s", path);
    /* Another triad footprint never overwrites the default one's file. */
    EXPECT(bench_cache_path(&m, 64, path, sizeof path) == 0);
    snprintf(want, sizeof want,
             "%s/opk/limits-Test_CPU__X__9___3GHz-3c-v%s-triad64M.txt", root,
             opk_version());
    CHECK(!strcmp(path, want), "%s", path);
    setenv("XDG_CACHE_HOME", "relative/dir", 1);
    EXPECT(bench_cache_path(&m, 256, path, sizeof path) == 0);
    CHECK(!strncmp(path, "/nonexistent-home/.cache/opk/limits-", 36), "%s", path);
    unsetenv("XDG_CACHE_HOME");
    EXPECT(bench_cache_path(&m, 256, path, sizeof path) == 0);
    CHECK(!strncmp(path, "/nonexistent-home/.cache/opk/", 29), "%s", path);
    setenv("HOME", "", 1);
    EXPECT(bench_cache_path(&m, 256, path, sizeof path) == -1);

    /* Save creates the directories, leaves one file and no temp file. */
    setenv("XDG_CACHE_HOME", root, 1);
    EXPECT(bench_cache_path(&m, 256, path, sizeof path) == 0);
    bench_limits L = sample_limits(), got;
    EXPECT(bench_limits_load(path, &m, 64, &got, why, sizeof why) == -1);
    EXPECT(bench_limits_save(path, &m, &L, why, sizeof why) == 0);
    EXPECT(bench_limits_load(path, &m, 64, &got, why, sizeof why) == 0);
    EXPECT(got.bw_gbs == L.bw_gbs);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/opk", root);
    EXPECT(count_files(dir) == 1);
    /* Overwriting works the same way. */
    L.bw_gbs = 7.0;
    EXPECT(bench_limits_save(path, &m, &L, why, sizeof why) == 0);
    EXPECT(bench_limits_load(path, &m, 64, &got, why, sizeof why) == 0 &&
          got.bw_gbs == 7.0);
    EXPECT(count_files(dir) == 1);
    /* A file with a NUL byte or oversized: rejected. */
    FILE *f = fopen(path, "wb");
    fwrite("machine=\0x\n", 1, 11, f);
    fclose(f);
    EXPECT(bench_limits_load(path, &m, 64, &got, why, sizeof why) == -1);
    f = fopen(path, "wb");
    for (int i = 0; i < 10000; i++)
        fputs("# padding\n", f);
    fclose(f);
    EXPECT(bench_limits_load(path, &m, 64, &got, why, sizeof why) == -1);
    CHECK(strstr(why, "large") != NULL, "%s", why);
    /* An unwritable place: an error with a reason, no crash. */
    EXPECT(bench_limits_save("/proc/opk-no/limits.txt", &m, &L, why,
                            sizeof why) == -1);
    test_cache_trust(&m, path, dir);
    unlink(path);
    rmdir(dir);
    /* An XDG_CACHE_HOME too long for the path: no file, rather than one in
     * a folder cut short (it used to be made beside the intended one). */
    char longdir[3100];
    memset(longdir, 'x', sizeof longdir - 1);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = 0;
    setenv("XDG_CACHE_HOME", longdir, 1);
    EXPECT(bench_cache_path(&m, 256, path, sizeof path) == -1);
    rmdir(root);
}

static void test_size(void)
{
    const bench_kernel *k = bench_kernel_find("softmax");
    EXPECT(k != NULL && k->ndims == 2);
    if (!k)
        return;
    size_t d[BENCH_MAX_DIMS];
    char err[256];
    EXPECT(bench_parse_size(k, "2048x1024", d, err, sizeof err) == 0 &&
          d[0] == 2048 && d[1] == 1024);
    EXPECT(bench_parse_size(k, "1x1", d, err, sizeof err) == 0);
    static const char *bad[] = {"2048", "0x5", "5x0", "5x", "x5", "5x5x5",
                                "-5x5", "5X5", "5x5 ", " 5x5", "",
                                "4294967296x2", "5x+5", "axb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = bench_parse_size(k, bad[i], d, err, sizeof err);
        CHECK(r == -1, "%s", bad[i]);
        CHECK(strstr(err, "--size") != NULL, "%s", err);
    }
    /* Rules between dims, and dims that may be 0. */
    const bench_kernel *ka = bench_kernel_find("attention");
    const bench_kernel *kc = bench_kernel_find("cheb");
    EXPECT(ka && kc);
    if (ka && kc) {
        EXPECT(bench_parse_size(ka, "64x64x16x16", d, err, sizeof err) == 0);
        EXPECT(bench_parse_size(ka, "64x32x16x16", d, err, sizeof err) == -1 &&
               strstr(err, "needs n = m"));
        EXPECT(bench_parse_size(ka, "64x64x0x16", d, err, sizeof err) == -1);
        EXPECT(bench_parse_size(kc, "10x10x0x4", d, err, sizeof err) == 0 && d[2] == 0);
        EXPECT(bench_parse_size(kc, "10x0x5x4", d, err, sizeof err) == -1);
    }
    char text[64];
    bench_shape s = {"rows", {4096, 65536}};
    bench_shape_text(k, &s, text, sizeof text);
    CHECK(!strcmp(text, "4096x65536"), "%s", text);
    EXPECT(bench_kernel_find("nope") == NULL);
}

static void test_json(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bench_json j;
    bj_init(&j, f);
    bj_object(&j, NULL);
    bj_string(&j, "s", "a\"b\\c\nd\t\x01\x1f\xff\xc3\xa9\xe2\x82\xac\xed\xa0\x80!");
    bj_number(&j, "x", 1.5);
    bj_number(&j, "inf", 1.0 / 0.0);
    bj_int(&j, "n", -3);
    bj_bool(&j, "t", 1);
    bj_bool(&j, "f", 0);
    bj_array(&j, "e");
    bj_end(&j);
    bj_array(&j, "a");
    bj_int(&j, NULL, 1);
    bj_object(&j, NULL);
    bj_end(&j);
    bj_end(&j);
    bj_end(&j);
    EXPECT(bj_finish(&j) == 0);
    fclose(f);
    const char *want =
        "{\n"
        "  \"s\": \"a\\\"b\\\\c\\nd\\t\\u0001\\u001f\\ufffd\xc3\xa9\xe2\x82\xac"
        "\\ufffd\\ufffd\\ufffd!\",\n"
        "  \"x\": 1.5,\n"
        "  \"inf\": null,\n"
        "  \"n\": -3,\n"
        "  \"t\": true,\n"
        "  \"f\": false,\n"
        "  \"e\": [],\n"
        "  \"a\": [\n"
        "    1,\n"
        "    {}\n"
        "  ]\n"
        "}\n";
    CHECK(!strcmp(buf, want), "%s", buf);
    free(buf);

    /* Misuse is reported: closing too much, leaving open. */
    f = open_memstream(&buf, &len);
    bj_init(&j, f);
    bj_end(&j);
    EXPECT(bj_finish(&j) == -1);
    bj_init(&j, f);
    bj_object(&j, NULL);
    EXPECT(bj_finish(&j) == -1);
    fclose(f);
    free(buf);
}

static int calls, fail_at;
static int count_call(void *arg)
{
    (void)arg;
    return ++calls == fail_at;
}

static void test_timing(void)
{
    bench_stats st;
    /* min_time 0: exactly the repetition floor (or the cap if lower). */
    calls = 0, fail_at = -1;
    EXPECT(bench_time(count_call, NULL, 0.0, 2, &st) == 0);
    EXPECT(st.reps == 2 && calls == 3); /* one warm-up */
    calls = 0;
    EXPECT(bench_time(count_call, NULL, 0.0, 100, &st) == 0);
    EXPECT(st.reps == BENCH_MIN_REPS && calls == BENCH_MIN_REPS + 1);
    EXPECT(st.min_s >= 0 && st.median_s >= st.min_s);
    /* A long min_time stops at the cap. */
    calls = 0;
    EXPECT(bench_time(count_call, NULL, 1e6, 7, &st) == 0 && st.reps == 7);
    /* A failing call stops the loop and is reported. */
    calls = 0, fail_at = 3;
    EXPECT(bench_time(count_call, NULL, 0.0, 10, &st) != 0 && calls == 3);

    double v3[] = {3, 1, 2}, v4[] = {4, 1, 3, 2}, v1[] = {5};
    EXPECT(bench_median(v3, 3) == 2 && bench_median(v4, 4) == 2.5 &&
          bench_median(v1, 1) == 5);
    EXPECT(bench_now() > 0);
}

static void test_softmax_entry(void)
{
    const bench_kernel *k = bench_kernel_find("softmax");
    if (!k)
        return;
    EXPECT(k->limit == BENCH_BANDWIDTH && k->nshapes == 4 && k->nquick >= 1);
    bench_shape s = {"cols", {3, 5}};
    EXPECT(k->work(&s, NULL) == 2.0 * 4 * 15); /* one read + one write */
    void *state = NULL;
    char err[256];
    EXPECT(k->setup(&s, &state, err, sizeof err) == 0);
    opk_ctx *ctx;
    EXPECT(opk_ctx_create(NULL, &ctx) == OPK_OK);
    EXPECT(k->run(ctx, state) == OPK_OK);
    opk_ctx_destroy(ctx);
    k->teardown(state);
    bench_shape huge = {"rows", {1ull << 31, 1ull << 31}};
    state = NULL;
    EXPECT(k->setup(&huge, &state, err, sizeof err) == -1 && state == NULL);
    CHECK(strstr(err, "softmax") != NULL, "%s", err);
}

/* The work counts the rates are computed from (bench/bench_*.c headers). */
static void test_work_counts(void)
{
    const bench_kernel *a = bench_kernel_find("attention");
    if (a) { /* 4 n m d flops */
        bench_shape s = {"softmax", {8, 8, 3, 5}};
        EXPECT(a->work(&s, NULL) == 4.0 * 8 * 8 * 3);
    }
    const bench_kernel *l = bench_kernel_find("attention-linear");
    if (l) { /* Q, K, V read, H read, O written */
        bench_shape s = {"linear", {8, 8, 3, 5}};
        EXPECT(l->work(&s, NULL) == 4.0 * (8 * 3 + 8 * 3 + 8 * 5 + 2 * 8 * 5));
    }
    const bench_kernel *c = bench_kernel_find("cheb");
    if (c) { /* 20 orders x (nnz 8 + n 8 + 3 n F 4) bytes */
        bench_shape s = {"K20", {4, 5, 3, 2}};
        void *state = NULL;
        char err[256];
        EXPECT(c->setup(&s, &state, err, sizeof err) == 0);
        opk_csr A = {0}, L = {0};
        EXPECT(opk_graph_grid(4, 5, 3, 1, &A) == OPK_OK &&
               opk_laplacian(A, OPK_LAPLACIAN_SYMMETRIC, &L) == OPK_OK);
        double want = 20.0 * ((double)L.nnz * 8 + 20.0 * 8 + 3.0 * 20 * 2 * 4);
        EXPECT(state && c->work(&s, state) == want);
        opk_csr_free(&A), opk_csr_free(&L);
        if (state)
            c->teardown(state);
    }
}

int main(void)
{
    test_cache_text();
    test_cache_files();
    test_size();
    test_json();
    test_timing();
    test_softmax_entry();
    test_work_counts();
    return check_summary("test_bench");
}
