/* `opk run attention`: Q, K, V (and H) from .npy files, the normalization,
 * damping and an optional heat-filtered graph term from a Matrix Market
 * adjacency (L = symmetric-normalized Laplacian, spectrum in [0, 2]). */
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
    c->t = 1.0f;
    c->K = 10;
    c->filter = "heat";
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
    if ((r = cli_opt(argc, argv, i, "--graph", &v)) != 0)
        return r < 0 ? -1 : (c->graph = v, 1);
    if ((r = cli_opt(argc, argv, i, "--lambda-g", &v)) != 0) {
        c->have_lambda_g = 1;
        return r < 0 || cli_parse_float("--lambda-g", v, &c->lambda_g) ? -1 : 1;
    }
    if ((r = cli_opt(argc, argv, i, "--filter", &v)) != 0)
        return r < 0 ? -1 : (c->filter = v, 1);
    if ((r = cli_opt(argc, argv, i, "--t", &v)) != 0)
        return r < 0 || cli_parse_float("--t", v, &c->t) ? -1 : 1;
    if ((r = cli_opt(argc, argv, i, "--K", &v)) != 0)
        return r < 0 || cli_parse_int("--K", v, 0, 100000, &c->K) ? -1 : 1;
    if ((r = cli_opt(argc, argv, i, "--lmax", &v)) != 0) {
        c->have_lmax = 1;
        return r < 0 || cli_parse_float("--lmax", v, &c->lmax) ? -1 : 1;
    }
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

int attn_cli_run(const attn_cli *c, opk_ctx *ctx, int nin,
                 const char *const *in_name, const char *const *in_path,
                 float beta, const char *out)
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
    if (strcmp(c->filter, "heat"))
        return cli_usage_error("--filter: '%s' is not heat", c->filter);
    if (!c->graph && c->have_lambda_g)
        return cli_usage_error("--lambda-g needs --graph");
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
    opk_csr A = {0}, L = {0};
    float *coef = NULL, *o = NULL;
    if (!r && c->graph) {
        if (opk_mtx_read(c->graph, &A) ||
            opk_laplacian(A, OPK_LAPLACIAN_SYMMETRIC, &L)) {
            r = cli_error("run attention: --graph: %s", opk_ctx_last_error(NULL));
        } else {
            op.graph = &L;
            op.lmin = 0.0f;
            op.lmax = c->have_lmax ? c->lmax : 2.0f; /* bound of sym. norm. */
            op.cheb_K = (int)c->K;
            op.lambda_g = c->lambda_g;
            coef = malloc(((size_t)c->K + 1) * sizeof(float));
            if (!coef || opk_cheb_coeffs(OPK_FILTER_HEAT, c->t, (size_t)c->K,
                                         op.lmin, op.lmax, OPK_DAMPING_NONE,
                                         coef))
                r = cli_error("run attention: heat filter: %s",
                              coef ? opk_ctx_last_error(NULL) : "out of memory");
            op.cheb_c = coef;
        }
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
            if (out && npy_write(out, o, n, dv, dv, 2, err, sizeof err))
                r = cli_error("run attention: %s", err);
        }
    }
    free(o), free(coef);
    opk_csr_free(&A), opk_csr_free(&L);
    for (int k = 0; k < 4; k++)
        npy_free(&x[k]);
    return r;
}
