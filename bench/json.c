/* JSON writer (see json.h). */
#include "json.h"

#include <math.h>
#include <string.h>

void bj_init(bench_json *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, min = 0x10000;
    else
        return 0;
    unsigned cp = c & (0x3f >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void bj_write_escaped(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    while (*s) {
        unsigned c = *s;
        if (c == '"' || c == '\\') {
            fputc('\\', f), fputc((int)c, f), s++;
        } else if (c < 0x20) {
            static const char short_esc[] = "btnvfr"; /* 8..13 */
            if (c >= 8 && c <= 13 && c != 11)
                fprintf(f, "\\%c", short_esc[c - 8]);
            else
                fprintf(f, "\\u%04x", c);
            s++;
        } else {
            int n = utf8_len(s);
            if (n == 0) {
                fputs("\\ufffd", f);
                s++;
            } else {
                fwrite(s, 1, (size_t)n, f);
                s += n;
            }
        }
    }
    fputc('"', f);
}

/* Separator, indentation and key before a new member. */
static void member(bench_json *j, const char *key)
{
    if (j->depth > 0) {
        if (j->count[j->depth - 1]++)
            fputc(',', j->f);
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->f);
    }
    if (key) {
        bj_write_escaped(j->f, key);
        fputs(": ", j->f);
    }
}

static void open_level(bench_json *j, const char *key, char open)
{
    member(j, key);
    fputc(open, j->f);
    if (j->depth == BJ_MAX_DEPTH) {
        j->err = 1;
        return;
    }
    j->close[j->depth] = open == '{' ? '}' : ']';
    j->count[j->depth++] = 0;
}

void bj_object(bench_json *j, const char *key) { open_level(j, key, '{'); }
void bj_array(bench_json *j, const char *key) { open_level(j, key, '['); }

void bj_end(bench_json *j)
{
    if (j->depth == 0) {
        j->err = 1;
        return;
    }
    int had = j->count[--j->depth];
    if (had) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->f);
    }
    fputc(j->close[j->depth], j->f);
    if (j->depth == 0)
        fputc('\n', j->f);
}

void bj_string(bench_json *j, const char *key, const char *v)
{
    member(j, key);
    bj_write_escaped(j->f, v ? v : "");
}

void bj_number(bench_json *j, const char *key, double v)
{
    member(j, key);
    if (isfinite(v))
        fprintf(j->f, "%.10g", v);
    else
        fputs("null", j->f);
}

void bj_bool(bench_json *j, const char *key, int v)
{
    member(j, key);
    fputs(v ? "true" : "false", j->f);
}

void bj_int(bench_json *j, const char *key, long long v)
{
    member(j, key);
    fprintf(j->f, "%lld", v);
}

int bj_finish(bench_json *j)
{
    return (j->err || j->depth) ? -1 : 0;
}
