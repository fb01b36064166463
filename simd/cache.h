/* Cache-size decisions shared by the SIMD kernels of every ISA (no
 * intrinsics here). */
#ifndef OPK_SIMD_CACHE_H
#define OPK_SIMD_CACHE_H

#include <stdatomic.h>
#include <stdio.h>
#include <stddef.h>

/* Reads one unsigned number (with an optional K/M suffix) from a file. */
static inline size_t opk_read_size(const char *path)
{
    FILE *f = fopen(path, "r");
    unsigned long v = 0;
    char unit = 0;
    int got = f ? fscanf(f, "%lu%c", &v, &unit) : 0;
    if (f)
        fclose(f);
    if (got < 1)
        return 0;
    return unit == 'K' ? v << 10 : unit == 'M' ? v << 20 : v;
}

/* Size in bytes of CPU 0's data or unified cache of `level`, or `dflt`.
 * sysfs rather than sysconf: glibc's CPUID-derived figure can be far off in
 * a VM (320 MiB of L3 where the guest really has 32 MiB). */
static inline size_t opk_cache_bytes_sysfs(int level, size_t dflt)
{
    const char *dir = "/sys/devices/system/cpu/cpu0/cache";
    char path[96];
    for (int idx = 0; idx < 8; idx++) {
        snprintf(path, sizeof path, "%s/index%d/level", dir, idx);
        if (opk_read_size(path) != (size_t)level)
            continue;
        snprintf(path, sizeof path, "%s/index%d/type", dir, idx);
        FILE *f = fopen(path, "r");
        int c = f ? fgetc(f) : 0;
        if (f)
            fclose(f);
        if (c == 'I') /* Instruction */
            continue;
        snprintf(path, sizeof path, "%s/index%d/size", dir, idx);
        size_t v = opk_read_size(path);
        return v ? v : dflt;
    }
    return dflt;
}

/* Bytes of the last-level cache (L3; 32 MiB when unknown), read once. */
static inline size_t opk_llc_bytes(void)
{
    static _Atomic size_t cached;
    size_t v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!v) {
        v = opk_cache_bytes_sysfs(3, (size_t)32 << 20);
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

/* Bytes of one core's L2 (L2; 1 MiB when unknown), read once. */
static inline size_t opk_l2_bytes(void)
{
    static _Atomic size_t cached;
    size_t v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!v) {
        v = opk_cache_bytes_sysfs(2, (size_t)1 << 20);
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

/* Whether an output of `bytes`, written once, should bypass the caches
 * (streaming stores, no read-for-ownership): only when it cannot stay in
 * the last-level cache anyway, so small outputs remain cached for their
 * consumer. */
static inline int opk_stream_worthwhile(size_t bytes)
{
    return bytes >= opk_llc_bytes();
}

#endif
