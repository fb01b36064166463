/* The limits cache file (see limits.h): where it lives, its text (key=value
 * lines closed by an FNV-1a checksum, so any damage is seen), parsing that
 * rejects anything incomplete or stale; reading and writing it as a private
 * cache file (kernels/cachefile.h: the user's own file in the user's own
 * folder, written atomically). */
#include "limits.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kernels/cachefile.h"

int bench_cache_path(const bench_machine *m, int triad_mib, char *path,
                     size_t n)
{
    char dir[3072];
    if (opk_cache_dir("opk", dir, sizeof dir))
        return -1;
    char slug[64];
    size_t k = 0;
    for (const char *p = m->model; *p && k + 1 < sizeof slug; p++) {
        char ch = *p;
        int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
        slug[k++] = keep ? ch : '_';
    }
    slug[k] = 0;
    /* Another triad size has a file of its own: a quick check with a small
     * footprint leaves the default measurement in place. */
    char size[32] = "";
    if (triad_mib != BENCH_TRIAD_MIB_DEFAULT)
        snprintf(size, sizeof size, "-triad%dM", triad_mib);
    int w = snprintf(path, n, "%s/limits-%s-%dc-v%s%s.txt", dir, slug,
                     m->cores, m->version, size);
    return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

/* FNV-1a 64 of the text before the check line: any damage to the file
 * (a flipped digit too) shows as a mismatch. */
static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

int bench_limits_format(const bench_machine *m, const bench_limits *lim,
                        char *buf, size_t n)
{
    size_t k = 0;
#define PUT(...)                                                           \
    do {                                                                   \
        int w_ = snprintf(buf + k, n - k, __VA_ARGS__);                    \
        if (w_ < 0 || (size_t)w_ >= n - k)                                 \
            return -1;                                                     \
        k += (size_t)w_;                                                   \
    } while (0)
    PUT("# opk bench: this machine's limits (delete, or run opk bench "
        "--remeasure, to measure again)\n");
    PUT("machine=%s|%d|%s\n", m->model, m->cores, m->version);
    PUT("cores=%d\ntriad_mib=%d\n", lim->cores, lim->triad_mib);
    PUT("bw_gbs=%.17g\nbw1_gbs=%.17g\n", lim->bw_gbs, lim->bw1_gbs);
    for (int b = 1; b < OPK_BACKEND_COUNT; b++)
        if (lim->fma1_gflops[b] > 0)
            PUT("fma1.%s=%.17g\nfman.%s=%.17g\n",
                opk_backend_name((opk_backend)b), lim->fma1_gflops[b],
                opk_backend_name((opk_backend)b), lim->fman_gflops[b]);
    PUT("check=%016llx\n", (unsigned long long)fnv1a(buf, k));
#undef PUT
    return (int)k;
}

/* A positive finite number filling all of s. */
static int parse_pos(const char *s, double *v)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(x) || x <= 0)
        return -1;
    *v = x;
    return 0;
}

int bench_limits_parse(const char *text, const bench_machine *m,
                       int triad_mib, bench_limits *lim, char *why,
                       size_t nwhy)
{
    bench_limits L;
    memset(&L, 0, sizeof L);
    char want[160];
    snprintf(want, sizeof want, "%s|%d|%s", m->model, m->cores, m->version);
    int have_machine = 0, have_check = 0, have_bw = 0, have_bw1 = 0;
    double cores = 0, mib = 0;
    const char *p = text;
    int lineno = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[256];
        const char *line_start = p;
        lineno++;
        if (!nl || len >= sizeof line) {
            snprintf(why, nwhy, "line %d is %s", lineno,
                     nl ? "too long" : "not terminated");
            return -1;
        }
        memcpy(line, p, len);
        line[len] = 0;
        p = nl + 1;
        if (have_check) {
            snprintf(why, nwhy, "text after the check line");
            return -1;
        }
        if (line[0] == '#' || !line[0])
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            snprintf(why, nwhy, "line %d has no '='", lineno);
            return -1;
        }
        *eq = 0;
        const char *key = line, *val = eq + 1;
        int bad = 0;
        if (!strcmp(key, "machine")) {
            if (strcmp(val, want)) {
                snprintf(why, nwhy, "it is for another machine or version");
                return -1;
            }
            have_machine = 1;
        } else if (!strcmp(key, "check")) {
            char want_sum[32];
            snprintf(want_sum, sizeof want_sum, "%016" PRIx64,
                     fnv1a(text, (size_t)(line_start - text)));
            if (strcmp(val, want_sum)) {
                snprintf(why, nwhy, "its checksum does not match");
                return -1;
            }
            have_check = 1;
        } else if (!strcmp(key, "cores")) {
            bad = parse_pos(val, &cores);
        } else if (!strcmp(key, "triad_mib")) {
            bad = parse_pos(val, &mib);
        } else if (!strcmp(key, "bw_gbs")) {
            bad = parse_pos(val, &L.bw_gbs), have_bw = !bad;
        } else if (!strcmp(key, "bw1_gbs")) {
            bad = parse_pos(val, &L.bw1_gbs), have_bw1 = !bad;
        } else if (!strncmp(key, "fma1.", 5) || !strncmp(key, "fman.", 5)) {
            opk_backend b;
            if (opk_backend_parse(key + 5, &b, NULL, NULL) ||
                b == OPK_BACKEND_AUTO)
                bad = 1;
            else
                bad = parse_pos(val, key[3] == '1' ? &L.fma1_gflops[b]
                                                   : &L.fman_gflops[b]);
        }
        /* Other keys: written by a newer opk; ignored. */
        if (bad) {
            snprintf(why, nwhy, "line %d: bad value for %s", lineno, key);
            return -1;
        }
    }
    if (!have_check) {
        snprintf(why, nwhy, "it is truncated (no check line)");
        return -1;
    }
    if (!have_machine || !have_bw || !have_bw1 || cores != m->cores) {
        snprintf(why, nwhy, "it lacks the machine, cores or bandwidth");
        return -1;
    }
    if ((int)mib != triad_mib) {
        snprintf(why, nwhy, "it was measured with a %g MiB triad, not %d",
                 mib, triad_mib);
        return -1;
    }
    for (int b = 1; b < OPK_BACKEND_COUNT; b++)
        if (bench_limits_has_peak((opk_backend)b) &&
            !(L.fma1_gflops[b] > 0 && L.fman_gflops[b] > 0)) {
            snprintf(why, nwhy, "it lacks the %s FMA peak",
                     opk_backend_name((opk_backend)b));
            return -1;
        }
    L.cores = (int)cores;
    L.triad_mib = (int)mib;
    *lim = L;
    return 0;
}

int bench_limits_load(const char *path, const bench_machine *m, int triad_mib,
                      bench_limits *lim, char *why, size_t nwhy)
{
    int missing;
    int fd = opk_cache_open(path, &missing, why, nwhy);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        if (fd >= 0)
            snprintf(why, nwhy, "%s", strerror(errno)), close(fd);
        return -1;
    }
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    int big = n == sizeof text - 1 && fgetc(f) != EOF;
    int err = ferror(f);
    fclose(f);
    if (err || big) {
        snprintf(why, nwhy, "%s", err ? "read error" : "it is too large");
        return -1;
    }
    text[n] = 0;
    if (strlen(text) != n) {
        snprintf(why, nwhy, "it holds a NUL byte");
        return -1;
    }
    return bench_limits_parse(text, m, triad_mib, lim, why, nwhy);
}

int bench_limits_save(const char *path, const bench_machine *m,
                      const bench_limits *lim, char *why, size_t nwhy)
{
    char text[8192];
    int len = bench_limits_format(m, lim, text, sizeof text);
    if (len < 0) {
        snprintf(why, nwhy, "the limits are too long");
        return -1;
    }
    return opk_cache_write(path, text, (size_t)len, NULL, 0, why, nwhy);
}
