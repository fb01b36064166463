/* Matrix Market coordinate files into CSR (SPEC 3.3). Every malformed input
 * is an OPK_ERR_IO naming "path:line: what"; the output is written only on
 * success. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "csr.h"

enum { F_REAL, F_INTEGER, F_PATTERN };

typedef struct reader {
    FILE *f;
    const char *name;
    long line;
    char *buf;
    size_t cap;
    int nul;   /* the last line held a NUL byte */
    int nomem; /* a line did not fit in memory */
} reader;

/* Next line without its newline; NULL at end of file, or with R->nomem
 * set when the line cannot be stored. Not getline: its buffer would be
 * out of reach of the allocation hook (kernels/test_hooks.h). */
static char *next_line(reader *R)
{
    size_t len = 0;
    int ch;
    while ((ch = getc_unlocked(R->f)) != EOF) {
        if (len + 1 >= R->cap) { /* room for ch and the final NUL */
            size_t cap = R->cap ? 2 * R->cap : 256;
            char *nb = cap > R->cap ? opk_realloc(R->buf, cap) : NULL;
            if (!nb) {
                R->nomem = 1;
                return NULL;
            }
            R->buf = nb, R->cap = cap;
        }
        R->buf[len++] = (char)ch;
        if (ch == '\n')
            break;
    }
    if (len == 0)
        return NULL;
    R->buf[len] = 0;
    R->line++;
    R->nul = memchr(R->buf, 0, len) != NULL;
    while (len > 0 && (R->buf[len - 1] == '\n' || R->buf[len - 1] == '\r'))
        R->buf[--len] = 0;
    return R->buf;
}

static opk_status io_fail(const reader *R, const char *fmt, const char *arg)
{
    char what[256];
    snprintf(what, sizeof what, fmt, arg);
    return opk_fail(NULL, OPK_ERR_IO, "%s:%ld: %s", R->name, R->line, what);
}

static opk_status nomem_fail(const reader *R)
{
    return opk_fail(NULL, OPK_ERR_NOMEM, "%s:%ld: out of memory", R->name,
                    R->line + 1);
}

static int is_blank(const char *s)
{
    return s[strspn(s, " \t")] == 0;
}

/* Splits off the next whitespace-separated token (NULL if none). */
static char *token(char **s)
{
    char *p = *s + strspn(*s, " \t");
    if (!*p)
        return NULL;
    char *e = p + strcspn(p, " \t");
    if (*e)
        *e++ = 0;
    *s = e;
    return p;
}

/* A decimal integer in [lo, hi]; 0 on success. */
static int parse_int(const char *t, long long lo, long long hi, long long *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(t, &end, 10);
    if (errno || end == t || *end || x < lo || x > hi)
        return -1;
    *v = x;
    return 0;
}

static opk_status parse_banner(reader *R, int *field, int *symmetric)
{
    char *s = next_line(R);
    if (!s && R->nomem)
        return nomem_fail(R);
    if (!s) {
        const int e = errno;
        R->line = 1;
        if (ferror(R->f)) /* a directory, an I/O error: not "empty" */
            return io_fail(R, "read error: %s", strerror(e));
        return io_fail(R, "%sempty file, expected the %%%%MatrixMarket banner",
                       "");
    }
    if (R->nul)
        return io_fail(R, "%sa NUL byte (is this a binary file?)", "");
    char *t = token(&s);
    if (!t || strcasecmp(t, "%%MatrixMarket"))
        return io_fail(R, "%snot a Matrix Market file (the first line must "
                          "start with %%%%MatrixMarket)", "");
    const char *want[] = {"object", "format", "field", "symmetry"};
    char *w[4];
    for (int k = 0; k < 4; k++)
        if (!(w[k] = token(&s)))
            return io_fail(R, "the banner lacks the %s", want[k]);
    if ((t = token(&s)))
        return io_fail(R, "unexpected '%s' after the banner's symmetry", t);
    if (strcasecmp(w[0], "matrix"))
        return io_fail(R, "object '%s' is not supported (only matrix)", w[0]);
    if (strcasecmp(w[1], "coordinate"))
        return io_fail(R, "format '%s' is not supported (only coordinate)",
                       w[1]);
    if (!strcasecmp(w[2], "real"))
        *field = F_REAL;
    else if (!strcasecmp(w[2], "integer"))
        *field = F_INTEGER;
    else if (!strcasecmp(w[2], "pattern"))
        *field = F_PATTERN;
    else
        return io_fail(R, "field '%s' is not supported (real, integer, "
                          "pattern)", w[2]);
    if (!strcasecmp(w[3], "general"))
        *symmetric = 0;
    else if (!strcasecmp(w[3], "symmetric"))
        *symmetric = 1;
    else
        return io_fail(R, "symmetry '%s' is not supported (general, "
                          "symmetric)", w[3]);
    return OPK_OK;
}

/* Skips comments and blank lines; NULL at end of file. */
static char *content_line(reader *R)
{
    char *s;
    while ((s = next_line(R)) && !R->nul &&
           (s[strspn(s, " \t")] == '%' || is_blank(s)))
        ;
    return s;
}

static opk_status parse_value(const reader *R, int field, char *t, float *v)
{
    if (field == F_INTEGER) {
        long long x;
        if (parse_int(t, LLONG_MIN, LLONG_MAX, &x))
            return io_fail(R, "value '%s' is not an integer", t);
        *v = (float)x;
        return OPK_OK;
    }
    char *end;
    errno = 0;
    float x = strtof(t, &end); /* one rounding (SPEC 1) */
    if (end == t || *end)
        return io_fail(R, "value '%s' is not a number", t);
    if (!isfinite(x))
        return io_fail(R, errno == ERANGE ? "value '%s' overflows float"
                                          : "value '%s' is not finite",
                       t);
    *v = x;
    return OPK_OK;
}

typedef struct entries {
    int32_t *r, *c;
    float *v;
    size_t m, cap;
} entries;

static int push(entries *E, int32_t r, int32_t c, float v)
{
    if (E->m == E->cap) {
        size_t cap = E->cap ? 2 * E->cap : 1024;
        int32_t *nr = opk_realloc(E->r, cap * sizeof *nr);
        if (nr)
            E->r = nr;
        int32_t *nc = opk_realloc(E->c, cap * sizeof *nc);
        if (nc)
            E->c = nc;
        float *nv = opk_realloc(E->v, cap * sizeof *nv);
        if (nv)
            E->v = nv;
        if (!nr || !nc || !nv)
            return -1;
        E->cap = cap;
    }
    E->r[E->m] = r, E->c[E->m] = c, E->v[E->m] = v, E->m++;
    return 0;
}

/* Sorted rows, duplicates summed in file order (float additions). */
static opk_status to_csr(const entries *E, int64_t rows, int64_t cols,
                         const char *name, opk_csr *A)
{
    int64_t *srp;
    size_t *ord;
    opk_status st = opk_coo_sort(NULL, rows, cols, E->m, E->r, E->c, &srp, &ord);
    if (st)
        return st;
    size_t u = 0;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t p = srp[i]; p < srp[i + 1]; p++)
            u += p == srp[i] || E->c[ord[p]] != E->c[ord[p - 1]];
    int64_t *rp;
    int32_t *ci;
    float *v;
    if ((st = opk_csr_alloc(NULL, "mtx_read", rows, cols, (int64_t)u, &rp, &ci,
                            &v))) {
        opk_free(srp), opk_free(ord);
        return st;
    }
    size_t w = 0;
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t p = srp[i]; p < srp[i + 1]; p++) {
            size_t e = ord[p];
            if (p > srp[i] && E->c[e] == ci[w - 1]) {
                v[w - 1] = v[w - 1] + E->v[e];
                if (isinf(v[w - 1])) { /* every value read is finite */
                    opk_free(srp), opk_free(ord);
                    opk_free(rp), opk_free(ci), opk_free(v);
                    return opk_fail(NULL, OPK_ERR_IO,
                                    "%s: the duplicate entries (%lld, %lld) "
                                    "sum past the float range",
                                    name, (long long)i + 1,
                                    (long long)E->c[e] + 1);
                }
            } else {
                ci[w] = E->c[e], v[w] = E->v[e], w++;
            }
        }
        rp[i + 1] = (int64_t)w;
    }
    opk_free(srp), opk_free(ord);
    A->rows = rows;
    A->cols = cols;
    A->nnz = (int64_t)u;
    A->row_ptr = rp;
    A->col_idx = ci;
    A->val = v;
    return OPK_OK;
}

static opk_status read_stream(reader *R, opk_csr *A)
{
    int field = F_REAL, sym = 0;
    opk_status st = parse_banner(R, &field, &sym);
    if (st)
        return st;
    char *s = content_line(R);
    if (!s && R->nomem)
        return nomem_fail(R);
    if (s && R->nul)
        return io_fail(R, "%sa NUL byte (is this a binary file?)", "");
    if (!s) {
        R->line++;
        return io_fail(R, "%send of file before the size line 'rows cols "
                          "entries'", "");
    }
    long long dims[3];
    const char *dn[3] = {"rows", "cols", "entries"};
    for (int k = 0; k < 3; k++) {
        char *t = token(&s);
        if (!t)
            return io_fail(R, "the size line lacks '%s' (expected 'rows cols "
                              "entries')", dn[k]);
        if (parse_int(t, 0, k < 2 ? INT32_MAX : LLONG_MAX, &dims[k]))
            return io_fail(R, k < 2 ? "size '%s' is not an integer in "
                                      "[0, 2^31 - 1]"
                                    : "entry count '%s' is not a nonnegative "
                                      "integer",
                           t);
    }
    char *t = token(&s);
    if (t)
        return io_fail(R, "unexpected '%s' after the size line", t);
    if (sym && dims[0] != dims[1]) {
        char b[64];
        snprintf(b, sizeof b, "%lldx%lld", dims[0], dims[1]);
        return io_fail(R, "a symmetric matrix must be square, this one is %s",
                       b);
    }
    long size_line = R->line;
    entries E = {0};
    long long k = 0;
    char msg[160];
    while ((s = content_line(R))) {
        if (R->nul) {
            st = io_fail(R, "%sa NUL byte (is this a binary file?)", "");
            goto out;
        }
        if (k == dims[2]) {
            snprintf(msg, sizeof msg, "more entries than the %lld announced "
                     "on line %ld", dims[2], size_line);
            st = io_fail(R, "%s", msg);
            goto out;
        }
        long long ij[2];
        for (int d = 0; d < 2; d++) {
            t = token(&s);
            if (!t) {
                st = io_fail(R, "missing %s index", d ? "column" : "row");
                goto out;
            }
            if (parse_int(t, 1, dims[d], &ij[d])) {
                snprintf(msg, sizeof msg, "%s index '%s' is not in 1..%lld",
                         d ? "column" : "row", t, dims[d]);
                st = io_fail(R, "%s", msg);
                goto out;
            }
        }
        float v = 1.0f;
        if (field != F_PATTERN) {
            if (!(t = token(&s))) {
                st = io_fail(R, "%smissing value", "");
                goto out;
            }
            if ((st = parse_value(R, field, t, &v)))
                goto out;
        }
        if ((t = token(&s))) {
            st = io_fail(R, "unexpected '%s' after the entry", t);
            goto out;
        }
        if (sym && ij[1] > ij[0]) {
            snprintf(msg, sizeof msg, "entry (%lld, %lld) is above the "
                     "diagonal; a symmetric file lists the lower triangle",
                     ij[0], ij[1]);
            st = io_fail(R, "%s", msg);
            goto out;
        }
        int32_t r = (int32_t)(ij[0] - 1), c = (int32_t)(ij[1] - 1);
        if (push(&E, r, c, v) || (sym && r != c && push(&E, c, r, v))) {
            st = opk_fail(NULL, OPK_ERR_NOMEM, "%s:%ld: out of memory",
                          R->name, R->line);
            goto out;
        }
        k++;
    }
    if (R->nomem) {
        st = nomem_fail(R);
        goto out;
    }
    if (ferror(R->f)) {
        st = io_fail(R, "read error: %s", strerror(errno));
        goto out;
    }
    if (k < dims[2]) {
        snprintf(msg, sizeof msg, "end of file after %lld of the %lld entries "
                 "announced on line %ld", k, dims[2], size_line);
        st = io_fail(R, "%s", msg);
        goto out;
    }
    st = to_csr(&E, dims[0], dims[1], R->name, A);
out:
    opk_free(E.r), opk_free(E.c), opk_free(E.v);
    return st;
}

static opk_status read_file(FILE *f, const char *name, opk_csr *A)
{
    reader R = {f, name, 0, NULL, 0, 0, 0};
    opk_csr tmp;
    opk_status st = read_stream(&R, &tmp);
    opk_free(R.buf);
    if (st == OPK_OK)
        *A = tmp;
    return st;
}

opk_status opk_mtx_read(const char *path, opk_csr *A)
{
    if (!path || !A)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "mtx_read: %s is NULL",
                        !path ? "path" : "A");
    FILE *f = fopen(path, "rb");
    if (!f)
        return opk_fail(NULL, OPK_ERR_IO, "%s: %s", path, strerror(errno));
    opk_status st = read_file(f, path, A);
    fclose(f);
    return st;
}

opk_status opk_mtx_parse(const char *text, size_t len, const char *name,
                         opk_csr *A)
{
    if ((!text && len) || !A)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "mtx_parse: %s is NULL",
                        !A ? "A" : "text");
    if (!name)
        name = "<memory>";
    if (len == 0) /* fmemopen rejects size 0 */
        return opk_fail(NULL, OPK_ERR_IO, "%s:1: empty file, expected the "
                        "%%%%MatrixMarket banner", name);
    FILE *f = fmemopen((void *)text, len, "rb");
    if (!f)
        return opk_fail(NULL, OPK_ERR_NOMEM, "%s: cannot open the text: %s",
                        name, strerror(errno));
    opk_status st = read_file(f, name, A);
    fclose(f);
    return st;
}
