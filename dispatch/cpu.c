/* CPU detection: CPUID leaves 1 and 7 plus XGETBV on x86-64 (the OS must
 * enable the YMM/ZMM state, not just the CPU support it), AT_HWCAP on
 * AArch64. Done once, thread-safely. */
#include "cpu.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "opk.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void)
{
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static void detect(opk_cpu *c)
{
    unsigned a, b, cx, d;
    c->arch = "x86_64";
    if ((unsigned)__get_cpuid_max(0x80000000u, NULL) >= 0x80000004u) { /* int in clang */
        unsigned w[12];
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &w[4 * i], &w[4 * i + 1],
                        &w[4 * i + 2], &w[4 * i + 3]);
        memcpy(c->model, w, 48);
        c->model[48] = 0;
    }
    if (!__get_cpuid(1, &a, &b, &cx, &d))
        return;
    int osxsave = (cx >> 27) & 1;
    int cpu_avx = (cx >> 28) & 1, cpu_fma = (cx >> 12) & 1;
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    c->os_ymm = (xcr0 & 0x6) == 0x6;         /* XMM and YMM state */
    c->os_zmm = c->os_ymm && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM hi */
    c->avx = cpu_avx && c->os_ymm;
    c->fma = cpu_fma && c->avx;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, cx, d);
        c->avx2 = ((b >> 5) & 1) && c->avx;
        int zmm = c->os_zmm;
        c->avx512f = ((b >> 16) & 1) && zmm;
        c->avx512dq = ((b >> 17) & 1) && zmm;
        c->avx512bw = ((b >> 30) & 1) && zmm;
        c->avx512vl = ((b >> 31) & 1) && zmm;
    }
}
#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif

static void detect(opk_cpu *c)
{
    c->arch = "aarch64";
    c->asimd = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "CPU part", 8) || !strncmp(line, "model name", 10)) {
            char *v = strchr(line, ':');
            if (v) {
                snprintf(c->model, sizeof c->model, "%s", v + 2);
                c->model[strcspn(c->model, "\n")] = 0;
                break;
            }
        }
    }
    if (f)
        fclose(f);
}
#else
static void detect(opk_cpu *c) { c->arch = "unknown"; }
#endif

static opk_cpu cpu;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
    detect(&cpu);
    /* Trim the padding some vendors put around the brand string. */
    char *m = cpu.model;
    while (*m == ' ')
        m++;
    memmove(cpu.model, m, strlen(m) + 1);
    size_t n = strlen(cpu.model);
    while (n && cpu.model[n - 1] == ' ')
        cpu.model[--n] = 0;
    if (!cpu.model[0])
        strcpy(cpu.model, "unknown");
}

const opk_cpu *opk_cpu_get(void)
{
    pthread_once(&once, init);
    return &cpu;
}

void opk_cpu_describe(opk_cpu_info *info)
{
    const opk_cpu *c = opk_cpu_get();
    _Static_assert(sizeof info->model == sizeof c->model, "model size");
    memcpy(info->model, c->model, sizeof info->model);
    snprintf(info->arch, sizeof info->arch, "%s", c->arch);
    const struct {
        int on;
        const char *name;
    } f[] = {{c->fma, "fma"},           {c->avx, "avx"},
             {c->avx2, "avx2"},         {c->avx512f, "avx512f"},
             {c->avx512bw, "avx512bw"}, {c->avx512dq, "avx512dq"},
             {c->avx512vl, "avx512vl"}, {c->asimd, "asimd"}};
    info->features[0] = 0;
    size_t used = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].on && used < sizeof info->features)
            used += (size_t)snprintf(info->features + used,
                                     sizeof info->features - used, "%s%s",
                                     used ? " " : "", f[i].name);
}
