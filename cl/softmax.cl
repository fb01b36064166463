/* Softmax (SPEC 3.1) in place on a packed buffer y (row pitch ld = cols):
 * the host uploads X into y, runs one of these, and reads Y back.
 *
 * Rows: 16 work-items per row (dimension 0), OPK_SM_ROWS rows per
 * work-group (dimension 1). Work-item `lane` owns the elements j = lane
 * (mod 16) in ascending order, so its private accumulator is exactly
 * acc[lane] of lane16, and the 16 lanes of a row read 64 consecutive bytes
 * at each step (coalesced). The max and the lane sums meet in local memory;
 * every lane then folds the 16 sums 8-4-2-1 itself (same bits in every
 * lane, no second barrier).
 *
 * Columns: one work-item per column walking the rows in order (seq), so
 * neighbouring work-items read neighbouring addresses of each row.
 *
 * The passes mirror the scalar reference (kernels/softmax.c): max and
 * NaN/+inf flag; e = E(t - m) summed (and stored, for softmax); then
 * y = e * (1/s), or (t - m) - Lg(s) for log-softmax. Each element is read
 * and written by one work-item only, so working in place needs no barrier. */

#define OPK_SM_ROWS 4 /* rows per work-group: 64 work-items */

static inline int opk_sm_class(float m, int bad)
{
    return bad ? OPK_HAS_NAN : (m == -INFINITY ? OPK_ALL_NEG_INF : OPK_REGULAR);
}

static inline float opk_sm_special(int cls, int log)
{
    return cls == OPK_HAS_NAN ? NAN : (log ? -INFINITY : 0.0f);
}

__kernel __attribute__((reqd_work_group_size(16, OPK_SM_ROWS, 1))) void
opk_softmax_rows(__global float *y, uint rows, uint cols, ulong ld,
                 float beta, int log)
{
    __local float lmax[OPK_SM_ROWS][16];
    __local float lsum[OPK_SM_ROWS][16];
    __local int lbad[OPK_SM_ROWS][16];
    const uint lane = get_local_id(0), r = get_local_id(1);
    const uint row = get_global_id(1);
    /* Rows past the end take part in the barriers and touch nothing. */
    const uint n = row < rows ? cols : 0;
    __global float *p = y + (ulong)(row < rows ? row : 0) * ld;

    float m = -INFINITY;
    int bad = 0;
    for (uint j = lane; j < n; j += 16) {
        float t = beta * p[j];
        bad |= !(t < INFINITY); /* NaN or +inf */
        m = t > m ? t : m;
    }
    lmax[r][lane] = m;
    lbad[r][lane] = bad;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint l = 0; l < 16; l++) { /* max ignores order (SPEC 1) */
        float v = lmax[r][l];
        m = v > m ? v : m;
        bad |= lbad[r][l];
    }
    const int cls = opk_sm_class(m, bad);

    float acc = 0.0f;
    if (cls == OPK_REGULAR)
        for (uint j = lane; j < n; j += 16) {
            float e = opk_E(beta * p[j] - m);
            acc = acc + e;
            if (!log)
                p[j] = e;
        }
    lsum[r][lane] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    float a[16];
    for (uint l = 0; l < 16; l++)
        a[l] = lsum[r][l];
    for (uint w = 8; w >= 1; w >>= 1)
        for (uint l = 0; l < w; l++)
            a[l] = a[l] + a[l + w];
    const float s = a[0];

    if (cls != OPK_REGULAR) {
        const float v = opk_sm_special(cls, log);
        for (uint j = lane; j < n; j += 16)
            p[j] = v;
    } else if (log) {
        const float ls = opk_Lg(s);
        for (uint j = lane; j < n; j += 16)
            p[j] = (beta * p[j] - m) - ls;
    } else {
        const float rs = 1.0f / s;
        for (uint j = lane; j < n; j += 16)
            p[j] = p[j] * rs;
    }
}

__kernel void opk_softmax_cols(__global float *y, uint rows, uint cols,
                               ulong ld, float beta, int log)
{
    const uint c = get_global_id(0);
    if (c >= cols)
        return; /* no barriers below */
    __global float *p = y + c;

    float m = -INFINITY;
    int bad = 0;
    for (uint i = 0; i < rows; i++) {
        float t = beta * p[i * ld];
        bad |= !(t < INFINITY);
        m = t > m ? t : m;
    }
    const int cls = opk_sm_class(m, bad);
    if (cls != OPK_REGULAR) {
        const float v = opk_sm_special(cls, log);
        for (uint i = 0; i < rows; i++)
            p[i * ld] = v;
        return;
    }
    float s = 0.0f;
    for (uint i = 0; i < rows; i++) { /* seq: rows ascending */
        float e = opk_E(beta * p[i * ld] - m);
        s = s + e;
        if (!log)
            p[i * ld] = e;
    }
    if (log) {
        const float ls = opk_Lg(s);
        for (uint i = 0; i < rows; i++)
            p[i * ld] = (beta * p[i * ld] - m) - ls;
    } else {
        const float rs = 1.0f / s;
        for (uint i = 0; i < rows; i++)
            p[i * ld] = p[i * ld] * rs;
    }
}
