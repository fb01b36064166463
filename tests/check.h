/* A minimal test harness: CHECK records a failure with its location and
 * goes on; check_summary() prints "N passed, N failed" and gives the exit
 * status ctest reads. */
#ifndef OPK_CHECK_H
#define OPK_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (cond)                                                             \
            check_passed++;                                                   \
        else {                                                                \
            check_failed++;                                                   \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__,  \
                    #cond);                                                   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

/* Checks a call's status. */
#define CHECK_ST(call, want)                                                  \
    do {                                                                      \
        opk_status st_ = (call);                                              \
        CHECK(st_ == (want), "%s returned %s, want %s", #call,                \
              opk_status_str(st_), opk_status_str(want));                     \
    } while (0)

static inline int check_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
