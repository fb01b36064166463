/* Concurrency: 8 caller threads run the golden cases of every kernel up to
 * 70000 elements (many shapes; OPK_TEST_SCALE scales the limit) at once on ONE shared context per backend (the CPU backends with
 * 2 OpenMP threads per call, and OpenCL); every output hash must equal the
 * single-threaded run's (tools/stress.c). */
#include <stdio.h>
#include <stdlib.h>

#include "backends.h"
#include "check.h"
#include "golden.h"
#include "stress.h"

#define CALLERS 8

int main(void)
{
    golden_case *cases;
    size_t n;
    char err[256];
    if (golden_parse(opk_golden_tsv, &cases, &n, err, sizeof err)) {
        fprintf(stderr, "golden: %s\n", err);
        return 1;
    }
    /* The bigger cases add time, not shapes: keep the small ones. */
    size_t limit = test_scaled(70000), kept = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = 0, c = 0;
        golden_get_size(&cases[i], "rows", &r);
        golden_get_size(&cases[i], "cols", &c);
        if (r * c <= limit)
            cases[kept++] = cases[i];
    }
    n = kept;
    long repeat = (long)test_scaled(2);
    opk_backend list[OPK_BACKEND_COUNT];
    int nb = test_backends(list);
    for (int b = 0; b < nb; b++) {
        opk_ctx *ctx = test_ctx(list[b], 2);
        stress_report rep;
        int rc = stress_run(ctx, cases, n, CALLERS, repeat, &rep);
        CHECK(rc == 0, "%s: could not start the threads", opk_backend_name(list[b]));
        long want = (long)(n - (size_t)rep.unported) * CALLERS * repeat;
        CHECK(rep.failures == 0 && rep.mismatches == 0,
              "%s: %ld failure(s), %ld mismatch(es); first: %s",
              opk_backend_name(list[b]), rep.failures, rep.mismatches, rep.first);
        CHECK(rep.calls == want, "%s: %ld calls, want %ld",
              opk_backend_name(list[b]), rep.calls, want);
        printf("%-7s: %d callers x %ld rounds x %zu cases = %ld calls on one "
               "context, every hash equal to the single-threaded run (%ld "
               "case(s) not implemented there)\n",
               opk_backend_name(list[b]), CALLERS, repeat, n - (size_t)rep.unported,
               rep.calls, rep.unported);
        opk_ctx_destroy(ctx);
    }
    free(cases);
    return check_summary("test_concurrency");
}
