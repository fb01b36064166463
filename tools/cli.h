/* Shared pieces of the opk command. Exit codes: 0 success, 1 a check or
 * kernel failed, 2 a usage error. */
#ifndef OPK_CLI_H
#define OPK_CLI_H

#include "opk.h"

int cmd_info(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_demo(int argc, char **argv);

/* Prints "opk: <message>" to stderr and returns 2. */
int cli_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Prints "opk: <message>" to stderr and returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Matches argv[*i] against --name (value in the next word or after '=').
 * Returns 1 and sets *val when it matches, 0 when it does not, -1 (with a
 * message) when the value is missing. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **val);
int cli_flag(char **argv, int i, const char *name);
/* *out = the index of v in the NULL-terminated names; else a usage error
 * naming option opt (returns 2). */
int cli_pick(const char *opt, const char *v, const char *const *names,
             int *out);
int cli_parse_float(const char *opt, const char *s, float *v);
int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *v);
/* "all" gives every usable backend; else one name, with opencl:P:D's
 * platform and device (else 0:0). Returns the count, or -1 with a
 * message. */
int cli_backends(const char *s, opk_backend *out, int max, int *cl_platform,
                 int *cl_device);
/* A context on backend b (AUTO honours OPK_BACKEND) with `threads` (0 =
 * default) and, on the opencl backend, device P:D. Prints the reason and
 * returns NULL on failure. */
opk_ctx *cli_ctx_cl(opk_backend b, int threads, int cl_platform, int cl_device);
int cli_wants_help(int argc, char **argv);

#endif
