/* opk verify: every golden case on every usable backend, bit for bit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "golden.h"
#include "stress.h"

static const char help[] =
    "usage: opk verify [--backend B|all] [--kernel K] [--case TEXT]\n"
    "                  [--golden FILE] [--threads N] [--failures-only]\n"
    "                  [--repeat N]\n"
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
    "  --failures-only  print only the rows that fail, and the summary\n"
    "  --repeat N       stress mode: --threads T (default 8) caller threads\n"
    "                   each run the selected cases N times, all at once, on\n"
    "                   one shared context per backend; every output hash must\n"
    "                   equal a single-threaded run's (and the golden hash on\n"
    "                   bitwise backends). Calls use the context's default\n"
    "                   thread count (OPK_NUM_THREADS or all cores).\n"
    "\n"
    "OpenCL: `all` runs every OpenCL device (shown as opencl, or opencl:P:D\n"
    "beyond the first). A device without denormals, fma or correctly rounded\n"
    "divide/sqrt (SPEC 1) runs as \"tolerance only\": its hashes are shown\n"
    "with match \"tol\" and do not count as mismatches; its errors must\n"
    "still be within their bounds.\n";

/* One backend to verify; OpenCL devices are separate targets. */
typedef struct target {
    opk_backend b;
    int p, d;
} target;

#define MAX_TARGETS (OPK_BACKEND_COUNT + 32)

static int targets(const char *sel, target *t)
{
    int n = 0;
    if (strcmp(sel, "all")) {
        if (opk_backend_parse(sel, &t[0].b, &t[0].p, &t[0].d))
            return cli_usage_error("--backend: %s", opk_ctx_last_error(NULL)),
                   -1;
        return 1;
    }
    for (int b = 1; b < OPK_BACKEND_COUNT; b++) {
        if (!opk_backend_available((opk_backend)b))
            continue;
        if (b != OPK_BACKEND_OPENCL) {
            t[n++] = (target){(opk_backend)b, 0, 0};
            continue;
        }
        for (int i = 0; i < opk_cl_device_count() && n < MAX_TARGETS; i++) {
            opk_cl_device_info d;
            if (!opk_cl_device_describe(i, &d))
                t[n++] = (target){OPK_BACKEND_OPENCL, d.platform, d.device};
        }
    }
    return n;
}

/* --repeat: the stress mode (tools/stress.c) on every target. */
static int verify_stress(const target *tg, int nb, golden_case *cases,
                         size_t ncases, const char *kernel, const char *only,
                         long repeat, int callers)
{
    size_t n = 0;
    for (size_t k = 0; k < ncases; k++) /* the selection, compacted */
        if (!(kernel && strcmp(cases[k].kernel, kernel)) &&
            !(only && !strstr(cases[k].name, only)))
            cases[n++] = cases[k];
    if (n == 0) {
        free(cases);
        return cli_error("verify: no case selected");
    }
    int bad = 0;
    for (int b = 0; b < nb; b++) {
        opk_ctx *ctx = cli_ctx_cl(tg[b].b, 0, tg[b].p, tg[b].d);
        if (!ctx) {
            bad = 1;
            continue;
        }
        char bname[24];
        snprintf(bname, sizeof bname, "%s", opk_backend_name(opk_ctx_backend(ctx)));
        if (opk_ctx_backend(ctx) == OPK_BACKEND_OPENCL && (tg[b].p || tg[b].d))
            snprintf(bname, sizeof bname, "opencl:%d:%d", tg[b].p, tg[b].d);
        /* The single-threaded reference must itself be right. */
        long golden_bad_runs = 0;
        if (opk_ctx_bitwise(ctx))
            for (size_t k = 0; k < n; k++) {
                golden_result r;
                if (!golden_run(ctx, &cases[k], 0, &r) && !golden_matches(&cases[k], &r))
                    golden_bad_runs++;
            }
        stress_report rep;
        if (stress_run(ctx, cases, n, callers, repeat, &rep)) {
            opk_ctx_destroy(ctx);
            free(cases);
            return cli_error("verify: cannot start %d threads", callers);
        }
        int ok = !rep.failures && !rep.mismatches && !golden_bad_runs;
        printf("%-10s %d threads x %ld repeats x %zu cases: %ld calls, %ld "
               "hash mismatch(es), %ld failure(s), %ld golden mismatch(es)%s%s%s\n",
               bname, callers, repeat, n - (size_t)rep.unported, rep.calls,
               rep.mismatches, rep.failures, golden_bad_runs,
               ok ? ": OK" : ": FAIL", rep.first[0] ? "; first: " : "", rep.first);
        bad |= !ok;
        opk_ctx_destroy(ctx);
    }
    free(cases);
    return bad ? 1 : 0;
}

int cmd_verify(int argc, char **argv)
{
    if (cli_wants_help(argc, argv))
        return fputs(help, stdout), 0;
    const char *bsel = "all", *kernel = NULL, *only = NULL, *file = NULL, *v;
    long threads = 0, repeat = 0;
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
        } else if ((r = cli_opt(argc, argv, &i, "--repeat", &v)) != 0) {
            if (r < 0 || cli_parse_int("--repeat", v, 1, 1000000, &repeat))
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
    target tg[MAX_TARGETS];
    int nb = targets(bsel, tg);
    if (nb < 0)
        return 2;
    golden_case *cases;
    size_t ncases;
    char err[256];
    if (file ? golden_load(file, &cases, &ncases, err, sizeof err)
             : golden_parse(opk_golden_tsv, &cases, &ncases, err, sizeof err))
        return cli_error("verify: %s", err);

    if (repeat)
        return verify_stress(tg, nb, cases, ncases, kernel, only, repeat,
                             threads ? (int)threads : 8);
    /* Test hook: every bound times OPK_VERIFY_BOUND_SCALE (0: any nonzero
     * error is over its bound), so the exit status on errors above their
     * bounds, the only failure a tolerance-only device has, can be tested. */
    const char *hook = getenv("OPK_VERIFY_BOUND_SCALE");
    const double bound_scale = hook ? strtod(hook, NULL) : 1.0;
    int runs = 0, matched = 0, mismatched = 0, failed = 0, over_tol = 0;
    int unported = 0;
    int tol_runs = 0;
    double worst_ratio = 0.0, tol_worst = 0.0;
    printf("%-40s %-8s %-3s %-16s %-5s %-9s %s\n", "case", "backend", "out",
           "hash", "match", "max err", "bound");
    for (int b = 0; b < nb; b++) {
        opk_ctx *ctx = cli_ctx_cl(tg[b].b, (int)threads, tg[b].p, tg[b].d);
        if (!ctx) {
            failed++;
            continue;
        }
        char bname[24];
        snprintf(bname, sizeof bname, "%s", opk_backend_name(opk_ctx_backend(ctx)));
        if (opk_ctx_backend(ctx) == OPK_BACKEND_OPENCL && (tg[b].p || tg[b].d))
            snprintf(bname, sizeof bname, "opencl:%d:%d", tg[b].p, tg[b].d);
        /* A device without the fp32 capabilities of SPEC 1: tolerance only. */
        const int bitwise = opk_ctx_bitwise(ctx);
        if (!bitwise)
            printf("%s: the device lacks denormals, fma or correctly rounded "
                   "divide/sqrt: tolerance only (hashes not required to "
                   "match)\n",
                   bname);
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
                if (r.status == OPK_ERR_UNSUPPORTED) {
                    /* Not implemented on this backend: no claim, no failure. */
                    runs--, unported++;
                    if (!failures_only)
                        printf("%-40s %-8s %-3s %-16s %-5s %s\n", label, bname,
                               "-", "-", "n/a", r.msg);
                    continue;
                }
                failed++;
                printf("%-40s %-8s %-3s %-16s %-5s %s: %s\n", label, bname,
                       "-", "-", "ERROR", opk_status_str(r.status), r.msg);
                continue;
            }
            int ok = golden_matches(c, &r);
            if (bound_scale >= 0.0 && bound_scale < 1.0)
                r.tol *= bound_scale;
            int in_tol = r.max_err <= r.tol;
            if (!bitwise) {
                tol_runs++;
                if (r.tol > 0 && r.max_err / r.tol > tol_worst)
                    tol_worst = r.max_err / r.tol;
            } else
                ok ? matched++ : mismatched++;
            if (!in_tol)
                over_tol++;
            if (r.tol > 0 && r.max_err / r.tol > worst_ratio)
                worst_ratio = r.max_err / r.tol;
            for (int o = 0; o < r.nout; o++) {
                uint64_t want;
                int have = !golden_expected(c, r.out[o], &want);
                int oko = have && want == r.hash[o];
                if (failures_only && (oko || !bitwise) && in_tol)
                    continue;
                printf("%-40s %-8s %-3s %016llx %-5s", o ? "" : label,
                       o ? "" : bname, r.out[o], (unsigned long long)r.hash[o],
                       !bitwise ? "tol" : oko ? "yes" : have ? "NO" : "none");
                if (o == 0)
                    printf(" %-9.2e %.2e%s", r.max_err, r.tol,
                           in_tol ? "" : "  ERROR ABOVE BOUND");
                if (!oko && have && bitwise)
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
    if (unported)
        printf("%d case x backend pairs not run: kernel not implemented on "
               "that backend (n/a)\n",
               unported);
    if (tol_runs)
        printf("%d of them tolerance only (hash not compared); worst "
               "error/bound there %.3f\n",
               tol_runs, tol_worst);
    if (runs == 0 && !unported && !failed) /* not: no backend could start */
        return cli_error("verify: no case selected");
    return (mismatched || failed || over_tol) ? 1 : 0;
}
