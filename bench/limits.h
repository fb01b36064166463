/* This machine's limits, the yardsticks `opk bench` reports against: memory
 * bandwidth (a STREAM-triad-like loop) and FP32 FMA peak per usable ISA.
 * Measured once and cached per machine (CPU model + cores + opk version). */
#ifndef OPK_BENCH_LIMITS_H
#define OPK_BENCH_LIMITS_H

#include <stddef.h>

#include "opk.h"

/* Default triad footprint (3 arrays together), far above any cache. */
#define BENCH_TRIAD_MIB_DEFAULT 256

typedef struct bench_limits {
    int cores;            /* online cores = threads used for "all threads" */
    int triad_mib;        /* footprint the bandwidth was measured with */
    double bw_gbs;        /* triad, all threads, 3 x 4 bytes per element */
    double bw1_gbs;       /* triad, one thread */
    /* FMA peak in GFLOP/s (2 flops per fma) per backend's ISA, with one
     * thread and with all cores; 0 where the backend is not usable. */
    double fma1_gflops[OPK_BACKEND_COUNT];
    double fman_gflops[OPK_BACKEND_COUNT];
} bench_limits;

/* 1 if backend b's ISA has a peak loop in this build and b is usable here
 * (the cache must then hold its peak). */
int bench_limits_has_peak(opk_backend b);

/* Identity of this machine for the cache: CPU model, cores, version. */
typedef struct bench_machine {
    char model[64];
    int cores;
    char version[32];
} bench_machine;

void bench_machine_get(bench_machine *m);

/* Measures everything (triad over triad_mib MiB, peaks of usable ISAs). */
void bench_limits_measure(const bench_machine *m, int triad_mib,
                          bench_limits *lim);

/* The bandwidth kernels are compared to: the better of the all-cores and
 * the 1-thread triad (on a busy machine all cores can do worse than one). */
double bench_limits_bw(const bench_limits *lim);
/* FMA peak that `threads` threads can reach with backend b: the 1-thread
 * peak times threads, capped by the better of the all-cores and 1-thread
 * peaks. */
double bench_limits_fma(const bench_limits *lim, opk_backend b, int threads);

/* Cache file for this machine and triad footprint under
 * $XDG_CACHE_HOME/opk/ (else $HOME/.cache/opk/); a footprint other than
 * the default has a file of its own. Returns 0, or -1 when neither
 * variable gives an absolute directory. */
int bench_cache_path(const bench_machine *m, int triad_mib, char *path,
                     size_t n);

/* Serializes limits as the cache file's text; returns the length written
 * (truncated output is an error: -1). */
int bench_limits_format(const bench_machine *m, const bench_limits *lim,
                        char *buf, size_t n);
/* Parses a cache file's text. Returns 0 if it is complete and matches this
 * machine, triad size and the usable backends; else -1 with the reason. */
int bench_limits_parse(const char *text, const bench_machine *m,
                       int triad_mib, bench_limits *lim, char *why,
                       size_t nwhy);

/* Loads the cache (0) or returns -1 with why (missing, corrupt, stale). */
int bench_limits_load(const char *path, const bench_machine *m, int triad_mib,
                      bench_limits *lim, char *why, size_t nwhy);
/* Writes the cache atomically (temp file + rename); -1 with why on error. */
int bench_limits_save(const char *path, const bench_machine *m,
                      const bench_limits *lim, char *why, size_t nwhy);

/* ISA peak loops, each in its own translation unit with its ISA's flags.
 * Each runs `iters` iterations of BENCH_FMA_CHAINS independent fma chains
 * per thread and returns the number of fmas per thread per iteration. */
#define BENCH_FMA_CHAINS 12
int bench_peak_scalar(long iters, float *sink);
#ifdef OPK_BENCH_AVX2
int bench_peak_avx2(long iters, float *sink);
#endif
#ifdef OPK_BENCH_AVX512
int bench_peak_avx512(long iters, float *sink);
#endif

#endif
