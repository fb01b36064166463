/* Building OpenCL programs, through an on-disk cache of program binaries.
 *
 * Key: XXH3-64 of the program source, the build options, the device name,
 * the driver version, the platform version and the opk version; the file
 * is $XDG_CACHE_HOME/opk/cl/<key>.bin (else $HOME/.cache/opk/cl/), a header
 * (magic, format, key, payload length, XXH3-64 of the payload) and the
 * binary from CL_PROGRAM_BINARIES. A file whose header, length or hash does
 * not match, or that the driver refuses, is rejected and rebuilt from
 * source. A binary runs as if built from opk's source, so only the user's
 * own files in a folder no one else may write are read (see
 * kernels/cachefile.h: also how files are written). OPK_CL_CACHE=0
 * disables the cache; OPK_CL_LOG=1 prints each load, write, rejection
 * (and refused file or folder) and compile on stderr. */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "../dispatch/ctx.h"
#include "../kernels/cachefile.h"
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
    if (!cache_enabled() || opk_cache_dir("opk/cl", dir, sizeof dir))
        return;
    int r = snprintf(path, n, "%s/%016" PRIx64 ".bin", dir,
                     cache_key(ctx->cl, source));
    if (r < 0 || (size_t)r >= n)
        path[0] = 0;
}

/* The payload of a valid cache file for key (opk_malloc'ed); NULL
 * otherwise (*bad is set when a file exists but is not valid or not
 * trusted; a failed allocation is not the file's fault: the caller just
 * compiles). */
static unsigned char *load_file(const char *path, uint64_t key, size_t *len,
                                int *bad)
{
    char why[512];
    int missing;
    *bad = 0;
    int fd = opk_cache_open(path, &missing, why, sizeof why);
    if (fd < 0) {
        *bad = !missing;
        if (!missing)
            note("opk: opencl: cache: %s%s\n", why, "");
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return NULL;
    }
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

/* Writes header + payload as the cache file (see cachefile.h). */
static int store_file(const char *path, uint64_t key, const unsigned char *p,
                      size_t len, char *why, size_t nwhy)
{
    header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.format = FORMAT;
    h.key = key;
    h.length = len;
    h.payload_hash = XXH3_64bits(p, len);
    return opk_cache_write(path, &h, sizeof h, p, len, why, nwhy);
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
    char why[512] = "the driver gave no binary";
    if (clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) ==
            CL_SUCCESS &&
        store_file(path, key, bin, len, why, sizeof why) == 0) {
        atomic_fetch_add(&n_written, 1);
        note("opk: opencl: program '%s': wrote %s\n", name, path);
    } else {
        note("opk: opencl: program '%s': not cached: %s\n", name, why);
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
