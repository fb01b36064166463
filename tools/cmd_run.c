/* opk run: one kernel on the user's .npy files; prints the output hash. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"
#include "run_attention.h"

static const char help[] =
    "usage: opk run KERNEL --in NAME=FILE.npy ... [--out FILE.npy] [options]\n"
    "\n"
    "Runs one kernel on float32 C-order .npy arrays and prints the output's\n"
    "shape, backend and XXH3-64 hash (SPEC 4); --out writes it as .npy.\n"
    "\n"
    "kernels:\n"
    "  softmax   --in X=FILE.npy  [--beta B] [--axis rows|cols] [--log]\n"
    "            Y = softmax(B * X) along the axis (default rows, B = 1)\n"
    "  sinkhorn  --in S=FILE.npy [--in a=FILE.npy] [--in b=FILE.npy] [--beta B]\n"
    "            [--tol T] [--max-iter N] [--check-every K] [--no-plan]\n"
    "            [--out-f FILE] [--out-g FILE] [--out-plan FILE]\n"
    "            log-domain Sinkhorn on t = B * S (B = 1; -1/eps for a cost):\n"
    "            potentials f, g and plan P = exp(t + f + g) with row sums a\n"
    "            and column sums b (default 1 and rows/cols); prints the\n"
    "            iterations, the row-marginal error, whether it converged\n"
    "            (tol < 0: 1e-6 * sum(a)), and the hashes of f, g and P\n"
    "  attention --in Q=FILE --in K=FILE --in V=FILE [--in H=FILE] [--beta B]\n"
    "            [--norm softmax|sigmoid|sinkhorn|linear] [--tau T] [--iters N]\n"
    "            [--global-norm] [--graph FILE.mtx [--lambda-g W] [the graph\n"
    "            options of cheb]]\n"
    "            O = (1-T) H + T ((1-W) A V + W G) with A = Normalize(Q K^T\n"
    "            B / sqrt(d)) (softmax, T = 1, B = 1 by default; N Sinkhorn\n"
    "            half-steps, 3; linear mode: row norms, or one Frobenius norm\n"
    "            with --global-norm); H defaults to V; G = g(L) V as cheb\n"
    "            computes Y (heat exp(-t l) by default, --t 1, --K 30), with\n"
    "            weight W = 0.5 by default\n"
    "  cheb      --graph FILE.mtx --in X=FILE.npy  [--laplacian sym|comb|rw]\n"
    "            [--filter heat|lowpass] [--t T] [--cutoff C] [--K K]\n"
    "            [--damping none|jackson|lanczos] [--lmax L]\n"
    "            Y = g(L) X by Chebyshev propagation (SPEC 3.3): L the\n"
    "            Laplacian (default sym) of the .mtx adjacency, g = exp(-T l)\n"
    "            (heat, default T = 1) or the step at C (lowpass, default\n"
    "            C = lmax / 4), K + 1 coefficients (default K = 30) on\n"
    "            [0, lmax]; lmax estimated by opk_lmax unless given (a\n"
    "            given lmax below a Rayleigh quotient of L draws a warning:\n"
    "            the series would be evaluated outside [0, lmax]); X is\n"
    "            n x F (or a vector of n)\n"
    "\n"
    "common options:\n"
    "  --backend B   scalar|avx2|avx512|neon|opencl[:P:D] (default: auto)\n"
    "  --threads N   threads (default: OPK_NUM_THREADS or all cores)\n"
    "  --out FILE    write the output as .npy (softmax and cheb: 1-D for a\n"
    "                1-D input; attention: 2-D)\n"
    "\n"
    "Output files are reserved before the kernel runs and replaced only when\n"
    "complete: a path that cannot be written fails first, and a failed run\n"
    "leaves every output file as it was.\n"
    "\n"
    "An option of another kernel (--K for softmax), a graph option without\n"
    "--graph, a filter's parameter with the other filter (--t with lowpass,\n"
    "--cutoff with heat), an attention option of another normalization\n"
    "(--iters without --norm sinkhorn, --global-norm without linear), an\n"
    "option or an --in name given twice is a usage error (exit 2), checked\n"
    "before anything runs; --beta with --norm linear, which ignores it, draws\n"
    "a warning.\n";

#define MAX_IN 8

/* The kernels each option applies to; the rest (--in, --backend,
 * --threads) apply to all. An option given to another kernel is a usage
 * error, not silently ignored. */
static const struct {
    const char *opt, *kernels;
} scope[] = {
    {"--out", "softmax, sinkhorn, attention and cheb"}, /* sinkhorn: a hint */
    {"--beta", "softmax, sinkhorn and attention"},
    {"--axis", "softmax"}, {"--log", "softmax"},
    {"--tol", "sinkhorn"}, {"--max-iter", "sinkhorn"},
    {"--check-every", "sinkhorn"}, {"--no-plan", "sinkhorn"},
    {"--out-f", "sinkhorn"}, {"--out-g", "sinkhorn"},
    {"--out-plan", "sinkhorn"},
    {"--norm", "attention"}, {"--tau", "attention"}, {"--iters", "attention"},
    {"--global-norm", "attention"}, {"--lambda-g", "attention"},
    {"--graph", "attention and cheb"}, {"--laplacian", "attention and cheb"},
    {"--filter", "attention and cheb"}, {"--damping", "attention and cheb"},
    {"--t", "attention and cheb"}, {"--cutoff", "attention and cheb"},
    {"--lmax", "attention and cheb"}, {"--K", "attention and cheb"},
};

/* The scope entry of option argument s (--name or --name=value), or -1. */
static int scope_of(const char *s)
{
    size_t n = strcspn(s, "=");
    for (size_t i = 0; i < sizeof scope / sizeof *scope; i++)
        if (strlen(scope[i].opt) == n && !strncmp(scope[i].opt, s, n))
            return (int)i;
    return -1;
}

/* Whether word w is one of the words of list ("a, b and c"). */
static int has_word(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == ' ' || !p[n]))
            return 1;
    return 0;
}

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

    /* sinkhorn */
    float tol;
    long max_iter, check_every;
    int no_plan;
    const char *out_f, *out_g, *out_plan;
    /* attention */
    attn_cli attn;
    /* cheb */
    const char *graph, *laplacian, *filter, *damping;
    float t, cutoff, lmax;
    long K;
    unsigned char given[sizeof scope / sizeof *scope]; /* by scope entry */
} run_args;

static int given(const run_args *a, const char *opt)
{
    return a->given[scope_of(opt)];
}

/* Graph options need --graph (attention's --lambda-g too), and each
 * filter's parameter needs that filter (attention and cheb). */
static int check_graph_opts(const run_args *a)
{
    static const char *const gopts[] = {"--lambda-g", "--laplacian",
                                        "--filter",   "--damping",
                                        "--t",        "--cutoff",
                                        "--lmax",     "--K"};
    for (size_t i = 0; !a->graph && i < sizeof gopts / sizeof *gopts; i++)
        if (given(a, gopts[i]))
            return cli_usage_error("run %s: %s needs --graph", a->kernel,
                                   gopts[i]);
    if (given(a, "--t") && strcmp(a->filter, "heat"))
        return cli_usage_error("run %s: --t is the heat filter's time; the "
                               "filter is %s", a->kernel, a->filter);
    if (given(a, "--lmax") && !(a->lmax > 0.0f && a->lmax < INFINITY))
        return cli_usage_error("run %s: --lmax (%g) must be positive and "
                               "finite", a->kernel, (double)a->lmax);
    if (given(a, "--cutoff") && strcmp(a->filter, "lowpass"))
        return cli_usage_error("run %s: --cutoff is the lowpass filter's; the "
                               "filter is %s", a->kernel, a->filter);
    return 0;
}

/* Attention options that only one normalization uses. */
static int check_mode_opts(const run_args *a)
{
    static const struct {
        const char *opt, *norm;
    } only[] = {{"--iters", "sinkhorn"}, {"--global-norm", "linear"}};
    for (size_t i = 0; i < sizeof only / sizeof *only; i++)
        if (given(a, only[i].opt) && strcmp(a->attn.norm, only[i].norm))
            return cli_usage_error("run attention: %s applies to --norm %s "
                                   "only (the norm is %s)",
                                   only[i].opt, only[i].norm, a->attn.norm);
    /* A warning only: scripts sweep the norms with one --beta. */
    if (given(a, "--beta") && !strcmp(a->attn.norm, "linear"))
        fprintf(stderr, "opk: run attention: warning: --beta has no effect "
                        "with --norm linear (SPEC 3.4)\n");
    return 0;
}

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

/* Reserves an output before the kernel runs (tools/npy.h): a path that
 * cannot be written fails now, not after the work. */
static int reserve(const char *cmd, const char *opt, const char *path,
                   npy_out *o)
{
    char err[512];
    memset(o, 0, sizeof *o);
    if (path && npy_out_open(o, path, err, sizeof err))
        return cli_error("run %s: %s: %s", cmd, opt, err);
    return 0;
}

/* Writes a reserved output (none: nothing) without replacing its file;
 * npy_out_commit then does. */
static int put(const char *cmd, npy_out *o, opk_cmat Y, int ndim)
{
    char err[512];
    if (o->path && npy_out_put(o, Y.data, Y.rows, Y.cols, Y.ld, ndim, err,
                               sizeof err))
        return cli_error("run %s: %s", cmd, err);
    return 0;
}

static int commit(const char *cmd, npy_out *o)
{
    char err[512];
    if (o->path && npy_out_commit(o, err, sizeof err))
        return cli_error("run %s: %s", cmd, err);
    return 0;
}

static int print_and_write(const run_args *a, const char *name, opk_cmat Y,
                           int ndim, const char *bname, npy_out *out)
{
    uint64_t h;
    opk_hash(Y, &h);
    printf("%s  %zux%zu  backend %s  hash %016llx\n", name, Y.rows, Y.cols,
           bname, (unsigned long long)h);
    int r = put(a->kernel, out, Y, ndim);
    return r ? r : commit(a->kernel, out);
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
    npy_out out;
    if ((r = reserve("softmax", "--out", a->out, &out))) {
        npy_free(&x);
        return r;
    }
    opk_cmat X = {x.data, x.rows, x.cols, x.cols};
    float *y = malloc(x.rows * x.cols * sizeof(float) + 4);
    opk_mat Y = {y, x.rows, x.cols, x.cols};
    opk_status st = !y ? OPK_ERR_NOMEM
                       : opk_softmax(ctx, X, Y, a->beta, axis, a->log ? OPK_LOG : 0);
    if (st)
        r = cli_error("run softmax: %s: %s", opk_status_str(st),
                      y ? opk_ctx_last_error(ctx) : "out of memory");
    else
        r = print_and_write(a, "Y", opk_cmat_of(Y), x.ndim,
                            opk_backend_name(opk_ctx_backend(ctx)), &out);
    npy_out_abort(&out);
    free(y);
    npy_free(&x);
    return r;
}

/* A 1-D (or 1 x len, or len x 1) mass vector for sinkhorn. */
static int read_masses(const run_args *a, const char *name, size_t len,
                       const char *what, npy_array *v)
{
    char err[512];
    if (npy_read(input_path(a, name), v, err, sizeof err))
        return cli_error("run sinkhorn: --in %s: %s", name, err);
    if ((v->rows != 1 && v->cols != 1) || v->rows * v->cols != len) {
        cli_error("run sinkhorn: --in %s is %zux%zu; it needs %zu elements "
                  "(one per %s of S)",
                  name, v->rows, v->cols, len, what);
        npy_free(v);
        return 1;
    }
    return 0;
}

static int run_sinkhorn(const run_args *a, opk_ctx *ctx)
{
    for (int i = 0; i < a->nin; i++)
        if (strcmp(a->in_name[i], "S") && strcmp(a->in_name[i], "a") &&
            strcmp(a->in_name[i], "b"))
            return cli_usage_error("run sinkhorn: no input named '%s' (S, a, "
                                   "b)", a->in_name[i]);
    if (!input_path(a, "S"))
        return cli_usage_error("run sinkhorn: missing --in S=FILE.npy");
    if (a->out)
        return cli_usage_error("run sinkhorn: use --out-f, --out-g or "
                               "--out-plan instead of --out");
    if (a->out_plan && a->no_plan)
        return cli_usage_error("run sinkhorn: --out-plan with --no-plan");
    npy_array s, va = {0}, vb = {0};
    char err[512];
    if (npy_read(input_path(a, "S"), &s, err, sizeof err))
        return cli_error("run sinkhorn: --in S: %s", err);
    const size_t n = s.rows, m = s.cols;
    int r = 0;
    if (n == 0 || m == 0) { /* the library does nothing (SPEC 2) */
        npy_free(&s);
        return cli_error("run sinkhorn: --in S is %zux%zu: with no rows or no "
                         "columns there are no potentials to compute",
                         n, m);
    }
    if ((input_path(a, "a") && (r = read_masses(a, "a", n, "row", &va))) ||
        (input_path(a, "b") && (r = read_masses(a, "b", m, "column", &vb)))) {
        npy_free(&s), npy_free(&va);
        return r;
    }
    /* f, g, plan: reserved now, replaced together at the end. */
    npy_out out[3];
    const char *const opt[3] = {"--out-f", "--out-g", "--out-plan"};
    const char *const path[3] = {a->out_f, a->out_g, a->out_plan};
    memset(out, 0, sizeof out);
    for (int k = 0; k < 3 && !r; k++)
        r = reserve("sinkhorn", opt[k], path[k], &out[k]);
    float *f = malloc((n + 1) * sizeof(float)), *g = malloc((m + 1) * sizeof(float));
    float *p = a->no_plan ? NULL : malloc(n * m * sizeof(float) + 4);
    if (r)
        goto done;
    if (!f || !g || (!a->no_plan && !p)) {
        r = cli_error("run sinkhorn: out of memory");
        goto done;
    }
    opk_sinkhorn_opts o = opk_sinkhorn_opts_default();
    o.tol = a->tol;
    o.max_iter = (int)a->max_iter;
    o.check_every = (int)a->check_every;
    opk_mat P = {p, n, m, m};
    opk_sinkhorn_info info;
    opk_status st = opk_sinkhorn(ctx, (opk_cmat){s.data, n, m, m}, a->beta,
                                 va.data, vb.data, &o, f, g, p ? &P : NULL,
                                 &info);
    if (st) {
        r = cli_error("run sinkhorn: %s: %s", opk_status_str(st),
                      opk_ctx_last_error(ctx));
        goto done;
    }
    const char *bname = opk_backend_name(opk_ctx_backend(ctx));
    uint64_t h;
    opk_hash((opk_cmat){f, 1, n, n}, &h);
    printf("f  1x%zu  backend %s  hash %016llx\n", n, bname, (unsigned long long)h);
    opk_hash((opk_cmat){g, 1, m, m}, &h);
    printf("g  1x%zu  backend %s  hash %016llx\n", m, bname, (unsigned long long)h);
    if (p) {
        opk_hash(opk_cmat_of(P), &h);
        printf("P  %zux%zu  backend %s  hash %016llx\n", n, m, bname,
               (unsigned long long)h);
    }
    printf("iterations %d  error %.9g  converged %s\n", info.iterations,
           (double)info.err, info.converged ? "yes" : "no");
    const opk_cmat res[3] = {{f, 1, n, n}, {g, 1, m, m}, {p, n, m, m}};
    for (int k = 0; k < 3 && !r; k++)
        r = put("sinkhorn", &out[k], res[k], k < 2 ? 1 : 2);
    for (int k = 0; k < 3 && !r; k++)
        r = commit("sinkhorn", &out[k]);
done:
    for (int k = 0; k < 3; k++)
        npy_out_abort(&out[k]);
    free(f), free(g), free(p);
    npy_free(&s), npy_free(&va), npy_free(&vb);
    return r;
}

/* The graph options of run cheb and run attention. */
static attn_graph_cli graph_opts(const run_args *a)
{
    attn_graph_cli g = {a->graph, a->laplacian, a->filter, a->damping, a->t,
                        a->cutoff, a->lmax, given(a, "--cutoff"),
                        given(a, "--lmax"), a->K};
    return g;
}

static int run_attention(const run_args *a, opk_ctx *ctx)
{
    const attn_graph_cli g = graph_opts(a);
    return attn_cli_run(&a->attn, &g, ctx, a->nin, a->in_name, a->in_path,
                        a->beta, a->out);
}

static int run_cheb(const run_args *a, opk_ctx *ctx)
{
    static const char *const inputs[] = {"X", NULL};
    const attn_graph_cli g = graph_opts(a);
    int r = check_inputs(a, inputs), lap = 0, filt = 0, damp = 0;
    if (r)
        return r;
    if (!a->graph)
        return cli_usage_error("run cheb: missing --graph FILE.mtx");
    if (graph_cli_kinds(&g, &lap, &filt, &damp))
        return 2;
    opk_csr A = {0, 0, 0, NULL, NULL, NULL}, L = A;
    npy_array x = {NULL, 0, 0, 0};
    npy_out yo;
    memset(&yo, 0, sizeof yo);
    float *y = NULL, *c = NULL;
    char err[512];
    opk_status st;
    if ((st = opk_mtx_read(a->graph, &A))) {
        r = cli_error("run cheb: --graph: %s", opk_ctx_last_error(NULL));
        goto out;
    }
    if ((st = opk_laplacian(A, (opk_laplacian_kind)lap, &L))) {
        r = cli_error("run cheb: %s", opk_ctx_last_error(NULL));
        goto out;
    }
    if (npy_read(input_path(a, "X"), &x, err, sizeof err)) {
        r = cli_error("run cheb: --in X: %s", err);
        goto out;
    }
    /* A vector of n is n x 1. */
    size_t n = x.ndim == 1 ? x.cols : x.rows, F = x.ndim == 1 ? 1 : x.cols;
    if ((int64_t)n != L.rows) {
        r = cli_error("run cheb: X has %zu rows but the graph has %lld nodes",
                      n, (long long)L.rows);
        goto out;
    }
    if ((r = reserve("cheb", "--out", a->out, &yo)))
        goto out;
    float lmax = a->lmax;
    if ((st = graph_cli_lmax("run cheb", ctx, L, lap, given(a, "--lmax"),
                             &lmax))) {
        r = cli_error("run cheb: lmax: %s", opk_ctx_last_error(ctx));
        goto out;
    }
    float param = filt == OPK_FILTER_HEAT ? a->t
                  : given(a, "--cutoff")  ? a->cutoff
                                          : lmax / 4.0f;
    c = malloc(((size_t)a->K + 1) * sizeof *c);
    y = malloc(n * F * sizeof *y + 4);
    if (!c || !y) {
        r = cli_error("run cheb: out of memory");
        goto out;
    }
    if ((st = opk_cheb_coeffs((opk_filter)filt, param, (size_t)a->K, 0.0f, lmax,
                              (opk_damping)damp, c))) {
        r = cli_error("run cheb: %s", opk_ctx_last_error(NULL));
        goto out;
    }
    opk_cmat X = {x.data, n, F, F};
    opk_mat Y = {y, n, F, F};
    if ((st = opk_cheb(ctx, L, 0.0f, lmax, c, (size_t)a->K, X, Y))) {
        r = cli_error("run cheb: %s: %s", opk_status_str(st),
                      opk_ctx_last_error(ctx));
        goto out;
    }
    printf("graph %s: %lld nodes, %lld Laplacian entries; lmax %.9g (%s); "
           "%s %s %g, K %ld, damping %s\n",
           a->graph, (long long)L.rows, (long long)L.nnz, (double)lmax,
           given(a, "--lmax") ? "given" : "estimated", a->laplacian, a->filter,
           (double)param, a->K, a->damping); /* names checked above */
    if (x.ndim == 1) { /* write back a vector */
        opk_mat V = {y, 1, n, n};
        r = print_and_write(a, "Y", opk_cmat_of(V), 1,
                            opk_backend_name(opk_ctx_backend(ctx)), &yo);
    } else {
        r = print_and_write(a, "Y", opk_cmat_of(Y), 2,
                            opk_backend_name(opk_ctx_backend(ctx)), &yo);
    }
out:
    npy_out_abort(&yo);
    opk_csr_free(&A);
    opk_csr_free(&L);
    npy_free(&x);
    free(y);
    free(c);
    return r;
}

int cmd_run(int argc, char **argv)
{
    if (cli_wants_help(argc, argv) || argc < 2)
        return fputs(help, argc < 2 ? stderr : stdout), argc < 2 ? 2 : 0;
    run_args a = {.kernel = argv[1], .beta = 1.0f, .axis = "rows",
                  .backend = OPK_BACKEND_AUTO, .laplacian = "sym",
                  .filter = "heat", .damping = "none", .t = 1.0f, .K = 30};
    a.tol = opk_sinkhorn_opts_default().tol;
    a.max_iter = opk_sinkhorn_opts_default().max_iter;
    a.check_every = opk_sinkhorn_opts_default().check_every;
    attn_cli_init(&a.attn);
    int (*fn)(const run_args *, opk_ctx *) = NULL;
    if (!strcmp(a.kernel, "softmax"))
        fn = run_softmax;
    else if (!strcmp(a.kernel, "sinkhorn"))
        fn = run_sinkhorn;
    else if (!strcmp(a.kernel, "attention"))
        fn = run_attention;
    else if (!strcmp(a.kernel, "cheb"))
        fn = run_cheb;
    else if (a.kernel[0] == '-')
        return cli_usage_error("run: the kernel comes first: opk run KERNEL "
                               "[options] (got '%s')", a.kernel);
    else
        return cli_usage_error("run: unknown kernel '%s' (see opk run --help)",
                               a.kernel);
    const char *v;
    for (int i = 2; i < argc; i++) {
        int r, sc = scope_of(argv[i]);
        if (sc >= 0) {
            if (!has_word(scope[sc].kernels, a.kernel))
                return cli_usage_error("run %s: %s is an option of %s, not "
                                       "of %s", a.kernel, scope[sc].opt,
                                       scope[sc].kernels, a.kernel);
            if (a.given[sc]) /* the last would win silently */
                return cli_usage_error("run %s: %s is given twice", a.kernel,
                                       scope[sc].opt);
            a.given[sc] = 1;
        }
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
            if (input_path(&a, names[a.nin]))
                return cli_usage_error("--in: %s is given twice",
                                       names[a.nin]);
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
        } else if ((r = cli_opt(argc, argv, &i, "--graph", &v)) != 0) {
            if (r < 0)
                return 2;
            a.graph = v;
        } else if ((r = cli_opt(argc, argv, &i, "--laplacian", &v)) != 0) {
            if (r < 0)
                return 2;
            a.laplacian = v;
        } else if ((r = cli_opt(argc, argv, &i, "--filter", &v)) != 0) {
            if (r < 0)
                return 2;
            a.filter = v;
        } else if ((r = cli_opt(argc, argv, &i, "--damping", &v)) != 0) {
            if (r < 0)
                return 2;
            a.damping = v;
        } else if ((r = cli_opt(argc, argv, &i, "--t", &v)) != 0) {
            if (r < 0 || cli_parse_float("--t", v, &a.t))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--cutoff", &v)) != 0) {
            if (r < 0 || cli_parse_float("--cutoff", v, &a.cutoff))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--lmax", &v)) != 0) {
            if (r < 0 || cli_parse_float("--lmax", v, &a.lmax))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--K", &v)) != 0) {
            if (r < 0 || cli_parse_int("--K", v, 0, 100000, &a.K))
                return 2;
        } else if (cli_flag(argv, i, "--log")) {
            a.log = 1;
        } else if ((r = cli_opt(argc, argv, &i, "--tol", &v)) != 0) {
            if (r < 0 || cli_parse_float("--tol", v, &a.tol))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--max-iter", &v)) != 0) {
            if (r < 0 || cli_parse_int("--max-iter", v, 1, 1000000000, &a.max_iter))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--check-every", &v)) != 0) {
            if (r < 0 ||
                cli_parse_int("--check-every", v, 1, 1000000000, &a.check_every))
                return 2;
        } else if (cli_flag(argv, i, "--no-plan")) {
            a.no_plan = 1;
        } else if ((r = cli_opt(argc, argv, &i, "--out-f", &v)) != 0) {
            if (r < 0)
                return 2;
            a.out_f = v;
        } else if ((r = cli_opt(argc, argv, &i, "--out-g", &v)) != 0) {
            if (r < 0)
                return 2;
            a.out_g = v;
        } else if ((r = cli_opt(argc, argv, &i, "--out-plan", &v)) != 0) {
            if (r < 0)
                return 2;
            a.out_plan = v;
        } else if ((r = attn_cli_opt(argc, argv, &i, &a.attn)) != 0) {
            if (r < 0)
                return 2;
        } else
            return cli_usage_error("run: unknown option '%s' (see opk run "
                                   "--help)", argv[i]);
    }
    if (fn != run_softmax && fn != run_sinkhorn &&
        check_graph_opts(&a))
        return 2;
    if (fn == run_attention && check_mode_opts(&a))
        return 2;
    opk_ctx *ctx = cli_ctx_cl(a.backend, (int)a.threads, a.cl_platform,
                              a.cl_device);
    int r = ctx ? fn(&a, ctx) : 1;
    opk_ctx_destroy(ctx);
    return r;
}
