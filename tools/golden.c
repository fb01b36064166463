/* Golden file parsing and the per-kernel case dispatch. */
#include "golden.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *kernel;
    int (*run)(opk_ctx *, const golden_case *, int, golden_result *);
} runners[] = {
    {"softmax", golden_run_softmax},
    {"attention", golden_run_attention},
    {"sinkhorn", golden_run_sinkhorn},
    {"cheb", golden_run_cheb},
};

#define NRUNNERS (sizeof runners / sizeof runners[0])

int golden_kernel_known(const char *kernel)
{
    for (size_t i = 0; i < NRUNNERS; i++)
        if (!strcmp(runners[i].kernel, kernel))
            return 1;
    return 0;
}

static int copy_field(char *dst, size_t n, const char *src, size_t len)
{
    if (len >= n)
        return -1;
    memcpy(dst, src, len);
    dst[len] = 0;
    return 0;
}

int golden_parse(const char *text, golden_case **cases, size_t *n, char *err,
                 size_t errlen)
{
    size_t cap = 64, cnt = 0;
    golden_case *v = malloc(cap * sizeof *v);
    if (!v)
        return snprintf(err, errlen, "out of memory"), -1;
    int line = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        line++;
        if (len && p[0] != '#') {
            const char *f[4];
            size_t fl[4];
            int nf = 0;
            const char *q = p, *end = p + len;
            while (nf < 4) {
                const char *t = memchr(q, '\t', (size_t)(end - q));
                f[nf] = q;
                fl[nf] = t ? (size_t)(t - q) : (size_t)(end - q);
                nf++;
                if (!t)
                    break;
                q = t + 1;
            }
            if (nf != 4) {
                free(v);
                return snprintf(err, errlen,
                                "line %d: expected 4 tab-separated fields "
                                "(kernel, case, parameters, hashes)",
                                line),
                       -1;
            }
            if (cnt == cap) {
                golden_case *nv = realloc(v, 2 * cap * sizeof *v);
                if (!nv) {
                    free(v);
                    return snprintf(err, errlen, "out of memory"), -1;
                }
                v = nv, cap *= 2;
            }
            golden_case *c = &v[cnt++];
            c->line = line;
            if (copy_field(c->kernel, sizeof c->kernel, f[0], fl[0]) ||
                copy_field(c->name, sizeof c->name, f[1], fl[1]) ||
                copy_field(c->params, sizeof c->params, f[2], fl[2]) ||
                copy_field(c->expect, sizeof c->expect, f[3], fl[3])) {
                free(v);
                return snprintf(err, errlen, "line %d: a field is too long",
                                line),
                       -1;
            }
        }
        p += len + (e != NULL);
    }
    *cases = v;
    *n = cnt;
    return 0;
}

int golden_load(const char *path, golden_case **cases, size_t *n, char *err,
                size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        return snprintf(err, errlen, "%s: cannot read", path), -1;
    }
    fclose(f);
    buf[len] = 0;
    int r = golden_parse(buf, cases, n, err, errlen);
    free(buf);
    return r;
}

/* Finds " key=" in a space-separated list; returns the value's start. */
static const char *find_word(const char *list, const char *key, size_t *len)
{
    size_t kl = strlen(key);
    for (const char *p = list; *p;) {
        while (*p == ' ')
            p++;
        const char *e = strchr(p, ' ');
        size_t wl = e ? (size_t)(e - p) : strlen(p);
        if (wl > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            *len = wl - kl - 1;
            return p + kl + 1;
        }
        p += wl;
    }
    return NULL;
}

int golden_get_str(const golden_case *c, const char *key, char *v, size_t n)
{
    size_t len;
    const char *s = find_word(c->params, key, &len);
    if (!s || len >= n)
        return -1;
    memcpy(v, s, len);
    v[len] = 0;
    return 0;
}

int golden_get_u64(const golden_case *c, const char *key, uint64_t *v)
{
    char buf[32], *end;
    if (golden_get_str(c, key, buf, sizeof buf))
        return -1;
    errno = 0;
    unsigned long long x = strtoull(buf, &end, 10);
    if (errno || *end || buf[0] == '-')
        return -1;
    *v = x;
    return 0;
}

int golden_get_size(const golden_case *c, const char *key, size_t *v)
{
    uint64_t x;
    if (golden_get_u64(c, key, &x) || x > SIZE_MAX)
        return -1;
    *v = (size_t)x;
    return 0;
}

int golden_get_float(const golden_case *c, const char *key, float *v)
{
    char buf[48], *end;
    if (golden_get_str(c, key, buf, sizeof buf))
        return -1;
    float x = strtof(buf, &end); /* one rounding, as the CLI (SPEC 1) */
    if (*end || end == buf)
        return -1;
    *v = x;
    return 0;
}

int golden_expected(const golden_case *c, const char *out, uint64_t *h)
{
    size_t len;
    const char *s = find_word(c->expect, out, &len);
    if (!s || len != 16)
        return -1;
    char buf[17], *end;
    memcpy(buf, s, 16);
    buf[16] = 0;
    *h = strtoull(buf, &end, 16);
    return *end ? -1 : 0;
}

int golden_bad(golden_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    if (r->status == OPK_OK)
        r->status = OPK_ERR_INVALID_ARG;
    return -1;
}

void golden_add_hash(golden_result *r, const char *name, opk_cmat M)
{
    if (r->nout >= GOLDEN_MAX_OUT)
        return;
    snprintf(r->out[r->nout], sizeof r->out[0], "%s", name);
    if (opk_hash(M, &r->hash[r->nout]))
        r->hash[r->nout] = 0;
    r->nout++;
}

float *golden_matrix(size_t rows, size_t cols, size_t pad)
{
    size_t ld = cols + pad, n = rows * ld;
    float *m = malloc((n ? n : 1) * sizeof(float));
    if (m)
        for (size_t i = 0; i < n; i++)
            m[i] = NAN;
    return m;
}

int golden_run(opk_ctx *ctx, const golden_case *c, int with_ref,
               golden_result *r)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < NRUNNERS; i++)
        if (!strcmp(runners[i].kernel, c->kernel))
            return runners[i].run(ctx, c, with_ref, r);
    return golden_bad(r, "line %d: unknown kernel '%s'", c->line, c->kernel);
}

int golden_matches(const golden_case *c, const golden_result *r)
{
    if (r->status != OPK_OK || r->nout == 0)
        return 0;
    for (int i = 0; i < r->nout; i++) {
        uint64_t h;
        if (golden_expected(c, r->out[i], &h) || h != r->hash[i])
            return 0;
    }
    return 1;
}
