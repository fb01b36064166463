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

int main(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED, "mmap");
    mprotect(m + page, page, PROT_NONE);
    float *guard_end = (float *)(m + page);
    char msg[256];
    int ran = 0;
#ifdef OPK_TEST_AVX2
    if (opk_backend_available(OPK_BACKEND_AVX2)) {
        msg[0] = 0;
        int f = opk_vec_selftest_avx2(msg, sizeof msg, guard_end);
        CHECK(f == 0, "%d failures, first: %s", f, msg);
        ran++;
    }
#endif
#ifdef OPK_TEST_AVX512
    if (opk_backend_available(OPK_BACKEND_AVX512)) {
        msg[0] = 0;
        int f = opk_vec_selftest_avx512(msg, sizeof msg, guard_end);
        CHECK(f == 0, "%d failures, first: %s", f, msg);
        ran++;
    }
#endif
#ifdef OPK_TEST_NEON
    if (opk_backend_available(OPK_BACKEND_NEON)) {
        msg[0] = 0;
        int f = opk_vec_selftest_neon(msg, sizeof msg, guard_end);
        CHECK(f == 0, "%d failures, first: %s", f, msg);
        ran++;
    }
#endif
    (void)guard_end, (void)msg; /* a build with no SIMD backend */
    printf("ISAs tested: %d\n", ran);
    munmap(m, 2 * page);
    return check_summary("test_simd_vec");
}
