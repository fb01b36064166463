/* Building OpenCL programs, through an on-disk cache of program binaries.
 *
 * Key: XXH3-64 of the program source, the build options, the device name,
 * the driver version, the platform version and the opk version; the file
 * is $XDG_CACHE_HOME/opk/cl/<key>.bin (else $HOME/.cache/opk/cl/), a header
 * (magic, format, key, payload length, XXH3-64 of the payload) and the
 * binary from CL_PROGRAM_BINARIES. A file whose header, length or hash does
 * not match, or that the driver refuses, is rejected and rebuilt from
 * source. Files are written to a temporary name and renamed, so readers
 * never see a partial file. OPK_CL_CACHE=0 disables the cache;
 * OPK_CL_LOG=1 prints each load, write, rejection and compile on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "../dispatch/ctx.h"
#include "../kernels/common.h"
#include "runtime.h"

#define MAGIC "OPKCLBIN"
#define FORMAT 1u

typedef struct header {
    char magic[8];
    uint32_t format, reserved;
    uint64_t key, length, payload_hash;
} header;

static atomic_ulong n_loaded, n_written, n_rejected, n_compiled;

void opk_cl_cache_stats_get(opk_cl_cache_stats *s)
{
    s->loaded = atomic_load(&n_loaded);
    s->written = atomic_load(&n_written);
    s->rejected = atomic_load(&n_rejected);
    s->compiled = atomic_load(&n_compiled);
}

static void note(const char *fmt, const char *a, const char *b)
{
    const char *e = getenv("OPK_CL_LOG");
    if (e && !strcmp(e, "1"))
        fprintf(stderr, fmt, a, b);
}

static int cache_enabled(void)
{
    const char *e = getenv("OPK_CL_CACHE");
    return !(e && !strcmp(e, "0"));
}

/* The cache folder, or -1 when there is none (no XDG_CACHE_HOME nor HOME). */
static int cache_dir(char *buf, size_t n)
{
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    int r;
    if (x && *x == '/')
        r = snprintf(buf, n, "%s/opk/cl", x);
    else if (h && *h)
        r = snprintf(buf, n, "%s/.cache/opk/cl", h);
    else
        return -1;
    return (r > 0 && (size_t)r < n) ? 0 : -1;
}

static void hash_field(XXH3_state_t *st, const char *s)
{
    uint64_t len = strlen(s);
    XXH3_64bits_update(st, &len, sizeof len); /* unambiguous concatenation */
    XXH3_64bits_update(st, s, len);
}

static uint64_t cache_key(const opk_cl *cl, const char *source)
{
    XXH3_state_t *st = XXH3_createState();
    if (!st)
        return 0;
    XXH3_64bits_reset(st);
    hash_field(st, source);
    hash_field(st, cl->options);
    hash_field(st, cl->info.name);
    hash_field(st, cl->info.driver_version);
    hash_field(st, cl->info.platform_version);
    hash_field(st, opk_version());
    uint64_t k = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return k;
}

void opk_cl_cache_path(const opk_ctx *ctx, const char *source, char *path,
                       size_t n)
{
    char dir[4096];
    path[0] = 0;
    if (!cache_enabled() || cache_dir(dir, sizeof dir))
        return;
    int r = snprintf(path, n, "%s/%016" PRIx64 ".bin", dir,
                     cache_key(ctx->cl, source));
    if (r < 0 || (size_t)r >= n)
        path[0] = 0;
}

/* The payload of a valid cache file for key (opk_malloc'ed); NULL
 * otherwise (*bad is set when a file exists but is not valid; a failed
 * allocation is not the file's fault: the caller just compiles). */
static unsigned char *load_file(const char *path, uint64_t key, size_t *len,
                                int *bad)
{
    *bad = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    header h;
    unsigned char *p = NULL;
    struct stat sb;
    *bad = 1;
    if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, MAGIC, 8) ||
        h.format != FORMAT || h.key != key || fstat(fileno(f), &sb) ||
        (uint64_t)sb.st_size != sizeof h + h.length || h.length == 0 ||
        h.length > ((uint64_t)1 << 31))
        goto out;
    p = opk_malloc(h.length);
    if (!p) {
        *bad = 0;
        goto out;
    }
    if (fread(p, 1, h.length, f) != h.length ||
        XXH3_64bits(p, h.length) != h.payload_hash) {
        opk_free(p);
        p = NULL;
        goto out;
    }
    *len = h.length;
    *bad = 0;
out:
    fclose(f);
    return p;
}

static int mkdirs(const char *dir)
{
    char buf[4200];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0700) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return (mkdir(buf, 0700) && errno != EEXIST) ? -1 : 0;
}

/* Writes header + payload to a temporary file and renames it into place. */
static int store_file(const char *path, uint64_t key, const unsigned char *p,
                      size_t len)
{
    char dir[4200], tmp[4300];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return -1;
    char *slash = strrchr(dir, '/');
    if (!slash)
        return -1;
    *slash = 0;
    if (mkdirs(dir))
        return -1;
    static atomic_uint seq;
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(),
                 atomic_fetch_add(&seq, 1)) >= (int)sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.format = FORMAT;
    h.key = key;
    h.length = len;
    h.payload_hash = XXH3_64bits(p, len);
    int ok = write(fd, &h, sizeof h) == (ssize_t)sizeof h &&
             write(fd, p, len) == (ssize_t)len;
    ok &= close(fd) == 0;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The build log, trimmed to one line that starts at the first error. */
static opk_status build_failure(const opk_ctx *ctx, const char *name,
                                cl_program prog, cl_int err)
{
    opk_cl *cl = ctx->cl;
    size_t n = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(prog, cl->device, CL_PROGRAM_BUILD_LOG, 0, NULL,
                              &n) == CL_SUCCESS &&
        (log = opk_malloc(n + 1)) != NULL) {
        if (clGetProgramBuildInfo(prog, cl->device, CL_PROGRAM_BUILD_LOG, n,
                                  log, NULL) != CL_SUCCESS)
            n = 0;
        log[n] = 0;
    }
    const char *start = log ? log : "";
    const char *e = log ? strstr(log, "error") : NULL;
    if (e) {
        while (e > log && e[-1] != '\n')
            e--;
        start = e;
    }
    size_t len = strlen(start);
    const size_t room = 1600; /* the message buffer holds 2048 bytes */
    char *line = opk_malloc(room + 1); /* NULL: the message goes without */
    size_t k = 0;
    for (size_t i = 0; line && i < len && k < room; i++)
        line[k++] = (start[i] == '\n' || start[i] == '\r') ? ' ' : start[i];
    if (line)
        line[k] = 0;
    opk_status st = opk_fail(
        ctx, OPK_ERR_BACKEND,
        "opencl: building program '%s' for %s failed (%s, options '%s'): "
        "%s%s",
        name, cl->info.name, opk_cl_err_name(err), cl->options,
        line && k ? line : "(empty build log)",
        len > room ? " [log truncated]" : "");
    opk_free(line);
    opk_free(log);
    return st;
}

static cl_program from_binary(const opk_ctx *ctx, const unsigned char *bin,
                              size_t len)
{
    opk_cl *cl = ctx->cl;
    cl_int err, status;
    cl_program p = clCreateProgramWithBinary(cl->context, 1, &cl->device, &len,
                                             &bin, &status, &err);
    if (!p)
        return NULL;
    if (status != CL_SUCCESS ||
        clBuildProgram(p, 1, &cl->device, cl->options, NULL, NULL) !=
            CL_SUCCESS) {
        clReleaseProgram(p);
        return NULL;
    }
    return p;
}

static void store_binary(const opk_ctx *ctx, const char *name, cl_program p,
                         const char *path, uint64_t key)
{
    size_t len = 0;
    if (clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) !=
            CL_SUCCESS ||
        len == 0)
        return;
    unsigned char *bin = opk_malloc(len);
    if (!bin)
        return; /* not cached this time */
    if (clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) ==
            CL_SUCCESS &&
        store_file(path, key, bin, len) == 0) {
        atomic_fetch_add(&n_written, 1);
        note("opk: opencl: program '%s': wrote %s\n", name, path);
    }
    opk_free(bin);
    (void)ctx;
}

opk_status opk_cl_build(const opk_ctx *ctx, const char *name,
                        const char *source, cl_program *out)
{
    opk_cl *cl = ctx->cl;
    char path[4200];
    opk_cl_cache_path(ctx, source, path, sizeof path);
    uint64_t key = cache_key(cl, source);
    if (path[0]) {
        size_t len;
        int bad;
        unsigned char *bin = load_file(path, key, &len, &bad);
        cl_program p = bin ? from_binary(ctx, bin, len) : NULL;
        int refused = bin && !p; /* a valid file the driver would not load */
        opk_free(bin);
        if (p) {
            atomic_fetch_add(&n_loaded, 1);
            note("opk: opencl: program '%s': loaded %s\n", name, path);
            *out = p;
            return OPK_OK;
        }
        if (bad || refused) {
            atomic_fetch_add(&n_rejected, 1);
            note("opk: opencl: program '%s': rejected %s (rebuilding)\n",
                 name, path);
        }
    }
    cl_int err;
    size_t slen = strlen(source);
    cl_program p = clCreateProgramWithSource(cl->context, 1, &source, &slen,
                                             &err);
    if (!p)
        return opk_cl_fail(ctx, err, "clCreateProgramWithSource");
    err = clBuildProgram(p, 1, &cl->device, cl->options, NULL, NULL);
    if (err != CL_SUCCESS) {
        opk_status st = build_failure(ctx, name, p, err);
        clReleaseProgram(p);
        return st;
    }
    atomic_fetch_add(&n_compiled, 1);
    note("opk: opencl: program '%s': compiled from source%s\n", name, "");
    if (path[0])
        store_binary(ctx, name, p, path, key);
    *out = p;
    return OPK_OK;
}

int opk_cl_program_cache_file(const opk_ctx *ctx, const char *program,
                              char *path, size_t n)
{
    char *src = opk_cl_program_source(program);
    path[0] = 0;
    if (!src)
        return -1;
    opk_cl_cache_path(ctx, src, path, n);
    opk_free(src);
    return 0;
}

opk_status opk_cl_try_build(opk_ctx *ctx, const char *name,
                            const char *source)
{
    if (!ctx || !ctx->cl)
        return opk_fail(ctx, OPK_ERR_INVALID_ARG,
                        "opk_cl_try_build: not an opencl context");
    cl_program p;
    opk_cl_lock(ctx->cl);
    opk_status st = opk_cl_build(ctx, name, source, &p);
    opk_cl_unlock(ctx->cl);
    if (!st)
        clReleaseProgram(p);
    return st;
}
