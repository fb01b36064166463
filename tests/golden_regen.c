/* Regenerates the hashes of tests/golden/conformance.tsv with the scalar
 * reference backend. Run only on purpose (a deliberate SPEC change or new
 * cases whose hash field is "-"): cmake --build build --target
 * golden-regenerate. Comments and case order are kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: golden_regen FILE.tsv\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return perror(argv[1]), 1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)len + 1);
    if (!text || fread(text, 1, (size_t)len, f) != (size_t)len)
        return fprintf(stderr, "%s: cannot read\n", argv[1]), 1;
    text[len] = 0;
    fclose(f);
    golden_case *cases;
    size_t n;
    char err[256];
    if (golden_parse(text, &cases, &n, err, sizeof err))
        return fprintf(stderr, "%s: %s\n", argv[1], err), 1;
    opk_config cfg = opk_config_default();
    cfg.backend = OPK_BACKEND_SCALAR;
    opk_ctx *ctx;
    if (opk_ctx_create(&cfg, &ctx))
        return fprintf(stderr, "scalar backend: %s\n", opk_ctx_last_error(NULL)), 1;
    char *tmp = malloc(strlen(argv[1]) + 8);
    sprintf(tmp, "%s.tmp", argv[1]);
    FILE *o = fopen(tmp, "wb");
    if (!o)
        return perror(tmp), 1;
    size_t k = 0;
    int line = 0, changed = 0;
    for (char *p = text; *p;) {
        char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        line++;
        if (k < n && cases[k].line == line) {
            golden_case *c = &cases[k++];
            golden_result r;
            if (golden_run(ctx, c, 1, &r))
                return fprintf(stderr, "line %d (%s): %s\n", line, c->name, r.msg), 1;
            if (r.max_err > r.tol)
                return fprintf(stderr, "line %d (%s): error %.3g above bound %.3g\n",
                               line, c->name, r.max_err, r.tol), 1;
            char hashes[256] = "";
            for (int i = 0; i < r.nout; i++)
                sprintf(hashes + strlen(hashes), "%s%s=%016llx", i ? " " : "",
                        r.out[i], (unsigned long long)r.hash[i]);
            changed += strcmp(hashes, c->expect) != 0;
            fprintf(o, "%s\t%s\t%s\t%s\n", c->kernel, c->name, c->params, hashes);
        } else {
            fprintf(o, "%.*s\n", (int)l, p);
        }
        p += l + (e != NULL);
    }
    if (fclose(o) || rename(tmp, argv[1]))
        return perror(argv[1]), 1;
    printf("%s: %zu cases, %d hash fields changed\n", argv[1], n, changed);
    opk_ctx_destroy(ctx);
    free(cases), free(text), free(tmp);
    return 0;
}
