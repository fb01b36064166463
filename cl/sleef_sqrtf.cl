/* Sq(x) (SPEC 1): SLEEF 3.5.1's sqrtf with 0.5-ULP bound as built for
 * Sleef_finz_sqrtf1_u05purecfma (sleefsimdsp.c xsqrtf_u05, the FMA path),
 * written out operation by operation. It is not the IEEE square root on
 * every input (0x4f5ae03b gives 0x476cb616, IEEE 0x476cb617), so the
 * device's sqrt cannot stand in for it. Checked bit for bit against SLEEF
 * by tests/test_cl_math.c. */
static inline float opk_Sq(float d)
{
    d = d < 0.0f ? NAN : d;
    /* Tiny arguments: scale by 2^74 first, the result back by 2^-37. */
    int o = d < 0x1p-74f;
    d = o ? d * 0x1p+74f : d;
    float q = o ? 0x1p-37f : 1.0f;
    /* An estimate of 1 / sqrt(d) from the exponent bits, then Newton steps
     * on x ~ sqrt(d) and w ~ 1 / (2 sqrt(d)) together. */
    float y = as_float(0x5f3759dfu - (as_uint(d) >> 1));
    float x = d * y, w = 0.5f * y;
    y = fma(-x, w, 0.5f);
    x = fma(x, y, x);
    w = fma(w, y, w);
    y = fma(-x, w, 0.5f);
    x = fma(x, y, x);
    w = fma(w, y, w);
    y = fma(-x, w, 1.5f);
    w = w + w;
    w = w * y;
    x = w * d;
    y = fma(w, d, -x);
    float z = fma(-w, x, 1.0f);
    z = fma(-w, y, z);
    w = 0.5f * x;
    w = fma(w, z, y);
    w = w + x;
    w = w * q;
    w = (d == 0.0f || d == INFINITY) ? d : w;
    return d < 0.0f ? NAN : w;
}
