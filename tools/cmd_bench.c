/* opk bench: times kernels x shapes x backends x threads and reports each
 * against this machine's measured limits (bench/limits.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "../bench/limits.h"
#include "../bench/report.h"
#include "../bench/timing.h"
#include "cli.h"

static const char help[] =
    "usage: opk bench [--kernel K] [--backend B|all] [--size SPEC]\n"
    "                 [--threads N[,N...]] [--quick] [--json FILE]\n"
    "                 [--remeasure] [--min-time S] [--reps N]\n"
    "                 [--limits-size-mib M]\n"
    "\n"
    "First establishes this machine's limits: memory bandwidth, from a\n"
    "STREAM-triad-like loop a[i] = b[i] + s*c[i] over 256 MiB (3 arrays) with\n"
    "all cores, counted as 3 x 4 bytes per element, best of 10 passes (also\n"
    "shown for one thread); and the FP32 FMA peak of each usable ISA (scalar,\n"
    "avx2, avx512: 12 independent fma chains per thread, 2 flops per fma, with\n"
    "one thread and all cores). They are measured once and cached in\n"
    "$XDG_CACHE_HOME/opk/ (else $HOME/.cache/opk/), one file per CPU model,\n"
    "core count and opk version; an unreadable or corrupt cache file, or one\n"
    "that is not the user's own regular file in a folder of the user's that\n"
    "no one else may write, is ignored and measured again. The first output\n"
    "line says \"limits: cached\" or \"limits: measured\".\n"
    "Operands (and the triad's arrays) of 4 MiB or more are allocated as\n"
    "NumPy allocates its arrays on Linux: with madvise(MADV_HUGEPAGE), a hint\n"
    "the kernel follows when /sys/kernel/mm/transparent_hugepage/enabled is\n"
    "madvise or always.\n"
    "\n"
    "Then times every selected kernel x shape x backend x thread count: a\n"
    "warm-up, then repetitions until --min-time seconds have passed (at least\n"
    "3 repetitions) or --reps repetitions were made, whichever comes first,\n"
    "on CLOCK_MONOTONIC. Each row: kernel, shape, backend, threads,\n"
    "repetitions, median and minimum milliseconds, the rate from the median\n"
    "(GB/s for memory-bound kernels, GFLOP/s for compute-bound ones) and its\n"
    "percentage of the matching limit: the triad bandwidth (bw: with all\n"
    "cores, or with one thread if that was better, as on a busy machine), or\n"
    "the FMA peak of the backend's ISA for that many threads (fma: the\n"
    "1-thread peak times threads, at most the all-cores peak).\n"
    "attention-linear moves bytes and does flops: its row is rated against\n"
    "whichever bounds it (bytes / bandwidth or flops / peak, the longer).\n"
    "OpenCL rows show no percentage: the limits are the host's, and the\n"
    "device (even PoCL's, which has its own threads) is not measured.\n"
    "On the OpenCL backend the last column splits a call's time on the\n"
    "device, from %d more calls with event profiling on (medians): host-to-\n"
    "device copies / kernels / device-to-host copies, in ms. The rest of the\n"
    "median is host work (argument checks, enqueueing, waiting).\n"
    "\n"
    "kernels and what they count:\n"
    "  softmax   Y = softmax(X) out of place along rows or columns; traffic\n"
    "            = one read of X + one write of Y (8 bytes per element).\n"
    "            Shapes: rows 4096x4096, 16384x1024, 1024x65536 and cols\n"
    "            4096x4096; --quick: rows and cols 1024x1024\n"
    "  sinkhorn  potentials of an n x m S, tol 0; traffic = S read twice an\n"
    "            iteration (row pass, column pass). 10it: 10 iterations a\n"
    "            call, one check; 100it: 100 with the default check every\n"
    "            10. ms per iteration = median / iterations. Shapes: 10it\n"
    "            1024, 4096, 8192 square, 100it 4096x4096; --quick: 512\n"
    "  cheb      K = 20 orders of the sym. normalized Laplacian of a\n"
    "            RxC grid plus E random edges (shape RxCxExF, E may be\n"
    "            0; X n x F);\n"
    "            traffic per order = nnz*8 + n*8 + 3*n*F*4 bytes. Variant\n"
    "            gather: the same graph's loads alone (L and the X row of\n"
    "            each entry, prefetched alike; no recurrence), in the same\n"
    "            bytes: the floor the memory system sets (F < 16: 8\n"
    "            independent sums over the entries, no row chains; host\n"
    "            code: one row, on the first CPU backend listed).\n"
    "            Shapes: 1000x1000x3000000 with F = 1, 16, 64, each also\n"
    "            gather; --quick: 100x100x30000x16\n"
    "  attention softmax, sigmoid and sinkhorn (3 half-steps) modes, shape\n"
    "            n x m x d x dv with n = m (H = V), tau 1, no graph;\n"
    "            GFLOP/s counted as 4nmd against the FMA peak. Shape:\n"
    "            4096x4096x64x64; --quick:\n"
    "            softmax 512x512x64x64\n"
    "  attention-linear  linear mode, n = m = 10^6, d = dv = 32; GB/s of\n"
    "            Q, K, V, H read and O written, rated against bandwidth or\n"
    "            FMA peak, whichever bounds it; --quick: n = m = 50000\n"
    "\n"
    "options:\n"
    "  --kernel K          only kernel K (default: every kernel)\n"
    "  --backend B|all     scalar|avx2|avx512|neon|opencl[:P:D]|auto, or all\n"
    "                      usable backends (default: all)\n"
    "  --size SHAPE        one shape instead of the defaults, e.g. 2048x2048\n"
    "                      (each kernel's form above), run for each variant\n"
    "                      (softmax: rows and cols)\n"
    "  --threads N[,N...]  thread counts to run, each in its own rows (default:\n"
    "                      OPK_NUM_THREADS, else all online cores)\n"
    "  --quick             the small shapes (they fit in cache, so %% of bw may\n"
    "                      pass 100): about 15 s on 2 cores for every kernel\n"
    "                      and 4 backends, plus the limits when not cached\n"
    "  --json FILE         also write the results as JSON: opk version, CPU,\n"
    "                      cores, the limits, and one record per measurement\n"
    "  --remeasure         measure the limits again and rewrite the cache\n"
    "  --min-time S        seconds of timed repetitions per row (default 0.5)\n"
    "  --reps N            at most N timed repetitions per row (default 1000)\n"
    "  --limits-size-mib M triad footprint in MiB (default 256); other sizes\n"
    "                      are cached apart, and below 256 the peak loops are\n"
    "                      shortened too (quick checks and tests only)\n"
    "\n"
    "A progress line \"[3/12] softmax rows 4096x4096 avx512 t=2\" is kept on\n"
    "stderr when it is a terminal. Exit status: 0, 1 if a kernel or the JSON\n"
    "file failed, 2 on a usage error.\n";

#define MAX_THREADS_LIST 16
#define MAX_KERNELS 32

typedef struct bench_args {
    const char *kernel, *backend, *size, *json;
    int threads[MAX_THREADS_LIST];
    int nthreads; /* 0: the context default */
    int quick, remeasure;
    double min_time;
    long reps, limits_mib;
} bench_args;

static int parse_threads(const char *s, bench_args *a)
{
    const char *p = s;
    a->nthreads = 0;
    for (;;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 4096 || a->nthreads == MAX_THREADS_LIST)
            break;
        a->threads[a->nthreads++] = (int)v;
        if (*end == 0)
            return 0;
        if (*end != ',')
            break;
        p = end + 1;
    }
    return cli_usage_error("bench: --threads: '%s' is not a list of 1 to %d "
                           "integers in [1, 4096] separated by commas",
                           s, MAX_THREADS_LIST);
}

static int parse_args(int argc, char **argv, bench_args *a)
{
    memset(a, 0, sizeof *a);
    a->backend = "all";
    a->min_time = BENCH_MIN_TIME_DEFAULT;
    a->reps = BENCH_MAX_REPS_DEFAULT;
    a->limits_mib = BENCH_TRIAD_MIB_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if ((r = cli_opt(argc, argv, &i, "--kernel", &v)) != 0) {
            if (r < 0)
                return 2;
            a->kernel = v;
        } else if ((r = cli_opt(argc, argv, &i, "--backend", &v)) != 0) {
            if (r < 0)
                return 2;
            a->backend = v;
        } else if ((r = cli_opt(argc, argv, &i, "--size", &v)) != 0) {
            if (r < 0)
                return 2;
            a->size = v;
        } else if ((r = cli_opt(argc, argv, &i, "--json", &v)) != 0) {
            if (r < 0)
                return 2;
            a->json = v;
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || parse_threads(v, a))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--min-time", &v)) != 0) {
            float t;
            if (r < 0 || cli_parse_float("--min-time", v, &t))
                return 2;
            if (!(t >= 0 && t <= 3600))
                return cli_usage_error("bench: --min-time: '%s' is not a "
                                       "number of seconds in [0, 3600]", v);
            a->min_time = t;
        } else if ((r = cli_opt(argc, argv, &i, "--reps", &v)) != 0) {
            if (r < 0 || cli_parse_int("--reps", v, 1, 1000000, &a->reps))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--limits-size-mib", &v)) !=
                   0) {
            if (r < 0 ||
                cli_parse_int("--limits-size-mib", v, 1, 65536, &a->limits_mib))
                return 2;
        } else if (cli_flag(argv, i, "--quick")) {
            a->quick = 1;
        } else if (cli_flag(argv, i, "--remeasure")) {
            a->remeasure = 1;
        } else
            return cli_usage_error("bench: unknown option '%s' (see opk bench "
                                   "--help)", argv[i]);
    }
    return 0;
}

/* ---- limits ------------------------------------------------------------ */

/* Loads the cached limits or measures (and caches) them. */
static void get_limits(const bench_args *a, const bench_machine *m,
                       bench_limits *lim, const char **source)
{
    char path[4096], why[256];
    int have_path =
        !bench_cache_path(m, (int)a->limits_mib, path, sizeof path);
    if (!have_path)
        fprintf(stderr, "opk: bench: neither XDG_CACHE_HOME nor HOME is an "
                        "absolute directory: the limits are not cached\n");
    if (have_path && !a->remeasure) {
        if (!bench_limits_load(path, m, (int)a->limits_mib, lim, why,
                               sizeof why)) {
            *source = "cached";
            printf("limits: cached (%s)\n", path);
            bench_report_limits(m, lim);
            return;
        }
        if (access(path, F_OK) == 0)
            printf("limits: cache %s ignored: %s\n", path, why);
    }
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "measuring this machine's limits...\r");
    bench_limits_measure(m, (int)a->limits_mib, lim);
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r\033[K");
    *source = "measured";
    int saved = have_path && !bench_limits_save(path, m, lim, why, sizeof why);
    if (have_path && !saved)
        fprintf(stderr, "opk: bench: cannot cache the limits: %s\n", why);
    printf("limits: measured%s%s%s\n", saved ? " (cached in " : "",
           saved ? path : "", saved ? ")" : " (not cached)");
    bench_report_limits(m, lim);
}

/* ---- the runs ---------------------------------------------------------- */

typedef struct call_arg {
    const bench_kernel *k;
    opk_ctx *ctx;
    void *state;
    opk_status status;
} call_arg;

static int call_once(void *p)
{
    call_arg *c = p;
    c->status = c->k->run(c->ctx, c->state);
    return c->status != OPK_OK;
}

static void progress(int on, int i, int n, const bench_kernel *k,
                     const bench_shape *s, opk_backend b, int t)
{
    if (!on)
        return;
    char dims[64];
    bench_shape_text(k, s, dims, sizeof dims);
    fprintf(stderr, "\r[%d/%d] %s %s %s %s t=%d\033[K", i, n, k->name,
            s->variant, dims, opk_backend_name(b), t);
    fflush(stderr);
}

static void progress_clear(int on)
{
    if (on)
        fprintf(stderr, "\r\033[K"), fflush(stderr);
}

/* ---- the command --------------------------------------------------------- */

/* The shapes to run for kernel k: --size (each variant), --quick or the
 * defaults. Returns the count (at most max). */
static int shapes_for(const bench_kernel *k, const bench_args *a,
                      const size_t *size_dims, bench_shape *out, int max)
{
    int n = 0;
    if (a->size) {
        for (int v = 0; k->variants[v] && n < max; v++) {
            out[n].variant = k->variants[v];
            memcpy(out[n].dims, size_dims, sizeof out[n].dims);
            n++;
        }
        return n;
    }
    const bench_shape *src = a->quick ? k->quick : k->shapes;
    size_t cnt = a->quick ? k->nquick : k->nshapes;
    for (size_t i = 0; i < cnt && n < max; i++)
        out[n++] = src[i];
    return n;
}

int cmd_bench(int argc, char **argv)
{
    if (cli_wants_help(argc, argv))
        return printf(help, BENCH_DEVICE_REPS), 0;
    bench_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;

    const bench_kernel *kernels[MAX_KERNELS];
    int nk = 0;
    for (int i = 0; bench_kernels[i] && nk < MAX_KERNELS; i++)
        if (!a.kernel || !strcmp(a.kernel, bench_kernels[i]->name))
            kernels[nk++] = bench_kernels[i];
    if (nk == 0)
        return cli_usage_error("bench: --kernel: no kernel named '%s'",
                               a.kernel);
    /* --size must fit the kernel asked for; without --kernel it selects
     * the kernels whose shapes it fits (softmax RxC, attention NxMxDxDV). */
    size_t size_dims[MAX_KERNELS][BENCH_MAX_DIMS] = {{0}};
    if (a.size) {
        int kept = 0;
        char first_err[256] = "";
        for (int i = 0; i < nk; i++) {
            char err[256];
            if (bench_parse_size(kernels[i], a.size, size_dims[kept], err,
                                 sizeof err)) {
                if (a.kernel)
                    return cli_usage_error("bench: %s", err);
                if (!first_err[0])
                    snprintf(first_err, sizeof first_err, "%s", err);
                continue;
            }
            kernels[kept++] = kernels[i];
        }
        if (kept == 0)
            return cli_usage_error("bench: %s", first_err);
        nk = kept;
    }
    opk_backend backends[OPK_BACKEND_COUNT];
    int clp, cld; /* --backend opencl:P:D */
    int nb = cli_backends(a.backend, backends, OPK_BACKEND_COUNT, &clp, &cld);
    if (nb < 0)
        return 2;
    if (nb == 0)
        return cli_error("bench: no usable backend");
    /* Contexts up front: an unusable backend or a bad OPK_NUM_THREADS
     * fails now, not after the limits. */
    int nthreads = a.nthreads ? a.nthreads : 1;
    for (int b = 0; b < nb; b++) {
        opk_ctx *ctx = cli_ctx_cl(backends[b], a.nthreads ? a.threads[0] : 0,
                                  clp, cld);
        if (!ctx)
            return 1;
        backends[b] = opk_ctx_backend(ctx); /* AUTO resolved */
        opk_ctx_destroy(ctx);
    }

    FILE *json = NULL;
    if (a.json && !(json = fopen(a.json, "w")))
        return cli_error("bench: --json: cannot write '%s': %s", a.json,
                         strerror(errno));

    bench_machine m;
    bench_machine_get(&m);
    printf("opk %s bench on %s (%d cores)\n", m.version, m.model, m.cores);
    bench_limits lim;
    const char *source;
    get_limits(&a, &m, &lim, &source);

    int total = 0;
    bench_shape shapes[MAX_KERNELS][16];
    int nshapes[MAX_KERNELS];
    for (int i = 0; i < nk; i++) {
        nshapes[i] = shapes_for(kernels[i], &a, size_dims[i], shapes[i], 16);
        total += nshapes[i] * nb * nthreads;
    }
    bench_record *rec = calloc((size_t)total + 1, sizeof *rec);
    if (!rec)
        return cli_error("bench: out of memory");
    int nrec = 0, failed = 0, done = 0, tty = isatty(STDERR_FILENO);
    int first_cpu = -1; /* where host_variant rows run */
    for (int b = nb - 1; b >= 0; b--)
        if (backends[b] != OPK_BACKEND_OPENCL)
            first_cpu = b;
    bench_report_header();
    for (int i = 0; i < nk; i++) {
        const bench_kernel *k = kernels[i];
        for (int s = 0; s < nshapes[i]; s++) {
            const bench_shape *sh = &shapes[i][s];
            void *state = NULL;
            char err[256];
            if (k->setup(sh, &state, err, sizeof err)) {
                progress_clear(tty);
                cli_error("bench: %s", err);
                failed++;
                done += nb * nthreads;
                continue;
            }
            for (int b = 0; b < nb; b++)
                for (int t = 0; t < nthreads; t++) {
                    int want = a.nthreads ? a.threads[t] : 0;
                    done++;
                    if (!opk_backend_implements(backends[b], k->op))
                        continue; /* e.g. a kernel without an OpenCL port */
                    if (k->host_variant &&
                        !strcmp(sh->variant, k->host_variant) &&
                        b != first_cpu)
                        continue; /* host code: once is enough */
                    opk_ctx *ctx = cli_ctx_cl(backends[b], want, clp, cld);
                    if (!ctx) {
                        failed++;
                        continue;
                    }
                    progress(tty, done, total, k, sh, backends[b],
                             opk_ctx_num_threads(ctx));
                    bench_record *r = &rec[nrec];
                    r->k = k;
                    r->shape = *sh;
                    r->backend = backends[b];
                    r->threads = opk_ctx_num_threads(ctx);
                    call_arg c = {k, ctx, state, OPK_OK};
                    int bad = bench_time(call_once, &c, a.min_time,
                                         (int)a.reps, &r->st);
                    if (!bad)
                        bad = bench_device_times(ctx, call_once, &c,
                                                 BENCH_DEVICE_REPS, &r->dev);
                    progress_clear(tty);
                    if (bad) {
                        cli_error("bench: %s on %s failed: %s (%s)", k->name,
                                  opk_backend_name(backends[b]),
                                  opk_status_str(c.status),
                                  opk_ctx_last_error(ctx));
                        opk_ctx_destroy(ctx);
                        failed++;
                        continue;
                    }
                    opk_ctx_destroy(ctx);
                    r->work = k->work(sh, state);
                    r->rate = r->work / r->st.median_s / 1e9;
                    /* The limits are the host's: a device has its own. */
                    r->limit = r->backend == OPK_BACKEND_OPENCL ? 0
                               : k->limit == BENCH_BANDWIDTH
                                   ? bench_limits_bw(&lim)
                                   : bench_limits_fma(&lim, r->backend,
                                                      r->threads);
                    r->percent = r->limit > 0 ? 100.0 * r->rate / r->limit : 0;
                    /* Bandwidth kernel with real compute: the binding limit
                     * is the one whose time for this call is longer. */
                    double peak = bench_limits_fma(&lim, r->backend, r->threads);
                    if (r->limit > 0 && k->flops && peak > 0) {
                        double fl = k->flops(sh, state);
                        if (fl / peak > r->work / r->limit) {
                            r->fma_bound = 1;
                            r->limit = peak;
                            r->percent = 100.0 * fl / r->st.median_s / 1e9 / peak;
                        }
                    }
                    bench_report_row(r);
                    nrec++;
                }
            k->teardown(state);
        }
    }
    progress_clear(tty);
    bench_settings set = {a.min_time, a.reps, a.quick};
    if (json && bench_report_json(json, &m, &lim, source, &set, rec, nrec)) {
        cli_error("bench: --json: error writing '%s'", a.json);
        failed++;
    }
    free(rec);
    if (failed)
        return cli_error("bench: %d measurement(s) failed", failed);
    return 0;
}
