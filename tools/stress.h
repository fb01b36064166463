/* Concurrency stress (opk verify --repeat N --threads T, tests/
 * test_concurrency.c): T caller threads run golden cases N times each on
 * ONE shared context, every output hash checked against a single-threaded
 * run of the same case on that context. */
#ifndef OPK_STRESS_H
#define OPK_STRESS_H

#include <stddef.h>

#include "golden.h"

typedef struct stress_report {
    long calls;      /* kernel calls made by the caller threads */
    long mismatches; /* a hash differing from the single-threaded run */
    long failures;   /* a call failing that succeeded single-threaded */
    long unported;   /* cases the backend does not implement (skipped) */
    char first[256]; /* the first problem, "" if none */
} stress_report;

/* Runs cases[0..n) once in this thread for reference hashes, then starts
 * `callers` threads that each run every case `repeat` times (each thread
 * in its own rotated order, so different shapes run at once). Returns 0
 * if the threads could be started (the report says what was found). */
int stress_run(opk_ctx *ctx, const golden_case *cases, size_t n, int callers,
               long repeat, stress_report *rep);

#endif
