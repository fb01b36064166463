/* Option parsing and context helpers for the opk command. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("opk: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("opk: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n))
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n])
        return 0;
    if (*i + 1 >= argc) {
        cli_usage_error("%s needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int cli_flag(char **argv, int i, const char *name)
{
    return !strcmp(argv[i], name);
}

int cli_parse_float(const char *opt, const char *s, float *v)
{
    char *end;
    errno = 0;
    float x = strtof(s, &end);
    if (end == s || *end) {
        cli_usage_error("%s: '%s' is not a number", opt, s);
        return -1;
    }
    /* Overflow to inf or underflow to 0 (a subnormal result is kept). */
    if (errno == ERANGE && (x == 0.0f || x - x != 0.0f)) {
        cli_usage_error("%s: '%s' is out of the float range", opt, s);
        return -1;
    }
    *v = x;
    return 0;
}

int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno || x < lo || x > hi) {
        cli_usage_error("%s: '%s' is not an integer in [%ld, %ld]", opt, s,
                        lo, hi);
        return -1;
    }
    *v = x;
    return 0;
}

int cli_backends(const char *s, opk_backend *out, int max, int *cl_platform,
                 int *cl_device)
{
    int n = 0;
    *cl_platform = *cl_device = 0;
    if (!strcmp(s, "all")) {
        for (int b = 1; b < OPK_BACKEND_COUNT && n < max; b++)
            if (opk_backend_available((opk_backend)b))
                out[n++] = (opk_backend)b;
        return n;
    }
    opk_backend b;
    if (opk_backend_parse(s, &b, cl_platform, cl_device)) {
        cli_usage_error("--backend: %s", opk_ctx_last_error(NULL));
        return -1;
    }
    out[0] = b;
    return 1;
}

opk_ctx *cli_ctx_cl(opk_backend b, int threads, int cl_platform, int cl_device)
{
    opk_config cfg = opk_config_default();
    cfg.backend = b;
    cfg.num_threads = threads;
    cfg.cl_platform = cl_platform;
    cfg.cl_device = cl_device;
    opk_ctx *ctx;
    opk_status st = opk_ctx_create(&cfg, &ctx);
    if (st) {
        cli_error("cannot use backend %s: %s (%s)", opk_backend_name(b),
                  opk_ctx_last_error(NULL), opk_status_str(st));
        return NULL;
    }
    return ctx;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

int cli_pick(const char *opt, const char *v, const char *const *names,
             int *out)
{
    for (int k = 0; names[k]; k++)
        if (!strcmp(v, names[k]))
            return *out = k, 0;
    return cli_usage_error("%s: unknown value '%s'", opt, v);
}
