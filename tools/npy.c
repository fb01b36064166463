/* .npy reader/writer. The header is a Python dict literal; we accept exactly
 * what NumPy writes for float32 C-order arrays and say what else we saw. */
#include "npy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Finds 'key' followed by ':' in the header; returns the value's start. */
static const char *find_key(const char *h, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

static int parse_header(const char *h, npy_array *a, char *err, size_t n)
{
    const char *d = find_key(h, "descr");
    if (!d || (*d != '\'' && *d != '"'))
        return fail(err, n, "header has no 'descr' entry");
    char descr[16] = "";
    size_t k = 0;
    for (d++; *d && *d != '\'' && *d != '"' && k < sizeof descr - 1; d++)
        descr[k++] = *d;
    descr[k] = 0;
    if (strcmp(descr, "<f4") && strcmp(descr, "=f4")) {
        if (!strcmp(descr, ">f4"))
            return fail(err, n, "dtype is big-endian float32 ('>f4'); "
                                "save it as '<f4' (x.astype('<f4'))");
        return fail(err, n, "dtype is '%s', not float32 ('<f4'); convert "
                            "with x.astype(numpy.float32)",
                    descr);
    }
    const char *f = find_key(h, "fortran_order");
    if (!f)
        return fail(err, n, "header has no 'fortran_order' entry");
    if (!strncmp(f, "True", 4))
        return fail(err, n, "array is in Fortran order; save a C-order "
                            "copy (numpy.ascontiguousarray)");
    if (strncmp(f, "False", 5))
        return fail(err, n, "'fortran_order' is neither True nor False");
    const char *s = find_key(h, "shape");
    if (!s || *s != '(')
        return fail(err, n, "header has no 'shape' tuple");
    size_t dims[3];
    int nd = 0;
    s++;
    for (;;) {
        while (*s == ' ')
            s++;
        if (*s == ')')
            break;
        if (*s < '0' || *s > '9')
            return fail(err, n, "malformed 'shape' tuple");
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || v > SIZE_MAX)
            return fail(err, n, "shape dimension is too large");
        if (nd == 3)
            return fail(err, n, "array has more than 2 dimensions; opk "
                                "takes 1-D or 2-D arrays");
        dims[nd++] = (size_t)v;
        s = end;
        while (*s == ' ')
            s++;
        if (*s == ',')
            s++;
        else if (*s != ')')
            return fail(err, n, "malformed 'shape' tuple");
    }
    if (nd == 0)
        return fail(err, n, "array is 0-dimensional (a scalar); opk takes "
                            "1-D or 2-D arrays");
    if (nd == 3)
        return fail(err, n, "array has 3 dimensions; opk takes 1-D or 2-D "
                            "arrays");
    a->ndim = nd;
    a->rows = nd == 2 ? dims[0] : 1;
    a->cols = nd == 2 ? dims[1] : dims[0];
    return 0;
}

int npy_parse(const unsigned char *buf, size_t len, npy_array *a, char *err,
              size_t n)
{
    memset(a, 0, sizeof *a);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6))
        return fail(err, n, "not a .npy file (no \\x93NUMPY magic)");
    unsigned major = buf[6];
    size_t hlen, off;
    if (major == 1) {
        hlen = buf[8] | (size_t)buf[9] << 8;
        off = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return fail(err, n, "file ends inside the header");
        hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
               (size_t)buf[11] << 24;
        off = 12;
    } else
        return fail(err, n, ".npy format version %u.%u is not supported",
                    major, buf[7]);
    if (hlen > len - off)
        return fail(err, n, "file ends inside the header (%zu bytes "
                            "announced, %zu present)",
                    hlen, len - off);
    char *h = malloc(hlen + 1);
    if (!h)
        return fail(err, n, "out of memory");
    memcpy(h, buf + off, hlen);
    h[hlen] = 0;
    if (strlen(h) != hlen) {
        free(h);
        return fail(err, n, "header contains a NUL byte");
    }
    int r = parse_header(h, a, err, n);
    free(h);
    if (r)
        return r;
    off += hlen;
    size_t count, bytes;
    if (__builtin_mul_overflow(a->rows, a->cols, &count) ||
        __builtin_mul_overflow(count, 4, &bytes))
        return fail(err, n, "shape %zux%zu is too large", a->rows, a->cols);
    if (len - off < bytes)
        return fail(err, n, "file is truncated: %zu data bytes for shape "
                            "%zux%zu need %zu",
                    len - off, a->rows, a->cols, bytes);
    if (len - off > bytes)
        return fail(err, n, "file has %zu bytes after the data of shape "
                            "%zux%zu",
                    len - off - bytes, a->rows, a->cols);
    a->data = malloc(bytes ? bytes : 4);
    if (!a->data)
        return fail(err, n, "out of memory for %zu bytes", bytes);
    memcpy(a->data, buf + off, bytes); /* little-endian host */
    return 0;
}

int npy_read(const char *path, npy_array *a, char *err, size_t n)
{
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, n, "%s: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return fail(err, n, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return fail(err, n, "%s: read error", path);
    }
    char inner[256];
    int r = npy_parse(buf, len, a, inner, sizeof inner);
    free(buf);
    if (r)
        return fail(err, n, "%s: %s", path, inner);
    return 0;
}

int npy_write(const char *path, const float *data, size_t rows, size_t cols,
              size_t ld, int ndim, char *err, size_t n)
{
    char h[128];
    int hl;
    if (ndim == 1)
        hl = snprintf(h, sizeof h,
                      "{'descr': '<f4', 'fortran_order': False, 'shape': "
                      "(%zu,), }",
                      rows * cols);
    else
        hl = snprintf(h, sizeof h,
                      "{'descr': '<f4', 'fortran_order': False, 'shape': "
                      "(%zu, %zu), }",
                      rows, cols);
    /* Pad with spaces so the data starts at a multiple of 64; end in '\n'. */
    size_t total = 10 + (size_t)hl + 1;
    size_t pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f)
        return fail(err, n, "%s: %s", path, strerror(errno));
    size_t hlen = (size_t)hl + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)hlen, (unsigned char)(hlen >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(h, 1, (size_t)hl, f) == (size_t)hl;
    for (size_t i = 0; ok && i < pad; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    for (size_t i = 0; ok && i < rows; i++)
        ok = fwrite(data + i * ld, 4, cols, f) == cols;
    if (fclose(f) || !ok)
        return fail(err, n, "%s: write failed", path);
    return 0;
}

void npy_free(npy_array *a)
{
    free(a->data);
    a->data = NULL;
}
