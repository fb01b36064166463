/* `opk run attention`: its options and the run (tools/run_attention.c),
 * hooked into tools/cmd_run.c. */
#ifndef OPK_RUN_ATTENTION_H
#define OPK_RUN_ATTENTION_H

#include "opk.h"

typedef struct attn_cli {
    const char *norm; /* softmax|sigmoid|sinkhorn|linear */
    float tau, lambda_g;
    long iters;
    int global;
} attn_cli;

/* The graph options, parsed by cmd_run.c as for `opk run cheb`. */
typedef struct attn_graph_cli {
    const char *graph; /* .mtx adjacency, or NULL */
    const char *laplacian, *filter, *damping;
    float t, cutoff, lmax;
    int has_cutoff, has_lmax;
    long K;
} attn_graph_cli;

/* The kinds named by --laplacian, --filter and --damping (opk_laplacian_kind,
 * opk_filter, opk_damping); 0, or 2 after a usage message. */
int graph_cli_kinds(const attn_graph_cli *g, int *lap, int *filt, int *damp);

/* lmax for the graph term: estimated by opk_lmax unless given (1 for a
 * graph without edges, where the estimate is 0); a given one
 * below a lower bound of the largest eigenvalue of L (a Laplacian of kind
 * lap), where the filter would be evaluated outside its interval, draws a
 * warning on stderr naming cmd. The status of opk_lmax. */
opk_status graph_cli_lmax(const char *cmd, opk_ctx *ctx, opk_csr L, int lap,
                          int given, float *lmax);

void attn_cli_init(attn_cli *c);
/* Consumes an attention option at argv[*i]: 1 if it was one, 0 if not,
 * -1 after a usage message. */
int attn_cli_opt(int argc, char **argv, int *i, attn_cli *c);
/* Runs opk_attention on the named inputs (Q, K, V, optional H); prints O's
 * shape, backend and hash; writes out (.npy) when given. Exit status. */
int attn_cli_run(const attn_cli *c, const attn_graph_cli *g, opk_ctx *ctx,
                 int nin, const char *const *in_name,
                 const char *const *in_path, float beta, const char *out);

#endif
