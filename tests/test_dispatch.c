/* Backend selection (SPEC 5): names, parsing, OPK_BACKEND and
 * OPK_NUM_THREADS, unusable backends refused with a reason. */
#include <stdlib.h>

#include "check.h"
#include "opk.h"

int main(void)
{
    opk_backend b;
    int p = -1, d = -1;
    for (int i = 0; i < OPK_BACKEND_COUNT; i++) {
        CHECK_ST(opk_backend_parse(opk_backend_name((opk_backend)i), &b, NULL, NULL),
                 OPK_OK);
        CHECK(b == (opk_backend)i, "round trip of %s",
              opk_backend_name((opk_backend)i));
    }
    CHECK_ST(opk_backend_parse("opencl:1:2", &b, &p, &d), OPK_OK);
    CHECK(b == OPK_BACKEND_OPENCL && p == 1 && d == 2, "opencl:1:2");
    CHECK_ST(opk_backend_parse("avx3", &b, NULL, NULL), OPK_ERR_INVALID_ARG);
    CHECK(strstr(opk_ctx_last_error(NULL), "avx3") != NULL, "names the input");
    CHECK_ST(opk_backend_parse("opencl:1", &b, NULL, NULL), OPK_ERR_INVALID_ARG);
    /* Indices beyond int are errors, not wrapped (fuzz_api's finding). */
    p = d = -1;
    CHECK_ST(opk_backend_parse("opencl:4294967296:0", &b, &p, &d), OPK_ERR_INVALID_ARG);
    CHECK_ST(opk_backend_parse("opencl:0:10000000000", &b, &p, &d), OPK_ERR_INVALID_ARG);
    CHECK(p == -1 && d == -1, "indices untouched on failure");
    /* Digits only (strtol alone would take spaces and signs). */
    CHECK_ST(opk_backend_parse("opencl: 1:2", &b, &p, &d), OPK_ERR_INVALID_ARG);
    CHECK_ST(opk_backend_parse("opencl:+1:2", &b, &p, &d), OPK_ERR_INVALID_ARG);
    CHECK_ST(opk_backend_parse("opencl:0:-0", &b, &p, &d), OPK_ERR_INVALID_ARG);
    CHECK(p == -1 && d == -1, "indices untouched on failure");
    CHECK_ST(opk_backend_parse("opencl:2147483647:0", &b, &p, &d), OPK_OK);
    CHECK(p == 2147483647 && d == 0, "opencl:INT_MAX:0");
    CHECK(!strcmp(opk_backend_name((opk_backend)42), "?"), "out of range name");
    CHECK(!strcmp(opk_status_str(OPK_ERR_NOMEM), "OPK_ERR_NOMEM"), "status name");
    CHECK(!strcmp(opk_version(), OPK_VERSION_STRING), "version");

    /* AUTO without OPK_BACKEND: the best usable CPU ISA. */
    unsetenv("OPK_BACKEND");
    unsetenv("OPK_NUM_THREADS");
    opk_ctx *ctx = NULL;
    CHECK_ST(opk_ctx_create(NULL, &ctx), OPK_OK);
    opk_backend best = opk_ctx_backend(ctx);
    CHECK(opk_backend_available(best), "auto picked a usable backend");
    for (int i = best + 1; i <= OPK_BACKEND_AVX512; i++)
        CHECK(!opk_backend_available((opk_backend)i) ||
                  best == OPK_BACKEND_AVX512,
              "auto skipped %s", opk_backend_name((opk_backend)i));
    CHECK(opk_ctx_num_threads(ctx) >= 1, "threads");
    /* On AArch64 NEON (baseline there) is the best CPU ISA when built in. */
    CHECK(!opk_backend_available(OPK_BACKEND_NEON) || best == OPK_BACKEND_NEON,
          "auto picked %s, not neon", opk_backend_name(best));
    opk_ctx_destroy(ctx);

    setenv("OPK_BACKEND", "scalar", 1);
    setenv("OPK_NUM_THREADS", "3", 1);
    CHECK_ST(opk_ctx_create(NULL, &ctx), OPK_OK);
    CHECK(opk_ctx_backend(ctx) == OPK_BACKEND_SCALAR, "OPK_BACKEND=scalar");
    CHECK(opk_ctx_num_threads(ctx) == 3, "OPK_NUM_THREADS=3");
    opk_ctx_destroy(ctx);
    /* The config's thread count wins over the environment. */
    opk_config cfg = opk_config_default();
    cfg.num_threads = 5;
    CHECK_ST(opk_ctx_create(&cfg, &ctx), OPK_OK);
    CHECK(opk_ctx_num_threads(ctx) == 5, "config threads");
    opk_ctx_destroy(ctx);

    setenv("OPK_NUM_THREADS", "0", 1); /* 1..4096 */
    CHECK_ST(opk_ctx_create(NULL, &ctx), OPK_ERR_INVALID_ARG);
    CHECK(ctx == NULL, "OPK_NUM_THREADS=0: no context");
    setenv("OPK_NUM_THREADS", "zero", 1);
    CHECK_ST(opk_ctx_create(NULL, &ctx), OPK_ERR_INVALID_ARG);
    CHECK(ctx == NULL, "no context on failure");
    CHECK(strstr(opk_ctx_last_error(NULL), "OPK_NUM_THREADS") != NULL,
          "names OPK_NUM_THREADS: %s", opk_ctx_last_error(NULL));
    unsetenv("OPK_NUM_THREADS");
    setenv("OPK_BACKEND", "fast", 1);
    CHECK_ST(opk_ctx_create(NULL, &ctx), OPK_ERR_INVALID_ARG);
    CHECK(strstr(opk_ctx_last_error(NULL), "OPK_BACKEND") != NULL, "names OPK_BACKEND");
    unsetenv("OPK_BACKEND");

    /* A backend that is not usable: refused, never a silent fallback. */
    for (int i = 1; i < OPK_BACKEND_COUNT; i++) {
        if (opk_backend_available((opk_backend)i))
            continue;
        cfg = opk_config_default();
        cfg.backend = (opk_backend)i;
        CHECK_ST(opk_ctx_create(&cfg, &ctx), OPK_ERR_UNSUPPORTED);
        const char *why = opk_backend_unavailable_reason((opk_backend)i);
        CHECK(why[0] && strstr(opk_ctx_last_error(NULL), why),
              "%s: reason '%s' in '%s'", opk_backend_name((opk_backend)i), why,
              opk_ctx_last_error(NULL));
        setenv("OPK_BACKEND", opk_backend_name((opk_backend)i), 1);
        CHECK_ST(opk_ctx_create(NULL, &ctx), OPK_ERR_UNSUPPORTED);
        unsetenv("OPK_BACKEND");
    }
    cfg = opk_config_default();
    cfg.backend = (opk_backend)99;
    CHECK_ST(opk_ctx_create(&cfg, &ctx), OPK_ERR_INVALID_ARG);
    cfg.backend = OPK_BACKEND_AUTO;
    cfg.num_threads = -1;
    CHECK_ST(opk_ctx_create(&cfg, &ctx), OPK_ERR_INVALID_ARG);
    cfg.num_threads = 4097; /* the same cap as OPK_NUM_THREADS */
    CHECK_ST(opk_ctx_create(&cfg, &ctx), OPK_ERR_INVALID_ARG);
    CHECK(strstr(opk_ctx_last_error(NULL), "num_threads") != NULL, "names num_threads");
    cfg.num_threads = 0;
    cfg.cl_device = -1;
    CHECK_ST(opk_ctx_create(&cfg, &ctx), OPK_ERR_INVALID_ARG);
    CHECK(strstr(opk_ctx_last_error(NULL), "cl_device") != NULL, "names cl_device");
    cfg.cl_device = 0;
    /* An index out of range is not one that fails to name a backend. */
    CHECK(strstr(opk_backend_unavailable_reason((opk_backend)-1), "does not exist") &&
              strstr(opk_backend_unavailable_reason((opk_backend)6), "does not exist"),
          "out-of-range backend: %s", opk_backend_unavailable_reason((opk_backend)6));
    CHECK_ST(opk_ctx_create(NULL, NULL), OPK_ERR_INVALID_ARG);

    opk_cpu_info ci;
    opk_cpu_describe(&ci);
    CHECK(ci.model[0] && ci.arch[0], "cpu description");
    return check_summary("test_dispatch");
}
