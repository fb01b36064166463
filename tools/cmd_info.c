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
    "OPK_BACKEND) and the thread count (OPK_NUM_THREADS or all cores).\n"
    "\n"
    "OpenCL: every platform and device (P:D as in OPK_BACKEND=opencl:P:D)\n"
    "with its versions, compute units, memory and fp32 capabilities, and\n"
    "whether it takes part in bitwise conformance (denormals, fma and\n"
    "correctly rounded divide/sqrt; SPEC 1) or is checked against the error\n"
    "bound only (\"tolerance only\").\n";

static const char *yes(int b) { return b ? "yes" : "no"; }

static void print_size(const char *label, uint64_t b)
{
    if (b >= ((uint64_t)1 << 30))
        printf("%s %.2f GiB", label, (double)b / (double)((uint64_t)1 << 30));
    else if (b >= ((uint64_t)1 << 20))
        printf("%s %.1f MiB", label, (double)b / (double)((uint64_t)1 << 20));
    else
        printf("%s %.0f KiB", label, (double)b / 1024.0);
}

static void print_opencl(void)
{
    int np = opk_cl_platform_count(), nd = opk_cl_device_count();
    printf("\nopencl     %d platform%s, %d device%s\n", np, np == 1 ? "" : "s",
           nd, nd == 1 ? "" : "s");
    for (int i = 0; i < nd; i++) {
        opk_cl_device_info d;
        if (opk_cl_device_describe(i, &d))
            continue;
        printf("  %d:%d  %s (%s, %s)\n", d.platform, d.device, d.name, d.type,
               d.vendor);
        printf("       platform %s: %s\n", d.platform_name, d.platform_version);
        printf("       %s, driver %s\n", d.version, d.driver_version);
        printf("       %u compute units,", d.compute_units);
        print_size(" global", d.global_mem);
        print_size(", local", d.local_mem);
        print_size(", largest buffer", d.max_alloc);
        printf("\n       fp32: denormals %s, fma %s, correctly rounded "
               "divide/sqrt %s -> %s\n",
               yes(d.fp_denorm), yes(d.fp_fma),
               yes(d.fp_correctly_rounded_divide_sqrt),
               d.bitwise ? "bitwise conformance" : "tolerance only");
    }
}

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
    print_opencl();
    /* Which usable backend implements which kernel. */
    printf("\n%-10s", "kernel");
    for (int b = 1; b < OPK_BACKEND_COUNT; b++)
        if (opk_backend_available((opk_backend)b))
            printf(" %-8s", opk_backend_name((opk_backend)b));
    printf("\n");
    for (int k = 0; k < OPK_KERNEL_COUNT; k++) {
        printf("%-10s", opk_kernel_name((opk_kernel)k));
        for (int b = 1; b < OPK_BACKEND_COUNT; b++)
            if (opk_backend_available((opk_backend)b))
                printf(" %-8s", opk_backend_implements((opk_backend)b,
                                                       (opk_kernel)k)
                                    ? "yes"
                                    : "-");
        printf("\n");
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
