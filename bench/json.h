/* A small streaming JSON writer for `opk bench --json`: objects, arrays,
 * strings (escaped; invalid UTF-8 becomes U+FFFD) and numbers (non-finite
 * ones become null), indented one member per line. */
#ifndef OPK_BENCH_JSON_H
#define OPK_BENCH_JSON_H

#include <stdio.h>

#define BJ_MAX_DEPTH 16

typedef struct bench_json {
    FILE *f;
    int depth;
    int count[BJ_MAX_DEPTH]; /* members written at each open level */
    char close[BJ_MAX_DEPTH]; /* '}' or ']' for each open level */
    int err;                 /* nesting misuse */
} bench_json;

void bj_init(bench_json *j, FILE *f);
/* key is the member name inside an object, NULL inside an array or at the
 * top level. */
void bj_object(bench_json *j, const char *key);
void bj_array(bench_json *j, const char *key);
void bj_end(bench_json *j); /* closes the innermost object or array */
void bj_string(bench_json *j, const char *key, const char *v);
void bj_number(bench_json *j, const char *key, double v);
void bj_int(bench_json *j, const char *key, long long v);
void bj_bool(bench_json *j, const char *key, int v);
/* 0 if everything was closed and nothing misused; the FILE's own errors
 * are the caller's to check. */
int bj_finish(bench_json *j);

/* Writes s as a JSON string literal (with quotes). */
void bj_write_escaped(FILE *f, const char *s);

#endif
