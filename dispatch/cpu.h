/* CPU feature detection, done once (thread-safe) on first use. */
#ifndef OPK_CPU_H
#define OPK_CPU_H

typedef struct opk_cpu {
    char model[64];
    const char *arch; /* "x86_64", "aarch64", ... */
    /* x86-64: each flag requires the CPUID bit and, for AVX/AVX-512, the OS
     * enabling the register state (XGETBV). */
    int fma, avx, avx2, avx512f, avx512bw, avx512dq, avx512vl;
    int os_ymm, os_zmm;
    int asimd; /* AArch64 Advanced SIMD (getauxval(AT_HWCAP)) */
} opk_cpu;

const opk_cpu *opk_cpu_get(void);

#endif
