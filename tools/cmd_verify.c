/* opk verify: every golden case on every usable backend, bit for bit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "golden.h"

static const char help[] =
    "usage: opk verify [--backend B|all] [--kernel K] [--case TEXT]\n"
    "                  [--golden FILE] [--threads N] [--failures-only]\n"
    "\n"
    "Runs every golden case (tests/golden/conformance.tsv, compiled in) on\n"
    "every usable backend and prints case, backend, output, hash, whether it\n"
    "matches the golden hash, and the error against a double-precision\n"
    "evaluation with its bound (see tools/refdouble.h for the metric).\n"
    "Exit status 0 only if every hash matches and every error is within its\n"
    "bound; 1 otherwise; 2 on a usage error.\n"
    "\n"
    "  --backend B      scalar|avx2|avx512|neon|opencl[:P:D] or all (default)\n"
    "  --kernel K       only cases of kernel K (e.g. softmax)\n"
    "  --case TEXT      only cases whose name contains TEXT\n"
    "  --golden FILE    read cases from FILE instead of the built-in copy\n"
    "  --threads N      threads per kernel call (default: OPK_NUM_THREADS or\n"
    "                   all cores); results must not depend on it\n"
    "  --failures-only  print only the rows that fail, and the summary\n";

int cmd_verify(int argc, char **argv)
{
    if (cli_wants_help(argc, argv))
        return fputs(help, stdout), 0;
    const char *bsel = "all", *kernel = NULL, *only = NULL, *file = NULL, *v;
    long threads = 0;
    int failures_only = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--backend", &v)) != 0) {
            if (r < 0)
                return 2;
            bsel = v;
        } else if ((r = cli_opt(argc, argv, &i, "--kernel", &v)) != 0) {
            if (r < 0)
                return 2;
            kernel = v;
        } else if ((r = cli_opt(argc, argv, &i, "--case", &v)) != 0) {
            if (r < 0)
                return 2;
            only = v;
        } else if ((r = cli_opt(argc, argv, &i, "--golden", &v)) != 0) {
            if (r < 0)
                return 2;
            file = v;
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || cli_parse_int("--threads", v, 1, 4096, &threads))
                return 2;
        } else if (cli_flag(argv, i, "--failures-only")) {
            failures_only = 1;
        } else
            return cli_usage_error("verify: unknown option '%s' (see opk "
                                   "verify --help)", argv[i]);
    }
    if (kernel && !golden_kernel_known(kernel))
        return cli_usage_error("verify: --kernel: no kernel named '%s'",
                               kernel);
    opk_backend backends[OPK_BACKEND_COUNT];
    int nb = cli_backends(bsel, backends, OPK_BACKEND_COUNT);
    if (nb < 0)
        return 2;
    golden_case *cases;
    size_t ncases;
    char err[256];
    if (file ? golden_load(file, &cases, &ncases, err, sizeof err)
             : golden_parse(opk_golden_tsv, &cases, &ncases, err, sizeof err))
        return cli_error("verify: %s", err);

    int runs = 0, matched = 0, mismatched = 0, failed = 0, over_tol = 0;
    double worst_ratio = 0.0;
    printf("%-40s %-8s %-3s %-16s %-5s %-9s %s\n", "case", "backend", "out",
           "hash", "match", "max err", "bound");
    for (int b = 0; b < nb; b++) {
        opk_ctx *ctx = cli_ctx(backends[b], (int)threads);
        if (!ctx) {
            failed++;
            continue;
        }
        const char *bname = opk_backend_name(opk_ctx_backend(ctx));
        for (size_t k = 0; k < ncases; k++) {
            const golden_case *c = &cases[k];
            if ((kernel && strcmp(c->kernel, kernel)) ||
                (only && !strstr(c->name, only)))
                continue;
            char label[96];
            snprintf(label, sizeof label, "%s/%s", c->kernel, c->name);
            golden_result r;
            runs++;
            if (golden_run(ctx, c, 1, &r)) {
                failed++;
                printf("%-40s %-8s %-3s %-16s %-5s %s: %s\n", label, bname,
                       "-", "-", "ERROR", opk_status_str(r.status), r.msg);
                continue;
            }
            int ok = golden_matches(c, &r);
            int in_tol = r.max_err <= r.tol;
            ok ? matched++ : mismatched++;
            if (!in_tol)
                over_tol++;
            if (r.tol > 0 && r.max_err / r.tol > worst_ratio)
                worst_ratio = r.max_err / r.tol;
            for (int o = 0; o < r.nout; o++) {
                uint64_t want;
                int have = !golden_expected(c, r.out[o], &want);
                int oko = have && want == r.hash[o];
                if (failures_only && oko && in_tol)
                    continue;
                printf("%-40s %-8s %-3s %016llx %-5s", o ? "" : label,
                       o ? "" : bname, r.out[o], (unsigned long long)r.hash[o],
                       oko ? "yes" : have ? "NO" : "none");
                if (o == 0)
                    printf(" %-9.2e %.2e%s", r.max_err, r.tol,
                           in_tol ? "" : "  ERROR ABOVE BOUND");
                if (!oko && have)
                    printf("  (golden %016llx)", (unsigned long long)want);
                printf("\n");
            }
        }
        opk_ctx_destroy(ctx);
    }
    free(cases);
    printf("\n%d runs on %d backend(s): %d match, %d mismatch, %d failed, %d "
           "above error bound; worst error/bound %.3f\n",
           runs, nb, matched, mismatched, failed, over_tol, worst_ratio);
    if (runs == 0)
        return cli_error("verify: no case selected");
    return (mismatched || failed || over_tol) ? 1 : 0;
}
