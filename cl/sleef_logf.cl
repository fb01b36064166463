/* Lg(x) (SPEC 1): SLEEF 3.5.1's logf with 1-ULP bound as built for
 * Sleef_finz_logf1_u10purecfma (sleefsimdsp.c xlogf_u1, the non-AVX-512
 * path, with df.h's double-float helpers in their FMA forms), written out
 * operation by operation. Checked bit for bit against SLEEF by
 * tests/test_cl_math.c. A double-float value is a pair (x, y), x + y. */

/* x + y as a double-float, any magnitudes (df.h dfadd2_vf2_vf_vf). */
static inline float2 opk_df_add2(float x, float y)
{
    float s = x + y;
    float v = s - x;
    return (float2)(s, (x - (s - v)) + (y - v));
}

/* n / d (df.h dfdiv_vf2_vf2_vf2, FMA form). */
static inline float2 opk_df_div(float2 n, float2 d)
{
    float t = 1.0f / d.x; /* correctly rounded (build option) */
    float s = n.x * t;
    float u = fma(t, n.x, -s);
    float v = fma(-d.y, t, fma(-d.x, t, 1.0f));
    return (float2)(s, fma(s, v, fma(n.y, t, u)));
}

static inline float opk_Lg(float d)
{
    /* Subnormals: scale by 2^64 first and take 64 off the exponent. */
    int o = d < 0x1p-126f;
    d = o ? d * 0x1p+64f : d;
    /* e = ilogb(d * 4/3) from the exponent bits; m = d / 2^e in [0.75, 1.5). */
    int e = (int)((as_uint(d * 0x1.555556p+0f) >> 23) & 0xffu) - 0x7f;
    float m = as_float(as_uint(d) + ((uint)(-e) << 23));
    e = o ? e - 64 : e;
    /* s = e * ln 2 as a double-float (dfmul_vf2_vf2_vf). */
    float ef = (float)e;
    float sx = 0x1.62e43p-1f * ef;
    float sy = fma(-0x1.05c61p-29f, ef, fma(0x1.62e43p-1f, ef, -sx));
    /* x = (m - 1) / (m + 1); log m = 2 atanh x. */
    float2 x = opk_df_div(opk_df_add2(-1.0f, m), opk_df_add2(1.0f, m));
    float x2 = x.x * x.x;
    float t = 0x1.35feb8p-2f;
    t = fma(t, x2, 0x1.993394p-2f);
    t = fma(t, x2, 0x1.5555b4p-1f);
    /* s += 2x (dfadd_vf2_vf2_vf2 with dfscale) */
    float2 x2x = (float2)(x.x * 2.0f, x.y * 2.0f);
    float s1 = sx + x2x.x;
    float s1y = (((sx - s1) + x2x.x) + sy) + x2x.y;
    /* s += x^3 t (dfadd_vf2_vf2_vf) */
    float w = (x2 * x.x) * t;
    float s2 = s1 + w;
    float s2y = ((s1 - s2) + w) + s1y;
    float r = s2 + s2y;
    r = d == INFINITY ? INFINITY : r;
    r = (d < 0.0f || isnan(d)) ? NAN : r;
    r = d == 0.0f ? -INFINITY : r;
    return r;
}
