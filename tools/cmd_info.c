/* opk info: what this machine has and what opk will use. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char help[] =
    "usage: opk info\n"
    "\n"
    "Prints the CPU model and the features opk detected (CPUID + XGETBV on\n"
    "x86-64, AT_HWCAP on AArch64), each backend with whether it is compiled\n"
    "in and usable here (and why not), the backend AUTO picks (honouring\n"
    "OPK_BACKEND) and the thread count (OPK_NUM_THREADS or all cores).\n";

int cmd_info(int argc, char **argv)
{
    if (cli_wants_help(argc, argv))
        return fputs(help, stdout), 0;
    if (argc > 1)
        return cli_usage_error("info: unexpected argument '%s'", argv[1]);
    opk_cpu_info ci;
    opk_cpu_describe(&ci);
    printf("opk %s\n\n", opk_version());
    printf("cpu        %s (%s)\n", ci.model, ci.arch);
    printf("features   %s\n\n", ci.features[0] ? ci.features : "(none)");
    printf("%-8s %-10s %s\n", "backend", "status", "note");
    for (int b = 1; b < OPK_BACKEND_COUNT; b++) {
        int ok = opk_backend_available((opk_backend)b);
        printf("%-8s %-10s %s\n", opk_backend_name((opk_backend)b),
               ok ? "usable" : "unusable",
               ok ? "" : opk_backend_unavailable_reason((opk_backend)b));
    }
    const char *env = getenv("OPK_BACKEND");
    const char *tenv = getenv("OPK_NUM_THREADS");
    opk_ctx *ctx;
    opk_status st = opk_ctx_create(NULL, &ctx);
    printf("\n");
    if (st) {
        printf("auto       none: %s\n", opk_ctx_last_error(NULL));
        return 1;
    }
    printf("auto       %s%s%s%s\n", opk_backend_name(opk_ctx_backend(ctx)),
           env ? " (OPK_BACKEND=" : " (best CPU ISA", env ? env : "", ")");
    printf("threads    %d%s%s%s\n", opk_ctx_num_threads(ctx),
           tenv ? " (OPK_NUM_THREADS=" : " (all online cores",
           tenv ? tenv : "", ")");
    opk_ctx_destroy(ctx);
    return 0;
}
