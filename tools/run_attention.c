/* `opk run attention`: Q, K, V (and H) from .npy files, the normalization,
 * damping and an optional filtered graph term from a Matrix Market
 * adjacency, with the graph options of `opk run cheb` (Laplacian kind,
 * filter, coefficients on [0, lmax], lmax estimated unless given). */
#include "run_attention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "golden.h"
#include "npy.h"

void attn_cli_init(attn_cli *c)
{
    memset(c, 0, sizeof *c);
    c->norm = "softmax";
    c->tau = 1.0f;
    c->iters = 3;
    c->lambda_g = 0.5f;
}

int attn_cli_opt(int argc, char **argv, int *i, attn_cli *c)
{
    const char *v;
    int r;
    if ((r = cli_opt(argc, argv, i, "--norm", &v)) != 0)
        return r < 0 ? -1 : (c->norm = v, 1);
    if ((r = cli_opt(argc, argv, i, "--tau", &v)) != 0)
        return r < 0 || cli_parse_float("--tau", v, &c->tau) ? -1 : 1;
    if ((r = cli_opt(argc, argv, i, "--iters", &v)) != 0)
        return r < 0 || cli_parse_int("--iters", v, 1, 1000000, &c->iters) ? -1 : 1;
    if (cli_flag(argv, *i, "--global-norm"))
        return c->global = 1, 1;
    if ((r = cli_opt(argc, argv, i, "--lambda-g", &v)) != 0)
        return r < 0 || cli_parse_float("--lambda-g", v, &c->lambda_g) ? -1 : 1;
    return 0;
}

static const char *path_of(int nin, const char *const *name,
                           const char *const *path, const char *want)
{
    for (int i = 0; i < nin; i++)
        if (!strcmp(name[i], want))
            return path[i];
    return NULL;
}

int graph_cli_kinds(const attn_graph_cli *g, int *lap, int *filt, int *damp)
{
    static const char *const laps[] = {"comb", "sym", "rw", NULL};
    static const char *const filters[] = {"heat", "lowpass", NULL};
    static const char *const dampings[] = {"none", "jackson", "lanczos", NULL};
    if (cli_pick("--laplacian", g->laplacian, laps, lap) ||
        cli_pick("--filter", g->filter, filters, filt) ||
        cli_pick("--damping", g->damping, dampings, damp))
        return 2;
    return 0;
}

/* A lower bound of the largest eigenvalue of a Laplacian of kind lap: its
 * diagonal entries (Rayleigh quotients of e_i), and for the symmetric
 * kinds (comb, sym) the quotient of e_i - e_j over each stored edge,
 * (L_ii + L_jj - 2 L_ij) / 2. rw has sym's spectrum and diagonal but is
 * not symmetric: its diagonal only. In double; O(nnz). */
static double lmax_lower(opk_csr L, int lap)
{
    double *dg = calloc((size_t)L.rows + 1, sizeof *dg), lo = 0.0;
    if (!dg)
        return 0.0; /* no bound, no warning */
    for (int64_t i = 0; i < L.rows; i++)
        for (int64_t q = L.row_ptr[i]; q < L.row_ptr[i + 1]; q++)
            if (L.col_idx[q] == i)
                dg[i] += L.val[q];
    const int edges = lap != OPK_LAPLACIAN_RANDOM_WALK;
    for (int64_t i = 0; i < L.rows; i++) {
        lo = dg[i] > lo ? dg[i] : lo;
        for (int64_t q = L.row_ptr[i]; edges && q < L.row_ptr[i + 1]; q++) {
            const int64_t j = L.col_idx[q];
            const double rq = (dg[i] + dg[j] - 2.0 * L.val[q]) / 2.0;
            lo = j != i && rq > lo ? rq : lo;
        }
    }
    free(dg);
    return lo;
}

opk_status graph_cli_lmax(const char *cmd, opk_ctx *ctx, opk_csr L, int lap,
                          int given, float *lmax)
{
    if (!given) {
        opk_status st = opk_lmax(ctx, L, lmax);
        /* No edges: L = 0, whose spectrum {0} lies in [0, lmax] for any
         * lmax > 0; the estimate 0 would make an empty interval. */
        if (st == OPK_OK && *lmax == 0.0f)
            *lmax = 1.0f;
        return st;
    }
    const double lo = lmax_lower(L, lap);
    if ((double)*lmax < lo)
        fprintf(stderr,
                "opk: %s: warning: --lmax %g is below %.9g, a lower bound of the "
                "Laplacian's largest eigenvalue (a Rayleigh quotient): the "
                "filter's Chebyshev series is evaluated outside [0, lmax], "
                "where it can grow without bound. Leave --lmax out to have "
                "it estimated.\n",
                cmd, (double)*lmax, lo);
    return OPK_OK;
}

/* L, lmax and the coefficients from the graph options (as run cheb). */
static int graph_term(const attn_graph_cli *g, opk_ctx *ctx, opk_csr *L,
                      opk_attention_opts *op, float **coef)
{
    int lap = 0, filt = 0, damp = 0;
    if (graph_cli_kinds(g, &lap, &filt, &damp))
        return 2;
    opk_csr A = {0, 0, 0, NULL, NULL, NULL};
    int r = 0;
    float lmax = g->lmax;
    if (opk_mtx_read(g->graph, &A) ||
        opk_laplacian(A, (opk_laplacian_kind)lap, L))
        r = cli_error("run attention: --graph: %s", opk_ctx_last_error(NULL));
    else if (graph_cli_lmax("run attention", ctx, *L, lap, g->has_lmax, &lmax))
        r = cli_error("run attention: lmax: %s", opk_ctx_last_error(ctx));
    else if (!(*coef = malloc(((size_t)g->K + 1) * sizeof(float))))
        r = cli_error("run attention: out of memory");
    else if (opk_cheb_coeffs((opk_filter)filt,
                             filt == OPK_FILTER_HEAT ? g->t
                             : g->has_cutoff         ? g->cutoff
                                                     : lmax / 4.0f,
                             (size_t)g->K, 0.0f, lmax, (opk_damping)damp,
                             *coef))
        r = cli_error("run attention: %s", opk_ctx_last_error(NULL));
    opk_csr_free(&A);
    op->graph = L;
    op->lmin = 0.0f;
    op->lmax = lmax;
    op->cheb_c = *coef;
    op->cheb_K = (int)g->K;
    return r;
}

int attn_cli_run(const attn_cli *c, const attn_graph_cli *gc, opk_ctx *ctx,
                 int nin, const char *const *in_name,
                 const char *const *in_path, float beta, const char *out)
{
    static const char *const names[] = {"Q", "K", "V", "H"};
    for (int i = 0; i < nin; i++) {
        int ok = 0;
        for (int k = 0; k < 4; k++)
            ok |= !strcmp(in_name[i], names[k]);
        if (!ok)
            return cli_usage_error("run attention: no input named '%s' (Q, "
                                   "K, V, H)", in_name[i]);
    }
    for (int k = 0; k < 3; k++)
        if (!path_of(nin, in_name, in_path, names[k]))
            return cli_usage_error("run attention: missing --in %s=FILE.npy",
                                   names[k]);
    opk_attention_opts op = opk_attention_opts_default();
    if (golden_parse_norm(c->norm, &op.norm))
        return cli_usage_error("--norm: '%s' is not softmax, sigmoid, "
                               "sinkhorn or linear", c->norm);
    op.beta = beta;
    op.tau = c->tau;
    op.sinkhorn_iters = (int)c->iters;
    op.linear_global_norm = c->global;
    npy_array x[4] = {{0}};
    char err[512];
    int r = 0;
    for (int k = 0; k < 4 && !r; k++) {
        const char *p = path_of(nin, in_name, in_path, names[k]);
        if (p && npy_read(p, &x[k], err, sizeof err))
            r = cli_error("run attention: --in %s: %s", names[k], err);
    }
    opk_csr L = {0, 0, 0, NULL, NULL, NULL};
    float *coef = NULL, *o = NULL;
    npy_out oo; /* reserved before the work: see tools/npy.h */
    memset(&oo, 0, sizeof oo);
    if (!r && out && npy_out_open(&oo, out, err, sizeof err))
        r = cli_error("run attention: --out: %s", err);
    if (!r && gc->graph) {
        r = graph_term(gc, ctx, &L, &op, &coef);
        op.lambda_g = c->lambda_g;
    }
    if (!r) {
        const size_t n = x[0].rows, dv = x[2].cols;
        o = malloc(n * dv * sizeof(float) + 4);
        opk_cmat H = {x[3].data, x[3].rows, x[3].cols, x[3].cols};
        opk_mat O = {o, n, dv, dv};
        opk_status st = !o ? OPK_ERR_NOMEM
                           : opk_attention(ctx, (opk_cmat){x[0].data, x[0].rows, x[0].cols, x[0].cols},
                                           (opk_cmat){x[1].data, x[1].rows, x[1].cols, x[1].cols},
                                           (opk_cmat){x[2].data, x[2].rows, x[2].cols, x[2].cols},
                                           x[3].data ? &H : NULL, &op, O);
        if (st) {
            r = cli_error("run attention: %s: %s", opk_status_str(st),
                          o ? opk_ctx_last_error(ctx) : "out of memory");
        } else {
            uint64_t h;
            opk_hash(opk_cmat_of(O), &h);
            printf("O  %zux%zu  backend %s  hash %016llx\n", n, dv,
                   opk_backend_name(opk_ctx_backend(ctx)),
                   (unsigned long long)h);
            if (out && (npy_out_put(&oo, o, n, dv, dv, 2, err, sizeof err) ||
                        npy_out_commit(&oo, err, sizeof err)))
                r = cli_error("run attention: %s", err);
        }
    }
    npy_out_abort(&oo);
    free(o), free(coef);
    opk_csr_free(&L);
    for (int k = 0; k < 4; k++)
        npy_free(&x[k]);
    return r;
}
