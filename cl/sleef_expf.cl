/* E(x) (SPEC 1): SLEEF 3.5.1's expf with 1-ULP bound as built for
 * Sleef_finz_expf1_u10purecfma (sleefsimdsp.c xexpf with the pure-C scalar
 * helpers, FMA available), written out operation by operation so that every
 * device with IEEE binary32, fma and denormals returns the same bits.
 * Checked bit for bit against SLEEF by tests/test_cl_math.c. */

/* 2^q as a float, for q + 127 in [1, 254]. */
static inline float opk_pow2i(int q)
{
    return as_float((uint)(q + 0x7f) << 23);
}

/* d * 2^e in two steps, so that e may reach about +-252 (SLEEF ldexp2). */
static inline float opk_ldexp2(float d, int e)
{
    return (d * opk_pow2i(e >> 1)) * opk_pow2i(e - (e >> 1));
}

static inline float opk_E(float d)
{
    /* q = round-to-nearest-even(d / ln 2). For |d| beyond the range
     * below, q is clamped (SLEEF's conversion gives INT_MIN there) and the
     * result is replaced at the end, so the clamp never shows. */
    int q = convert_int_sat(rint(d * 0x1.715476p+0f));
    float qf = (float)q;
    /* s = d - q ln 2, with ln 2 split in L2U + L2L. */
    float s = fma(qf, -0x1.62e4p-1f, d);
    s = fma(qf, -0x1.7f7d1cp-20f, s);
    float u = 0x1.a057b4p-13f;
    u = fma(u, s, 0x1.6d2d92p-10f);
    u = fma(u, s, 0x1.11114cp-7f);
    u = fma(u, s, 0x1.5554f4p-5f);
    u = fma(u, s, 0x1.555556p-3f);
    u = fma(u, s, 0x1p-1f);
    u = 1.0f + fma(s * s, u, s);
    u = opk_ldexp2(u, q);
    u = d < -104.0f ? 0.0f : u; /* SLEEF clears the bits: +0 */
    u = 100.0f < d ? INFINITY : u;
    return u;
}
