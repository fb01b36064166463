/* Every golden case on every usable backend: hashes equal the golden file
 * exactly, errors within their bounds. Also checks the file itself: every
 * line parses, names a known kernel and carries a hash for each output. */
#include <stdlib.h>

#include "backends.h"
#include "check.h"
#include "golden.h"

int main(int argc, char **argv)
{
    golden_case *cases;
    size_t n;
    char err[256];
    int r = argc > 1 ? golden_load(argv[1], &cases, &n, err, sizeof err)
                     : golden_parse(opk_golden_tsv, &cases, &n, err, sizeof err);
    CHECK(r == 0, "golden file: %s", err);
    if (r)
        return check_summary("test_golden");
    CHECK(n >= 40, "only %zu golden cases", n);
    opk_backend backends[OPK_BACKEND_COUNT];
    int nb = test_backends(backends);
    /* Under emulation (tests/aarch64.sh) skip the double evaluation: a
     * matching hash means the bits the native suite already checked. */
    const int with_ref = getenv("OPK_TEST_EMULATED") == NULL;
    for (int b = 0; b < nb; b++) {
        opk_ctx *ctx = test_ctx(backends[b], 0);
        for (size_t k = 0; k < n; k++) {
            int kernel = 0;
            while (kernel < OPK_KERNEL_COUNT &&
                   strcmp(opk_kernel_name((opk_kernel)kernel), cases[k].kernel))
                kernel++;
            CHECK(kernel < OPK_KERNEL_COUNT, "line %d: unknown kernel %s",
                  cases[k].line, cases[k].kernel);
            int impl = kernel < OPK_KERNEL_COUNT &&
                       opk_backend_implements(backends[b], (opk_kernel)kernel);
            /* CPU backends implement every kernel; only a device backend may
             * still lack a port (opk verify lists those pairs as n/a). */
            CHECK(impl || backends[b] == OPK_BACKEND_OPENCL,
                  "%s does not implement %s", opk_backend_name(backends[b]),
                  cases[k].kernel);
            if (!impl)
                continue;
            golden_result res;
            int ran = golden_run(ctx, &cases[k], b == 0 && with_ref, &res) == 0;
            CHECK(ran, "%s line %d %s: %s", opk_backend_name(backends[b]),
                  cases[k].line, cases[k].name, res.msg);
            if (!ran)
                continue;
            CHECK(golden_matches(&cases[k], &res),
                  "%s line %d %s: hash %016llx does not match '%s'",
                  opk_backend_name(backends[b]), cases[k].line, cases[k].name,
                  (unsigned long long)res.hash[0], cases[k].expect);
            if (b == 0 && with_ref)
                CHECK(res.max_err <= res.tol, "line %d %s: error %.3g > %.3g",
                      cases[k].line, cases[k].name, res.max_err, res.tol);
        }
        opk_ctx_destroy(ctx);
    }
    free(cases);
    return check_summary("test_golden");
}
