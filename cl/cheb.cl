/* Chebyshev propagation (SPEC 3.3) on a device: one order of the fused
 * recurrence per launch. CSR, X, the two T blocks and Y stay on the device
 * across orders (packed, row pitch F); T_k overwrites T_{k-2} in place.
 *
 * One work-item per (row, feature), flattened row-major: the work-items of
 * a row walk its stored entries together (same trip count, no divergence
 * inside a row) and read F consecutive floats of V's row col_q at each step,
 * so neighbouring work-items read neighbouring addresses (coalesced for
 * F >= 16; for small F several rows share a memory transaction). p_if is
 * the fma chain in stored order; the finishing steps are SPEC 3.3's. */

/* w == 0 (k = 1): t = a, y = fma(c, t, fl(c0 * v_if));
 * else:           t = fl(fl(2 a) - w_if), y = fma(c, t, y_if).
 * store_t == 0: T_k is not stored (the last order). */
__kernel void opk_cheb_order(__global const long *row_ptr,
                             __global const int *col,
                             __global const float *val, ulong n, ulong F,
                             float alpha, float gamma,
                             __global const float *v, __global const float *w,
                             __global float *t, __global float *y, float c,
                             float c0, int has_w, int store_t)
{
    const ulong gid = get_global_id(0);
    if (gid >= n * F)
        return; /* no barriers */
    const ulong i = gid / F, f = gid - i * F;
    const long q0 = row_ptr[i], q1 = row_ptr[i + 1];
    float p = 0.0f;
    for (long q = q0; q < q1; q++)
        p = fma(val[q], v[(ulong)col[q] * F + f], p);
    const float vi = v[gid];
    const float a = fma(alpha, p, gamma * vi);
    float tk, yk;
    if (has_w) { /* uniform: a kernel argument */
        tk = 2.0f * a - w[gid];
        yk = fma(c, tk, y[gid]);
    } else {
        tk = a;
        yk = fma(c, tk, c0 * vi);
    }
    if (store_t)
        t[gid] = tk;
    y[gid] = yk;
}

/* K = 0: Y = fl(c0 * X). */
__kernel void opk_cheb_scale(__global const float *x, __global float *y,
                             ulong count, float c0)
{
    const ulong gid = get_global_id(0);
    if (gid < count)
        y[gid] = c0 * x[gid];
}
