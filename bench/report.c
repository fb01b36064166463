/* The results of `opk bench`: the limits summary, the table, the JSON
 * file (see report.h). */
#include "report.h"

#include <stdio.h>

#include "json.h"

void bench_report_limits(const bench_machine *m, const bench_limits *lim)
{
    printf("  memory bandwidth (triad, %d MiB): %.1f GB/s with %d threads, "
           "%.1f GB/s with 1\n",
           lim->triad_mib, lim->bw_gbs, lim->cores, lim->bw1_gbs);
    for (int b = 1; b < OPK_BACKEND_COUNT; b++)
        if (lim->fma1_gflops[b] > 0)
            printf("  FMA peak %-7s %.1f GFLOP/s with 1 thread, %.1f with "
                   "%d\n",
                   opk_backend_name((opk_backend)b), lim->fma1_gflops[b],
                   lim->fman_gflops[b], m->cores);
    int busy = lim->cores > 1 && lim->bw_gbs < lim->bw1_gbs;
    for (int b = 1; b < OPK_BACKEND_COUNT; b++)
        busy |= lim->cores > 1 && lim->fman_gflops[b] < lim->fma1_gflops[b];
    if (busy)
        printf("  note: all cores measured below one thread: the machine was "
               "busy; the better figure is used (--remeasure when idle)\n");
}

static const char *unit_of(const bench_kernel *k)
{
    return k->limit == BENCH_BANDWIDTH ? "GB/s" : "GFLOP/s";
}

static void shape_label(const bench_record *r, char *buf, size_t n)
{
    char dims[64];
    bench_shape_text(r->k, &r->shape, dims, sizeof dims);
    snprintf(buf, n, "%s%s%s", r->shape.variant, r->shape.variant[0] ? " " : "",
             dims);
}

void bench_report_header(void)
{
    printf("\n%-16s %-24s %-8s %7s %5s %10s %10s %14s %12s  %s\n", "kernel",
           "shape", "backend", "threads", "reps", "median ms", "min ms",
           "rate", "% of limit", "device ms in/kernel/out");
}

void bench_report_row(const bench_record *r)
{
    char shape[96], rate[32], pct[32], dev[64] = "-";
    shape_label(r, shape, sizeof shape);
    snprintf(rate, sizeof rate, "%.2f %s", r->rate, unit_of(r->k));
    if (r->limit > 0)
        snprintf(pct, sizeof pct, "%.1f%% %s", r->percent,
                 r->k->limit == BENCH_BANDWIDTH && !r->fma_bound ? "bw"
                                                                 : "fma");
    else
        snprintf(pct, sizeof pct, "-");
    if (r->dev.valid)
        snprintf(dev, sizeof dev, "%.3f/%.3f/%.3f", r->dev.write_s * 1e3,
                 r->dev.kernel_s * 1e3, r->dev.read_s * 1e3);
    printf("%-16s %-24s %-8s %7d %5d %10.3f %10.3f %14s %12s  %s\n",
           r->k->name, shape, opk_backend_name(r->backend), r->threads,
           r->st.reps, r->st.median_s * 1e3, r->st.min_s * 1e3, rate, pct,
           dev);
    fflush(stdout);
}

int bench_report_json(FILE *f, const bench_machine *m,
                      const bench_limits *lim, const char *source,
                      const bench_settings *set, const bench_record *rec,
                      int nrec)
{
    bench_json j;
    bj_init(&j, f);
    bj_object(&j, NULL);
    bj_string(&j, "opk_version", m->version);
    bj_string(&j, "cpu", m->model);
    bj_int(&j, "cores", m->cores);
    bj_object(&j, "limits");
    bj_string(&j, "source", source);
    bj_int(&j, "triad_mib", lim->triad_mib);
    bj_number(&j, "bandwidth_gbs", lim->bw_gbs);
    bj_number(&j, "bandwidth_1t_gbs", lim->bw1_gbs);
    bj_number(&j, "bandwidth_limit_gbs", bench_limits_bw(lim));
    bj_object(&j, "fma_peak_gflops");
    for (int b = 1; b < OPK_BACKEND_COUNT; b++)
        if (lim->fma1_gflops[b] > 0) {
            bj_object(&j, opk_backend_name((opk_backend)b));
            bj_number(&j, "threads_1", lim->fma1_gflops[b]);
            bj_number(&j, "threads_all", lim->fman_gflops[b]);
            bj_end(&j);
        }
    bj_end(&j);
    bj_end(&j);
    bj_object(&j, "settings");
    bj_number(&j, "min_time_s", set->min_time);
    bj_int(&j, "max_reps", set->max_reps);
    bj_bool(&j, "quick", set->quick);
    bj_end(&j);
    bj_array(&j, "records");
    for (int i = 0; i < nrec; i++) {
        const bench_record *r = &rec[i];
        char dims[64];
        bench_shape_text(r->k, &r->shape, dims, sizeof dims);
        bj_object(&j, NULL);
        bj_string(&j, "kernel", r->k->name);
        bj_string(&j, "variant", r->shape.variant);
        bj_string(&j, "shape", dims);
        bj_array(&j, "dims");
        for (int d = 0; d < r->k->ndims; d++)
            bj_int(&j, NULL, (long long)r->shape.dims[d]);
        bj_end(&j);
        bj_string(&j, "backend", opk_backend_name(r->backend));
        bj_int(&j, "threads", r->threads);
        bj_int(&j, "reps", r->st.reps);
        bj_number(&j, "median_ms", r->st.median_s * 1e3);
        bj_number(&j, "min_ms", r->st.min_s * 1e3);
        bj_string(&j, "unit", unit_of(r->k));
        bj_number(&j, "rate", r->rate);
        bj_number(&j, "work_per_call", r->work);
        bj_string(&j, "limit",
                  r->k->limit == BENCH_BANDWIDTH && !r->fma_bound
                      ? "bandwidth"
                      : "fma_peak");
        bj_number(&j, "limit_value", r->limit);
        bj_number(&j, "percent_of_limit", r->limit > 0 ? r->percent : 0.0);
        if (r->dev.valid) {
            bj_object(&j, "device_ms");
            bj_number(&j, "host_to_device", r->dev.write_s * 1e3);
            bj_number(&j, "kernels", r->dev.kernel_s * 1e3);
            bj_number(&j, "device_to_host", r->dev.read_s * 1e3);
            bj_end(&j);
        }
        bj_end(&j);
    }
    bj_end(&j);
    bj_end(&j);
    int bad = bj_finish(&j) || ferror(f);
    return (fclose(f) || bad) ? -1 : 0;
}
