/* opk run: one kernel on the user's .npy files; prints the output hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"

static const char help[] =
    "usage: opk run KERNEL --in NAME=FILE.npy ... [--out FILE.npy] [options]\n"
    "\n"
    "Runs one kernel on float32 C-order .npy arrays and prints the output's\n"
    "shape, backend and XXH3-64 hash (SPEC 4); --out writes it as .npy.\n"
    "\n"
    "kernels:\n"
    "  softmax   --in X=FILE.npy  [--beta B] [--axis rows|cols] [--log]\n"
    "            Y = softmax(B * X) along the axis (default rows, B = 1)\n"
    "\n"
    "common options:\n"
    "  --backend B   scalar|avx2|avx512|neon|opencl[:P:D] (default: auto)\n"
    "  --threads N   threads (default: OPK_NUM_THREADS or all cores)\n"
    "  --out FILE    write the output (.npy, same dimensionality as input)\n";

#define MAX_IN 8

typedef struct run_args {
    const char *kernel, *out;
    const char *in_name[MAX_IN], *in_path[MAX_IN];
    int nin;
    float beta;
    const char *axis;
    int log;
    opk_backend backend;
    long threads;
    int cl_platform, cl_device; /* --backend opencl:P:D */
} run_args;

static const char *input_path(const run_args *a, const char *name)
{
    for (int i = 0; i < a->nin; i++)
        if (!strcmp(a->in_name[i], name))
            return a->in_path[i];
    return NULL;
}

static int check_inputs(const run_args *a, const char *const *allowed)
{
    for (int i = 0; i < a->nin; i++) {
        int ok = 0;
        for (const char *const *n = allowed; *n; n++)
            ok |= !strcmp(*n, a->in_name[i]);
        if (!ok)
            return cli_usage_error("run %s: no input named '%s'", a->kernel,
                                   a->in_name[i]);
    }
    for (const char *const *n = allowed; *n; n++)
        if (!input_path(a, *n))
            return cli_usage_error("run %s: missing --in %s=FILE.npy",
                                   a->kernel, *n);
    return 0;
}

static int print_and_write(const run_args *a, const char *name, opk_cmat Y,
                           int ndim, const char *bname)
{
    uint64_t h;
    opk_hash(Y, &h);
    printf("%s  %zux%zu  backend %s  hash %016llx\n", name, Y.rows, Y.cols,
           bname, (unsigned long long)h);
    if (a->out) {
        char err[512];
        if (npy_write(a->out, Y.data, Y.rows, Y.cols, Y.ld, ndim, err,
                      sizeof err))
            return cli_error("run: %s", err);
    }
    return 0;
}

static int run_softmax(const run_args *a, opk_ctx *ctx)
{
    static const char *const inputs[] = {"X", NULL};
    int r = check_inputs(a, inputs);
    if (r)
        return r;
    opk_axis axis;
    if (!strcmp(a->axis, "rows"))
        axis = OPK_ROWS;
    else if (!strcmp(a->axis, "cols"))
        axis = OPK_COLS;
    else
        return cli_usage_error("--axis: '%s' is not rows or cols", a->axis);
    npy_array x;
    char err[512];
    if (npy_read(input_path(a, "X"), &x, err, sizeof err))
        return cli_error("run softmax: --in X: %s", err);
    opk_cmat X = {x.data, x.rows, x.cols, x.cols};
    float *y = malloc(x.rows * x.cols * sizeof(float) + 4);
    if (!y) {
        npy_free(&x);
        return cli_error("run softmax: out of memory");
    }
    opk_mat Y = {y, x.rows, x.cols, x.cols};
    opk_status st = opk_softmax(ctx, X, Y, a->beta, axis, a->log ? OPK_LOG : 0);
    if (st)
        r = cli_error("run softmax: %s: %s", opk_status_str(st),
                      opk_ctx_last_error(ctx));
    else
        r = print_and_write(a, "Y", opk_cmat_of(Y), x.ndim,
                            opk_backend_name(opk_ctx_backend(ctx)));
    free(y);
    npy_free(&x);
    return r;
}

int cmd_run(int argc, char **argv)
{
    if (cli_wants_help(argc, argv) || argc < 2)
        return fputs(help, argc < 2 ? stderr : stdout), argc < 2 ? 2 : 0;
    run_args a = {.kernel = argv[1], .beta = 1.0f, .axis = "rows",
                  .backend = OPK_BACKEND_AUTO};
    const char *v;
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--in", &v)) != 0) {
            if (r < 0)
                return 2;
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1])
                return cli_usage_error("--in: '%s' is not NAME=FILE.npy", v);
            if (a.nin == MAX_IN)
                return cli_usage_error("--in: at most %d inputs", MAX_IN);
            /* Names live in a static table: nothing to free on the many
             * early returns (a strndup here leaked on each, found by LSan). */
            static char names[MAX_IN][64];
            if ((size_t)(eq - v) >= sizeof names[0])
                return cli_usage_error("--in: name '%.*s' is too long",
                                       (int)(eq - v), v);
            memcpy(names[a.nin], v, (size_t)(eq - v));
            names[a.nin][eq - v] = 0;
            a.in_name[a.nin] = names[a.nin];
            a.in_path[a.nin++] = eq + 1;
        } else if ((r = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (r < 0)
                return 2;
            a.out = v;
        } else if ((r = cli_opt(argc, argv, &i, "--beta", &v)) != 0) {
            if (r < 0 || cli_parse_float("--beta", v, &a.beta))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--axis", &v)) != 0) {
            if (r < 0)
                return 2;
            a.axis = v;
        } else if ((r = cli_opt(argc, argv, &i, "--backend", &v)) != 0) {
            if (r < 0)
                return 2;
            if (opk_backend_parse(v, &a.backend, &a.cl_platform, &a.cl_device))
                return cli_usage_error("--backend: %s",
                                       opk_ctx_last_error(NULL));
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || cli_parse_int("--threads", v, 1, 4096, &a.threads))
                return 2;
        } else if (cli_flag(argv, i, "--log")) {
            a.log = 1;
        } else
            return cli_usage_error("run: unknown option '%s' (see opk run "
                                   "--help)", argv[i]);
    }
    int (*fn)(const run_args *, opk_ctx *) = NULL;
    if (!strcmp(a.kernel, "softmax"))
        fn = run_softmax;
    else
        return cli_usage_error("run: unknown kernel '%s' (see opk run --help)",
                               a.kernel);
    opk_ctx *ctx = cli_ctx_cl(a.backend, (int)a.threads, a.cl_platform,
                              a.cl_device);
    int r = ctx ? fn(&a, ctx) : 1;
    opk_ctx_destroy(ctx);
    return r;
}
