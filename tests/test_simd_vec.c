/* The helpers every AVX2 / AVX-512 / NEON kernel builds on (simd/<isa>/vec.h):
 * lane16 accumulation and its 8-4-2-1 fold bit-identical to the scalar
 * form (masked final chunks, -0 kept), the NaN-propagating max, E/Lg/Sq
 * equal to the scalar SLEEF functions, masked loads/stores that neither
 * fault at a page end nor touch other lanes. Each ISA runs where usable. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "opk.h"
#include "simd/vec_selftest.h"

/* Runs one ISA's self-test where that backend is usable; 1 if it ran. */
static __attribute__((unused)) int run(opk_backend b,
                                       int (*test)(char *, size_t, float *),
                                       float *guard_end)
{
    if (!opk_backend_available(b))
        return 0;
    char msg[256] = "";
    int f = test(msg, sizeof msg, guard_end);
    CHECK(f == 0, "%s: %d failures, first: %s", opk_backend_name(b), f, msg);
    return 1;
}

int main(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED, "mmap");
    mprotect(m + page, page, PROT_NONE);
    float *guard_end = (float *)(m + page);
    int ran = 0;
#ifdef OPK_TEST_AVX2
    ran += run(OPK_BACKEND_AVX2, opk_vec_selftest_avx2, guard_end);
#endif
#ifdef OPK_TEST_AVX512
    ran += run(OPK_BACKEND_AVX512, opk_vec_selftest_avx512, guard_end);
#endif
#ifdef OPK_TEST_NEON
    ran += run(OPK_BACKEND_NEON, opk_vec_selftest_neon, guard_end);
#endif
    (void)guard_end; /* a build with no SIMD backend */
    printf("ISAs tested: %d\n", ran);
    munmap(m, 2 * page);
    return check_summary("test_simd_vec");
}
