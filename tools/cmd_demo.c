/* opk demo: does damping keep representations from collapsing with depth?
 *
 * A canonical graph (opk_graph_grid: a torus with extra random edges) whose
 * nodes carry features with a community signal (the four quadrants of the
 * torus get four different mean vectors, plus noise), pushed through many
 * layers of six operators:
 *   gcn        H <- D^-1/2 (A + I) D^-1/2 H (GCN propagation, no weights)
 *   attn       H <- softmax(H H^T / sqrt(F)) H (plain attention, tau = 1)
 *   damped     H <- (1-tau) H + tau A H, constant tau
 *   damped+g   the same with the heat-filtered graph term (lambda_g)
 *   decay      tau_l = tau / (l + 1): depth damping, the caller's schedule
 *   decay+g    the same with the graph term
 * Per layer: the Dirichlet energy tr(H^T L H) / ||H||^2 (L the symmetric-
 * normalized Laplacian of the graph: how rough the features are on it) and
 * the mean distance between node states (how far apart they still are).
 * Collapse = the mean distance falls by orders of magnitude. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"

static const char help[] =
    "usage: opk demo [--layers N] [--tau T] [--lambda-g W] [--t TIME] [--K ORDER]\n"
    "                [--grid RxC] [--features F] [--seed S] [--svg FILE]\n"
    "                [--backend B] [--threads N]\n"
    "\n"
    "Depth study of damped attention on a grid graph with community features:\n"
    "N layers (64) of GCN diffusion, plain attention (tau = 1), damped\n"
    "attention with constant tau (T = 0.5) and with the depth schedule\n"
    "tau_l = T / (l + 1), each with and without the graph term\n"
    "exp(-TIME L) V (TIME 1, Chebyshev order 10, weight W = 0.5). Prints per\n"
    "layer the Dirichlet energy tr(H^T L H)/||H||^2 and the mean distance\n"
    "between node states, then which variants collapsed (mean distance or\n"
    "energy below 1% of its start, and from which layer). --svg writes both\n"
    "curves of every variant (log scale).\n"
    "Defaults: 16x16 grid with 32 extra edges, F = 16 features, seed 1.\n";

enum { GCN, ATTN, DAMPED, DAMPED_G, DECAY, DECAY_G, NVAR };
static const char *const var_name[NVAR] = {"gcn", "attn", "damped", "damped+g",
                                           "decay", "decay+g"};
static const char *const var_color[NVAR] = {"#555555", "#d62728", "#1f77b4",
                                            "#2ca02c", "#9467bd", "#ff7f0e"};

typedef struct demo {
    size_t rows, cols, n, F, layers, K;
    uint64_t seed;
    float tau, lambda_g, t;
    opk_csr L;      /* symmetric-normalized Laplacian of the graph */
    opk_csr Lself;  /* the same for A + I (GCN propagation) */
    float *coef;    /* heat filter, K + 1 */
    double *energy, *dist; /* NVAR x (layers + 1) */
} demo;

/* tr(H^T L H) / ||H||^2 in double. */
static double dirichlet(const opk_csr *L, const float *h, size_t n, size_t F)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++)
        for (int64_t q = L->row_ptr[i]; q < L->row_ptr[i + 1]; q++) {
            const float *a = h + i * F, *b = h + (size_t)L->col_idx[q] * F;
            for (size_t f = 0; f < F; f++)
                num += (double)L->val[q] * a[f] * b[f];
        }
    for (size_t k = 0; k < n * F; k++)
        den += (double)h[k] * h[k];
    return den > 0.0 ? num / den : 0.0;
}

/* Mean Euclidean distance over all pairs of node states. */
static double mean_distance(const float *h, size_t n, size_t F)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double d2 = 0.0;
            for (size_t f = 0; f < F; f++) {
                double d = (double)h[i * F + f] - h[j * F + f];
                d2 += d * d;
            }
            s += sqrt(d2);
        }
    return n > 1 ? s / ((double)n * (double)(n - 1) / 2.0) : 0.0;
}

/* Features with a community signal: quadrant means plus noise. */
static void features(const demo *dm, float *h)
{
    float mean[4 * 64], noise_lo = -0.5f, noise_hi = 0.5f;
    opk_fill(dm->seed + 10, -1.0f, 1.0f, (opk_mat){mean, 4, dm->F, dm->F});
    opk_fill(dm->seed + 11, noise_lo, noise_hi, (opk_mat){h, dm->n, dm->F, dm->F});
    for (size_t r = 0; r < dm->rows; r++)
        for (size_t c = 0; c < dm->cols; c++) {
            size_t i = r * dm->cols + c;
            size_t q = (r >= dm->rows / 2) * 2 + (c >= dm->cols / 2);
            for (size_t f = 0; f < dm->F; f++)
                h[i * dm->F + f] = h[i * dm->F + f] + mean[q * dm->F + f];
        }
}

static int layer(opk_ctx *ctx, const demo *dm, int v, size_t l, const float *h,
                 float *o)
{
    const size_t n = dm->n, F = dm->F;
    opk_cmat H = {h, n, F, F};
    opk_mat O = {o, n, F, F};
    opk_status st;
    if (v == GCN) { /* (I - Lself) H = -T_1 with lmin 0, lmax 2 */
        static const float c[2] = {0.0f, -1.0f};
        st = opk_cheb(ctx, dm->Lself, 0.0f, 2.0f, c, 1, H, O);
    } else {
        opk_attention_opts op = opk_attention_opts_default();
        op.tau = v == ATTN                    ? 1.0f
                 : v == DAMPED || v == DAMPED_G ? dm->tau
                                                : dm->tau / (float)(l + 1);
        if (v == DAMPED_G || v == DECAY_G) {
            op.graph = &dm->L;
            op.lmin = 0.0f;
            op.lmax = 2.0f;
            op.cheb_c = dm->coef;
            op.cheb_K = (int)dm->K;
            op.lambda_g = dm->lambda_g;
        }
        st = opk_attention(ctx, H, H, H, &H, &op, O);
    }
    if (st)
        return cli_error("demo: %s layer %zu: %s: %s", var_name[v], l + 1,
                         opk_status_str(st), opk_ctx_last_error(ctx));
    return 0;
}

/* log10 of a positive value, clamped for plotting. */
static double lg10(double x) { return log10(x > 1e-30 ? x : 1e-30); }

static void svg_panel(FILE *f, const demo *dm, const double *val, double x0,
                      const char *title)
{
    const double w = 440, h = 300, y0 = 50;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < NVAR * (dm->layers + 1); k++)
        if (val[k] > 0)
            lo = fmin(lo, lg10(val[k])), hi = fmax(hi, lg10(val[k]));
    lo = floor(lo), hi = ceil(hi);
    if (hi <= lo)
        hi = lo + 1;
    fprintf(f, "<text x='%.0f' y='30' font-size='15' text-anchor='middle'>%s"
               "</text>\n", x0 + w / 2, title);
    fprintf(f, "<rect x='%.0f' y='%.0f' width='%.0f' height='%.0f' fill='none' "
               "stroke='black'/>\n", x0, y0, w, h);
    for (double e = lo; e <= hi; e += 1) {
        double y = y0 + h - (e - lo) / (hi - lo) * h;
        fprintf(f, "<line x1='%.0f' y1='%.1f' x2='%.0f' y2='%.1f' stroke='#ddd'/>"
                   "<text x='%.0f' y='%.1f' font-size='11' text-anchor='end'>"
                   "1e%d</text>\n", x0, y, x0 + w, y, x0 - 4, y + 4, (int)e);
    }
    for (size_t l = 0; l <= dm->layers; l += dm->layers >= 16 ? dm->layers / 8 : 1)
        fprintf(f, "<text x='%.1f' y='%.0f' font-size='11' text-anchor='middle'>"
                   "%zu</text>\n", x0 + (double)l / (double)dm->layers * w,
                y0 + h + 16, l);
    fprintf(f, "<text x='%.0f' y='%.0f' font-size='12' text-anchor='middle'>"
               "layer</text>\n", x0 + w / 2, y0 + h + 34);
    for (int v = 0; v < NVAR; v++) {
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='",
                var_color[v]);
        for (size_t l = 0; l <= dm->layers; l++) {
            double y = lg10(val[(size_t)v * (dm->layers + 1) + l]);
            y = y < lo ? lo : y; /* exact zeros (identical states): bottom */
            fprintf(f, "%.1f,%.1f ", x0 + (double)l / (double)dm->layers * w,
                    y0 + h - (y - lo) / (hi - lo) * h);
        }
        fprintf(f, "'/>\n");
    }
}

/* Into the file reserved before the run (tools/npy.h), replaced when
 * complete. */
static int write_svg(npy_out *o, const demo *dm)
{
    FILE *f = o->f;
    char err[512];
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='1060' "
               "height='440' font-family='sans-serif'>\n"
               "<rect width='100%%' height='100%%' fill='white'/>\n");
    svg_panel(f, dm, dm->energy, 70, "Dirichlet energy tr(H^T L H)/||H||^2");
    svg_panel(f, dm, dm->dist, 590, "mean distance between node states");
    for (int v = 0; v < NVAR; v++)
        fprintf(f, "<rect x='%d' y='412' width='14' height='4' fill='%s'/>"
                   "<text x='%d' y='418' font-size='12'>%s</text>\n",
                80 + v * 160, var_color[v], 98 + v * 160, var_name[v]);
    fprintf(f, "</svg>\n");
    if (npy_out_close(o, err, sizeof err) || npy_out_commit(o, err, sizeof err))
        return cli_error("demo: --svg: %s", err);
    return 0;
}

static int parse_grid(const char *s, size_t *r, size_t *c)
{
    unsigned long a, b;
    char x, tail;
    if (sscanf(s, "%lu%c%lu%c", &a, &x, &b, &tail) != 3 || x != 'x' || a < 2 ||
        b < 2 || a > 1000 || b > 1000)
        return cli_usage_error("--grid: '%s' is not RxC (2..1000 each)", s);
    *r = a, *c = b;
    return 0;
}

static int run_demo(opk_ctx *ctx, demo *dm, npy_out *svg)
{
    const size_t n = dm->n, F = dm->F, NL = dm->layers + 1;
    float *h0 = malloc(n * F * sizeof(float)), *h = malloc(n * F * sizeof(float));
    float *o = malloc(n * F * sizeof(float));
    dm->energy = malloc(NVAR * NL * sizeof(double));
    dm->dist = malloc(NVAR * NL * sizeof(double));
    if (!h0 || !h || !o || !dm->energy || !dm->dist)
        return cli_error("demo: out of memory");
    features(dm, h0);
    int r = 0;
    for (int v = 0; v < NVAR && !r; v++) {
        memcpy(h, h0, n * F * sizeof(float));
        dm->energy[v * NL] = dirichlet(&dm->L, h, n, F);
        dm->dist[v * NL] = mean_distance(h, n, F);
        for (size_t l = 0; l < dm->layers && !r; l++) {
            r = layer(ctx, dm, v, l, h, o);
            float *t = h;
            h = o, o = t;
            dm->energy[v * NL + l + 1] = dirichlet(&dm->L, h, n, F);
            dm->dist[v * NL + l + 1] = mean_distance(h, n, F);
        }
    }
    if (!r) {
        printf("graph: %zux%zu torus grid + %zu edges (n = %zu), F = %zu "
               "features (4 quadrant communities), backend %s\n",
               dm->rows, dm->cols, (size_t)32, n, F,
               opk_backend_name(opk_ctx_backend(ctx)));
        printf("tau %.3g (decay: tau/(l+1)), graph term: lambda_g %.3g, heat "
               "t %.3g, Chebyshev order %zu\n\n", (double)dm->tau,
               (double)dm->lambda_g, (double)dm->t, dm->K);
        printf("E = Dirichlet energy, D = mean distance between node states\n");
        printf("layer");
        for (int v = 0; v < NVAR; v++)
            printf(" %10s:E %10s:D", var_name[v], var_name[v]);
        printf("\n");
        for (size_t l = 0; l < NL; l++) {
            printf("%5zu", l);
            for (int v = 0; v < NVAR; v++)
                printf(" %12.4e %12.4e", dm->energy[v * NL + l],
                       dm->dist[v * NL + l]);
            printf("\n");
        }
        printf("\nafter %zu layers (ratio to layer 0; collapsed: the mean "
               "distance or the energy below 1%% of its start):\n", dm->layers);
        int collapsed[NVAR];
        size_t at[NVAR]; /* first layer below 1% */
        for (int v = 0; v < NVAR; v++) {
            const double *dd = dm->dist + v * NL, *ee = dm->energy + v * NL;
            at[v] = 0;
            for (size_t l = 1; l < NL && !at[v]; l++)
                if (!(dd[l] >= 0.01 * dd[0]) || !(ee[l] >= 0.01 * ee[0]))
                    at[v] = l;
            collapsed[v] = at[v] != 0;
            printf("  %-9s mean distance x %.3g, energy x %.3g: ", var_name[v],
                   dd[dm->layers] / dd[0], ee[dm->layers] / ee[0]);
            if (collapsed[v])
                printf("collapsed from layer %zu\n", at[v]);
            else
                printf("not collapsed\n");
        }
        printf("\nverdict (measured): plain attention %s", collapsed[ATTN]
                   ? "collapses" : "does not collapse");
        if (collapsed[ATTN])
            printf(" (layer %zu)", at[ATTN]);
        printf("; constant damping tau = %.3g %s", (double)dm->tau,
               collapsed[DAMPED] ? "only delays it" : "prevents it");
        if (collapsed[DAMPED])
            printf(" (layer %zu)", at[DAMPED]);
        printf(", with the graph term %s", collapsed[DAMPED_G]
                   ? "too" : "it keeps the states apart");
        if (collapsed[DAMPED_G])
            printf(" (layer %zu)", at[DAMPED_G]);
        printf("; depth damping tau/(l+1) %s (distance x %.3g), with the "
               "graph term %s (distance x %.3g).\n",
               collapsed[DECAY] ? "collapses too" : "keeps the states apart",
               dm->dist[DECAY * NL + dm->layers] / dm->dist[DECAY * NL],
               collapsed[DECAY_G] ? "collapses" : "too",
               dm->dist[DECAY_G * NL + dm->layers] / dm->dist[DECAY_G * NL]);
        if (svg->path && !(r = write_svg(svg, dm)))
            printf("wrote %s\n", svg->path);
    }
    free(h0), free(h), free(o);
    return r;
}

int cmd_demo(int argc, char **argv)
{
    if (cli_wants_help(argc, argv))
        return fputs(help, stdout), 0;
    demo dm = {.rows = 16, .cols = 16, .F = 16, .layers = 64, .K = 10,
               .seed = 1, .tau = 0.5f, .lambda_g = 0.5f, .t = 1.0f};
    const char *svg = NULL, *v;
    opk_backend backend = OPK_BACKEND_AUTO;
    int clp = 0, cld = 0; /* --backend opencl:P:D */
    long threads = 0, x;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--layers", &v)) != 0) {
            if (r < 0 || cli_parse_int("--layers", v, 1, 10000, &x))
                return 2;
            dm.layers = (size_t)x;
        } else if ((r = cli_opt(argc, argv, &i, "--tau", &v)) != 0) {
            if (r < 0 || cli_parse_float("--tau", v, &dm.tau))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--lambda-g", &v)) != 0) {
            if (r < 0 || cli_parse_float("--lambda-g", v, &dm.lambda_g))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--t", &v)) != 0) {
            if (r < 0 || cli_parse_float("--t", v, &dm.t))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--K", &v)) != 0) {
            if (r < 0 || cli_parse_int("--K", v, 0, 1000, &x))
                return 2;
            dm.K = (size_t)x;
        } else if ((r = cli_opt(argc, argv, &i, "--features", &v)) != 0) {
            if (r < 0 || cli_parse_int("--features", v, 1, 64, &x))
                return 2;
            dm.F = (size_t)x;
        } else if ((r = cli_opt(argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0 || cli_parse_int("--seed", v, 0, 1000000000, &x))
                return 2;
            dm.seed = (uint64_t)x;
        } else if ((r = cli_opt(argc, argv, &i, "--grid", &v)) != 0) {
            if (r < 0 || parse_grid(v, &dm.rows, &dm.cols))
                return 2;
        } else if ((r = cli_opt(argc, argv, &i, "--svg", &v)) != 0) {
            if (r < 0)
                return 2;
            svg = v;
        } else if ((r = cli_opt(argc, argv, &i, "--backend", &v)) != 0) {
            if (r < 0)
                return 2;
            if (opk_backend_parse(v, &backend, &clp, &cld))
                return cli_usage_error("--backend: %s", opk_ctx_last_error(NULL));
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || cli_parse_int("--threads", v, 1, 4096, &threads))
                return 2;
        } else
            return cli_usage_error("demo: unknown option '%s' (see opk demo "
                                   "--help)", argv[i]);
    }
    if (!(dm.tau >= 0.0f && dm.tau <= 1.0f))
        return cli_usage_error("demo: --tau (%g) must be in [0, 1]", (double)dm.tau);
    if (!(dm.lambda_g >= 0.0f && dm.lambda_g <= 1.0f))
        return cli_usage_error("demo: --lambda-g (%g) must be in [0, 1]",
                               (double)dm.lambda_g);
    dm.n = dm.rows * dm.cols;
    opk_csr A = {0};
    int r = 1;
    dm.coef = malloc((dm.K + 1) * sizeof(float));
    if (!dm.coef)
        return cli_error("demo: out of memory");
    /* A + I: the grid's edges plus a self-loop per node, via its CSR. */
    if (opk_graph_grid(dm.rows, dm.cols, 32, dm.seed, &A) ||
        opk_laplacian(A, OPK_LAPLACIAN_SYMMETRIC, &dm.L) ||
        opk_cheb_coeffs(OPK_FILTER_HEAT, dm.t, dm.K, 0.0f, 2.0f,
                        OPK_DAMPING_NONE, dm.coef)) {
        cli_error("demo: graph: %s", opk_ctx_last_error(NULL));
        goto done;
    }
    {
        size_t nnz = (size_t)A.nnz + dm.n, q = 0;
        int64_t *rp = malloc((dm.n + 1) * sizeof(int64_t));
        int32_t *ci = malloc(nnz * sizeof(int32_t));
        float *vv = malloc(nnz * sizeof(float));
        if (!rp || !ci || !vv) {
            free(rp), free(ci), free(vv);
            cli_error("demo: out of memory");
            goto done;
        }
        rp[0] = 0;
        for (size_t i = 0; i < dm.n; i++) { /* columns stay ascending */
            int self = 0;
            for (int64_t p = A.row_ptr[i]; p < A.row_ptr[i + 1]; p++) {
                if (!self && A.col_idx[p] > (int32_t)i)
                    ci[q] = (int32_t)i, vv[q++] = 1.0f, self = 1;
                ci[q] = A.col_idx[p], vv[q++] = A.val[p];
            }
            if (!self)
                ci[q] = (int32_t)i, vv[q++] = 1.0f;
            rp[i + 1] = (int64_t)q;
        }
        opk_csr As = {(int64_t)dm.n, (int64_t)dm.n, (int64_t)nnz, rp, ci, vv};
        opk_status st = opk_laplacian(As, OPK_LAPLACIAN_SYMMETRIC, &dm.Lself);
        free(rp), free(ci), free(vv);
        if (st) {
            cli_error("demo: graph: %s", opk_ctx_last_error(NULL));
            goto done;
        }
    }
    opk_ctx *ctx = cli_ctx_cl(backend, (int)threads, clp, cld);
    npy_out so; /* reserved now: an unwritable path fails before the run */
    memset(&so, 0, sizeof so);
    char err[512];
    if (ctx && svg && npy_out_open(&so, svg, err, sizeof err))
        r = cli_error("demo: --svg: %s", err);
    else if (ctx)
        r = run_demo(ctx, &dm, &so);
    npy_out_abort(&so);
    opk_ctx_destroy(ctx);
done:
    opk_csr_free(&A), opk_csr_free(&dm.L), opk_csr_free(&dm.Lself);
    free(dm.coef), free(dm.energy), free(dm.dist);
    return r;
}
