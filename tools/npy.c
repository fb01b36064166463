/* .npy reader/writer. The header is a Python dict literal; we accept exactly
 * what NumPy writes for float32 C-order arrays and say what else we saw. */
#define _DEFAULT_SOURCE /* realpath, mkstemp, fchmod */
#include "npy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Finds 'key' followed by ':' in the header; returns the value's start
 * (NULL if absent; *twice set when the key appears again). */
static const char *find_key(const char *h, const char *key, int *twice)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p)
        return NULL;
    *twice = strstr(p + 1, pat) != NULL;
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

/* Whether a Python literal ends at p (a separator follows). */
static int ends(const char *p)
{
    while (*p == ' ')
        p++;
    return *p == ',' || *p == '}';
}

static int parse_header(const char *h, npy_array *a, char *err, size_t n)
{
    static const char *const keys[] = {"descr", "fortran_order", "shape"};
    const char *val[3];
    for (int i = 0; i < 3; i++) {
        int twice = 0;
        val[i] = find_key(h, keys[i], &twice);
        if (!val[i])
            return fail(err, n, "header has no '%s' entry", keys[i]);
        if (twice)
            return fail(err, n, "header has '%s' twice", keys[i]);
    }
    const char *d = val[0];
    if (*d == '[')
        return fail(err, n, "dtype is a structured type (a list of fields), "
                            "not float32 ('<f4')");
    if (*d != '\'' && *d != '"')
        return fail(err, n, "'descr' is not a string");
    const char q = *d;
    char descr[16] = "";
    size_t k = 0;
    for (d++; *d && *d != q && k < sizeof descr - 1; d++)
        descr[k++] = *d;
    descr[k] = 0;
    if (*d != q || !ends(d + 1))
        return fail(err, n, "'descr' is not a string");
    if (strcmp(descr, "<f4") && strcmp(descr, "=f4")) {
        if (!strcmp(descr, ">f4"))
            return fail(err, n, "dtype is big-endian float32 ('>f4'); "
                                "save it as '<f4' (x.astype('<f4'))");
        return fail(err, n, "dtype is '%s', not float32 ('<f4'); convert "
                            "with x.astype(numpy.float32)",
                    descr);
    }
    const char *f = val[1];
    if (!strncmp(f, "True", 4) && ends(f + 4))
        return fail(err, n, "array is in Fortran order; save a C-order "
                            "copy (numpy.ascontiguousarray)");
    if (strncmp(f, "False", 5) || !ends(f + 5))
        return fail(err, n, "'fortran_order' is neither True nor False");
    const char *s = val[2];
    if (*s != '(')
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
    if (!ends(s + 1))
        return fail(err, n, "malformed 'shape' tuple");
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

/* The header of buf[0..len): the shape into a, the data's offset and
 * size. 0: done; -1: an error; 1: more bytes needed (never when final:
 * then a short buffer is an error). */
static int parse_prefix(const unsigned char *buf, size_t len, int final,
                        npy_array *a, size_t *data_off, size_t *data_bytes,
                        char *err, size_t n)
{
    memset(a, 0, sizeof *a);
    if (!final && len < 12 && !memcmp(buf, "\x93NUMPY", len < 6 ? len : 6))
        return 1;
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
        return final ? fail(err, n, "file ends inside the header (%zu bytes "
                                    "announced, %zu present)",
                            hlen, len - off)
                     : 1;
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
    size_t count;
    if (__builtin_mul_overflow(a->rows, a->cols, &count) ||
        __builtin_mul_overflow(count, 4, data_bytes) ||
        __builtin_add_overflow(off + hlen, *data_bytes, &count))
        return fail(err, n, "shape %zux%zu is too large", a->rows, a->cols);
    *data_off = off + hlen;
    return 0;
}

/* have data bytes for the bytes a's shape needs; more: the file goes on
 * past them. 0 if they match, else -1 with the reason. */
static int data_size(const npy_array *a, size_t have, size_t bytes, int more,
                     char *err, size_t n)
{
    if (have < bytes)
        return fail(err, n, "file is truncated: %zu data bytes for shape "
                            "%zux%zu need %zu",
                    have, a->rows, a->cols, bytes);
    if (more)
        return fail(err, n, "file has bytes after the data of shape %zux%zu",
                    a->rows, a->cols);
    if (have > bytes)
        return fail(err, n, "file has %zu bytes after the data of shape "
                            "%zux%zu",
                    have - bytes, a->rows, a->cols);
    return 0;
}

int npy_parse(const unsigned char *buf, size_t len, npy_array *a, char *err,
              size_t n)
{
    size_t off = 0, bytes = 0;
    int r = parse_prefix(buf, len, 1, a, &off, &bytes, err, n);
    if (r || (r = data_size(a, len - off, bytes, 0, err, n)))
        return r;
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
    /* The header first, in growing reads: a file that is not .npy (or
     * /dev/zero) fails on its first bytes. Then the data straight into its
     * array: no second copy of the file, and one byte read past the data
     * to see trailing bytes. */
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0, off = 0, bytes = 0, have = 0;
    char inner[256];
    int r = 1;
    while (r == 1 && !ferror(f)) {
        if (len == cap) {
            unsigned char *nb = realloc(buf, cap = cap ? 2 * cap : 4096);
            if (!nb) {
                r = fail(inner, sizeof inner, "out of memory");
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        r = parse_prefix(buf, len, got == 0, a, &off, &bytes, inner, sizeof inner);
    }
    if (r == 0 && (have = len - off) <= bytes) {
        if (!(a->data = malloc(bytes ? bytes : 4))) {
            r = fail(inner, sizeof inner, "out of memory for %zu bytes", bytes);
        } else {
            memcpy(a->data, buf + off, have);
            have += fread((unsigned char *)a->data + have, 1, bytes - have, f);
        }
    }
    free(buf);
    if (r == 0 && !ferror(f))
        r = data_size(a, have, bytes, have > bytes || fgetc(f) != EOF, inner,
                      sizeof inner);
    const int bad = ferror(f);
    fclose(f);
    if (bad || r) {
        npy_free(a);
        return bad ? fail(err, n, "%s: read error", path)
                   : fail(err, n, "%s: %s", path, inner);
    }
    return 0;
}

/* The whole .npy image of rows x cols (row stride ld) to f; 0 or errno. */
static int put(FILE *f, const float *data, size_t rows, size_t cols,
               size_t ld, int ndim)
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
    size_t hlen = (size_t)hl + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                             (unsigned char)hlen, (unsigned char)(hlen >> 8)};
    errno = 0;
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(h, 1, (size_t)hl, f) == (size_t)hl;
    for (size_t i = 0; ok && i < pad; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    for (size_t i = 0; ok && i < rows; i++)
        ok = fwrite(data + i * ld, 4, cols, f) == cols;
    ok = ok && fflush(f) == 0;
    return ok ? 0 : errno ? errno : EIO;
}

int npy_out_open(npy_out *o, const char *path, char *err, size_t n)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    /* Through symbolic links: the temporary file goes beside the file
     * they name, and replaces that file. */
    char *real = realpath(path, NULL);
    struct stat st;
    const int exists = stat(real ? real : path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) { /* /dev/stdout, a FIFO: in place */
        free(real);
        if (!(o->f = fopen(path, "wb")))
            return fail(err, n, "%s: %s", path, strerror(errno));
        return 0;
    }
    o->dest = real ? real : strdup(path);
    const size_t len = o->dest ? strlen(o->dest) : 0;
    if (o->dest)
        o->tmp = malloc(len + sizeof ".opk-XXXXXX");
    if (!o->tmp) {
        npy_out_abort(o);
        return fail(err, n, "%s: out of memory", path);
    }
    memcpy(o->tmp, o->dest, len);
    memcpy(o->tmp + len, ".opk-XXXXXX", sizeof ".opk-XXXXXX");
    const int fd = mkstemp(o->tmp);
    if (fd < 0) {
        const int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        npy_out_abort(o);
        return fail(err, n, "%s: cannot write there: %s", path, strerror(e));
    }
    /* mkstemp gives 0600: a file replaced keeps its mode, a new one gets
     * what creat(2) would give under the umask. */
    mode_t mode = exists ? st.st_mode & 07777 : 0;
    if (!exists) {
        const mode_t um = umask(0);
        umask(um);
        mode = 0666 & ~um;
    }
    if (fchmod(fd, mode) || !(o->f = fdopen(fd, "wb"))) {
        const int e = errno;
        close(fd);
        npy_out_abort(o);
        return fail(err, n, "%s: %s", path, strerror(e));
    }
    return 0;
}

/* Closes o->f; e: an error already met (errno value) or 0. */
static int finish(npy_out *o, int e, char *err, size_t n)
{
    errno = 0;
    if (!e && ferror(o->f))
        e = EIO;
    if (fclose(o->f) && !e)
        e = errno ? errno : EIO;
    o->f = NULL;
    if (e) {
        const char *path = o->path;
        npy_out_abort(o);
        return fail(err, n, "%s: write failed: %s", path, strerror(e));
    }
    return 0;
}

int npy_out_put(npy_out *o, const float *data, size_t rows, size_t cols,
                size_t ld, int ndim, char *err, size_t n)
{
    return finish(o, put(o->f, data, rows, cols, ld, ndim), err, n);
}

int npy_out_close(npy_out *o, char *err, size_t n)
{
    return finish(o, fflush(o->f) ? (errno ? errno : EIO) : 0, err, n);
}

int npy_out_commit(npy_out *o, char *err, size_t n)
{
    int r = 0;
    if (o->tmp && rename(o->tmp, o->dest))
        r = fail(err, n, "%s: cannot replace it: %s", o->path, strerror(errno));
    else
        free(o->tmp), o->tmp = NULL; /* renamed: nothing to remove */
    npy_out_abort(o);
    return r;
}

void npy_out_abort(npy_out *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->dest);
    o->f = NULL;
    o->tmp = o->dest = NULL;
}

int npy_write(const char *path, const float *data, size_t rows, size_t cols,
              size_t ld, int ndim, char *err, size_t n)
{
    npy_out o;
    if (npy_out_open(&o, path, err, n) ||
        npy_out_put(&o, data, rows, cols, ld, ndim, err, n))
        return -1;
    return npy_out_commit(&o, err, n);
}

void npy_free(npy_array *a)
{
    free(a->data);
    a->data = NULL;
}
