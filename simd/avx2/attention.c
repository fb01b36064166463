/* Damped attention (SPEC 3.4) with AVX2: the ISA layer for the shared
 * kernels in simd/attention_fused.h (one key block = 8 vectors; lane16 in
 * two registers). */
#include <math.h>

#include "kernels.h"
#include "vec.h"

typedef __m256 VF;
#define VL 8
#define v_zero _mm256_setzero_ps
#define v_load _mm256_loadu_ps
#define v_store _mm256_storeu_ps
#define v_set1 _mm256_set1_ps
#define v_fma _mm256_fmadd_ps
#define v_mul _mm256_mul_ps
#define v_add _mm256_add_ps
#define v_sub _mm256_sub_ps
#define v_div _mm256_div_ps
#define v_E v8_E
#define v_load_n v8_load_n
#define v_store_n v8_store_n

static inline float block_max(const float *s, size_t n)
{
    v8_max a;
    v8_max_init(&a);
    size_t t = 0;
    for (; t + 8 <= n; t += 8)
        v8_max_add(&a, _mm256_loadu_ps(s + t));
    if (t < n)
        v8_max_add_n(&a, _mm256_loadu_ps(s + t), n - t);
    return v8_max_result(&a);
}

/* e is a 64-float buffer: the loads past n stay inside it. */
static inline float block_lane16(const float *e, size_t n)
{
    v8_lane16 a;
    v8_lane16_init(&a);
    size_t t = 0;
    for (; t + 16 <= n; t += 16)
        v8_lane16_add(&a, _mm256_loadu_ps(e + t), _mm256_loadu_ps(e + t + 8));
    if (t < n)
        v8_lane16_add_n(&a, _mm256_loadu_ps(e + t), _mm256_loadu_ps(e + t + 8),
                        n - t);
    return v8_lane16_result(&a);
}

/* 4 rows x 16 keys of S and 4 rows x 16 features of O in registers (with
 * the loaded K^T / V vectors and the broadcasts: 14 of 16 registers). */
#define ATTN_R 4
#define ATTN_C 2
#define ATTN_F 2
#define ATTN_NAME(x) x##_avx2
#include "../attention_fused.h"
