/* The per-key-block reductions of simd/attention_fused.h for an ISA whose
 * vt.h has the v_maxacc and v_lane16_add16u layer (x86; NEON has its own). */

static inline float block_max(const float *s, size_t n)
{
    v_maxacc a;
    v_maxacc_init(&a);
    size_t t = 0;
    for (; t + VL <= n; t += VL)
        v_maxacc_add(&a, v_load(s + t));
    if (t < n)
        v_maxacc_add_n(&a, v_load(s + t), n - t);
    return v_maxacc_result(&a);
}

/* e is a 64-float buffer: the loads past n stay inside it. */
static inline float block_lane16(const float *e, size_t n)
{
    v_lane16 a;
    v_lane16_init(&a);
    size_t t = 0;
    for (; t + 16 <= n; t += 16)
        v_lane16_add16u(&a, e + t);
    if (t < n)
        v_lane16_add16u_n(&a, e + t, n - t);
    return v_lane16_result(&a);
}
