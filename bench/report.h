/* The results of `opk bench`: the limits summary, one table row per
 * measurement and the JSON file. */
#ifndef OPK_BENCH_REPORT_H
#define OPK_BENCH_REPORT_H

#include <stdio.h>

#include "bench.h"
#include "limits.h"
#include "timing.h"

/* One measurement. */
typedef struct bench_record {
    const bench_kernel *k;
    bench_shape shape;
    opk_backend backend;
    int threads;
    bench_stats st;
    bench_device_stats dev;      /* OpenCL: copies and kernels apart */
    double work;                 /* bytes or flops of one call */
    double rate, limit, percent; /* limit 0: none known */
    int fma_bound; /* a BENCH_BANDWIDTH kernel rated against the FMA peak */
} bench_record;

/* How the run was made (recorded in the JSON file). */
typedef struct bench_settings {
    double min_time;
    long max_reps;
    int quick;
} bench_settings;

/* The limits under the "limits: ..." line, with a note when all cores
 * measured below one thread (a busy machine). */
void bench_report_limits(const bench_machine *m, const bench_limits *lim);
void bench_report_header(void);
void bench_report_row(const bench_record *r);
/* Writes everything as JSON to f and closes f: opk version, CPU, cores,
 * limits (source "cached" or "measured"), settings, one record per
 * measurement. Returns 0, or -1 if writing failed. */
int bench_report_json(FILE *f, const bench_machine *m,
                      const bench_limits *lim, const char *source,
                      const bench_settings *set, const bench_record *rec,
                      int nrec);

#endif
