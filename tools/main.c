/* opk: information, conformance checks, benchmarks and one-off runs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: opk COMMAND [options]\n"
    "\n"
    "Portable operator kernels (softmax, ...) that compute the same bits on\n"
    "every backend.\n"
    "\n"
    "commands:\n"
    "  info     CPU, features, backends compiled in and usable, AUTO's pick\n"
    "  verify   run every golden case on every usable backend; exit 1 on any\n"
    "           hash mismatch or error above its bound\n"
    "  run      run one kernel on .npy files and print the output hash\n"
    "  bench    time kernels on every usable backend against this machine's\n"
    "           measured memory bandwidth and FMA peak (cached per machine)\n"
    "  demo     depth study: does damped attention keep node states apart?\n"
    "\n"
    "options:\n"
    "  --help, -h     this text; 'opk COMMAND --help' describes a command\n"
    "  --version      the library version\n"
    "\n"
    "environment:\n"
    "  OPK_BACKEND      backend for AUTO: scalar|avx2|avx512|neon|opencl[:P:D]\n"
    "  OPK_NUM_THREADS  threads (default: all online cores)\n";

static int run(int argc, char **argv);

/* Output that never reached standard output (a full disk, a closed pipe
 * reader) is a failure: the hashes printed are the result. */
int main(int argc, char **argv)
{
    int r = run(argc, argv);
    if ((fflush(stdout) || ferror(stdout)) && r != 2)
        r = cli_error("writing the standard output: %s", strerror(errno));
    return r;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("opk %s\n", opk_version());
        return 0;
    }
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "verify"))
        return cmd_verify(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "demo"))
        return cmd_demo(argc - 1, argv + 1);
    fputs(usage, stderr);
    return cli_usage_error("unknown command '%s'", cmd);
}
