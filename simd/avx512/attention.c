/* Damped attention (SPEC 3.4) with AVX-512: the ISA layer for the shared
 * kernels in simd/attention_fused.h (one key block = 4 vectors). */
#include <math.h>

#include "kernels.h"
#include "vec.h"

typedef __m512 VF;
#define VL 16
#define v_zero _mm512_setzero_ps
#define v_load _mm512_loadu_ps
#define v_store _mm512_storeu_ps
#define v_set1 _mm512_set1_ps
#define v_fma _mm512_fmadd_ps
#define v_mul _mm512_mul_ps
#define v_add _mm512_add_ps
#define v_sub _mm512_sub_ps
#define v_div _mm512_div_ps
#define v_E v16_E
#define v_load_n v16_load_n
#define v_store_n v16_store_n

static inline float block_max(const float *s, size_t n)
{
    v16_max a;
    v16_max_init(&a);
    size_t t = 0;
    for (; t + 16 <= n; t += 16)
        v16_max_add(&a, _mm512_loadu_ps(s + t));
    if (t < n)
        v16_max_add_n(&a, _mm512_loadu_ps(s + t), n - t);
    return v16_max_result(&a);
}

static inline float block_lane16(const float *e, size_t n)
{
    v16_lane16 a;
    v16_lane16_init(&a);
    size_t t = 0;
    for (; t + 16 <= n; t += 16)
        v16_lane16_add(&a, _mm512_loadu_ps(e + t));
    if (t < n)
        v16_lane16_add_n(&a, _mm512_loadu_ps(e + t), n - t);
    return v16_lane16_result(&a);
}

/* 4 rows x 64 keys of S and 4 rows x 64 features of O in registers. */
#define ATTN_R 4
#define ATTN_C 4
#define ATTN_F 4
#define ATTN_NAME(x) x##_avx512
#include "../attention_fused.h"
