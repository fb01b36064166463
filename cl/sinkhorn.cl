/* Sinkhorn (SPEC 3.2) on a device: S stays in device memory (packed, row
 * pitch m) for the whole solve; the host drives the iteration and reads
 * back only the error scalar at check iterations.
 *
 * Rows (opk_sk_rows, opk_sk_plan): 16 work-items per row as in
 * opk_softmax_rows (lane l owns j = l mod 16, ascending: its private sum is
 * lane16's acc[l]; a row's lanes read 64 consecutive bytes per step),
 * OPK_SK_ROWS rows per work-group. Mode bits are kernel arguments, so every
 * branch on them is uniform across the work-group.
 * Columns (opk_sk_cols): a work-group per 32 columns; the exps of a tile
 * of rows in parallel, their sum in row order (seq) by one work-item per
 * column; neighbouring work-items read neighbouring addresses of a row.
 * The column maximum takes its own pass over the rows instead of being
 * gathered by the row pass as on the CPU: a cross-work-group float max would
 * need atomics, and max ignores order anyway. */

#define OPK_SK_ROWS 4 /* rows per work-group: 64 work-items */
#define OPK_SK_UPDATE 1
#define OPK_SK_CHECK 2

/* Row pass: CHECK r_i = lane16_j E(fl(fl(t_ij + f_i) + g_j)) with the
 * current f; UPDATE fnew_i = fl(la_i - LSE_j fl(t_ij + g_j)). */
__kernel __attribute__((reqd_work_group_size(16, OPK_SK_ROWS, 1))) void
opk_sk_rows(__global const float *S, uint n, uint m, float beta,
            __global const float *la, __global const float *f,
            __global float *fnew, __global const float *g, __global float *r,
            int mode, uint row0)
{
    __local float lsum[OPK_SK_ROWS][16];
    __local float lmax[OPK_SK_ROWS][16];
    const uint lane = get_local_id(0), rr = get_local_id(1);
    const uint i = get_global_id(1);
    const int live = i < n;
    /* S holds rows row0 .. row0 + n - 1 of the problem (one chunk). */
    la += row0, f += row0, fnew += row0, r += row0;
    /* Rows past the end take part in the barriers and touch nothing. */
    const uint len = live ? m : 0;
    __global const float *s = S + (ulong)(live ? i : 0) * m;

    if (mode & OPK_SK_CHECK) {
        const float fi = live ? f[i] : 0.0f;
        float acc = 0.0f;
        for (uint j = lane; j < len; j += 16)
            acc = acc + opk_E((beta * s[j] + fi) + g[j]);
        lsum[rr][lane] = acc;
        barrier(CLK_LOCAL_MEM_FENCE);
        const float ri = opk_fold16(lsum[rr]);
        if (live && lane == 0)
            r[i] = ri;
        barrier(CLK_LOCAL_MEM_FENCE); /* lsum is reused below */
    }
    if (mode & OPK_SK_UPDATE) {
        const float lai = live ? la[i] : -INFINITY;
        /* A zero mass gives -inf directly (never la - lse = NaN). */
        const uint len2 = lai == -INFINITY ? 0 : len;
        float M = -INFINITY;
        for (uint j = lane; j < len2; j += 16)
            M = opk_nmax(M, beta * s[j] + g[j]);
        lmax[rr][lane] = M;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint l = 0; l < 16; l++)
            M = opk_nmax(M, lmax[rr][l]);
        float acc = 0.0f;
        if (M != -INFINITY) /* uniform in the row */
            for (uint j = lane; j < len2; j += 16)
                acc = acc + opk_E((beta * s[j] + g[j]) - M);
        lsum[rr][lane] = acc;
        barrier(CLK_LOCAL_MEM_FENCE);
        const float sum = opk_fold16(lsum[rr]);
        if (live && lane == 0) {
            float lse = M == -INFINITY ? -INFINITY : M + opk_Lg(sum);
            fnew[i] = lai == -INFINITY ? -INFINITY : lai - lse;
        }
    }
}

/* The plan in place of S: P_ij = E(fl(fl(t_ij + f_i) + g_j)), and r_i as
 * CHECK does. Each element is read and written by one work-item. */
__kernel __attribute__((reqd_work_group_size(16, OPK_SK_ROWS, 1))) void
opk_sk_plan(__global float *S, uint n, uint m, float beta,
            __global const float *f, __global const float *g,
            __global float *r, uint row0)
{
    f += row0, r += row0;
    __local float lsum[OPK_SK_ROWS][16];
    const uint lane = get_local_id(0), rr = get_local_id(1);
    const uint i = get_global_id(1);
    const int live = i < n;
    const uint len = live ? m : 0;
    __global float *s = S + (ulong)(live ? i : 0) * m;
    const float fi = live ? f[i] : 0.0f;
    float acc = 0.0f;
    for (uint j = lane; j < len; j += 16) {
        const float e = opk_E((beta * s[j] + fi) + g[j]);
        acc = acc + e;
        s[j] = e;
    }
    lsum[rr][lane] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    const float ri = opk_fold16(lsum[rr]);
    if (live && lane == 0)
        r[i] = ri;
}

/* Column pass: g_j = fl(Lg(b_j) - LSE_i fl(t_ij + f_i)), seq over i.
 * A work-group takes OPK_SKC_COLS neighbouring columns with OPK_SKC_WORKERS
 * workers each. The maximum is order-free: worker w folds rows w, w+W, ...
 * and the workers' maxima are folded in local memory. The sum is not: the
 * workers compute the E terms of a tile of OPK_SKC_TILE rows into local
 * memory (the exps in parallel), then worker 0 adds them in row order (the
 * one sequential chain per column, all adds). Rows with f_i = -inf add +0,
 * which leaves the sum's bits as skipping them does (it starts at +0 and
 * adds E >= +0 or NaN), and never E(NaN) of a column whose M = -inf (its
 * sum is discarded); f_i is the same for a whole row, so the branch does
 * not diverge. Reads of a row are OPK_SKC_COLS consecutive floats. */
#define OPK_SKC_COLS 32
#define OPK_SKC_WORKERS 8
#define OPK_SKC_TILE 64
/* stage: 0 when S is one chunk; otherwise every chunk in turn with MAX
 * (FIRST on the first: cm = the running column maximum), then every chunk
 * with SUM (FIRST, LAST: cs carries the sum between chunks, the last one
 * writes g). */
#define OPK_SKC_MAX 1
#define OPK_SKC_SUM 2
#define OPK_SKC_FIRST 4
#define OPK_SKC_LAST 8
__kernel __attribute__((reqd_work_group_size(OPK_SKC_COLS, OPK_SKC_WORKERS,
                                             1))) void
opk_sk_cols(__global const float *S, uint n, uint m, float beta,
            __global const float *f, __global const float *lb,
            __global float *g, uint row0, __global float *cm,
            __global float *cs, int stage)
{
    __local float lmax[OPK_SKC_WORKERS][OPK_SKC_COLS];
    __local float tile[OPK_SKC_TILE][OPK_SKC_COLS];
    const uint lc = get_local_id(0), w = get_local_id(1);
    const uint c = get_global_id(0);
    /* Columns past the end take part in the barriers and read nothing. */
    const uint rows = c < m ? n : 0;
    __global const float *s = S + (c < m ? c : 0);
    f += row0;
    float M = -INFINITY;
    if (stage & OPK_SKC_SUM) {
        M = c < m ? cm[c] : 0.0f; /* the maximum over every chunk */
    } else {
        for (uint i = w; i < rows; i += OPK_SKC_WORKERS)
            M = opk_nmax(M, beta * s[(ulong)i * m] + f[i]);
        lmax[w][lc] = M;
        barrier(CLK_LOCAL_MEM_FENCE);
        M = lmax[0][lc];
        for (uint k = 1; k < OPK_SKC_WORKERS; k++)
            M = opk_nmax(M, lmax[k][lc]);
        if (stage & OPK_SKC_MAX) { /* fold into the chunks' maximum */
            if (w == 0 && c < m)
                cm[c] = (stage & OPK_SKC_FIRST) ? M : opk_nmax(cm[c], M);
            return; /* uniform: the whole group returns */
        }
    }
    /* The sum continues the previous chunks' (rows in order). */
    float sum = 0.0f;
    if ((stage & OPK_SKC_SUM) && !(stage & OPK_SKC_FIRST) && c < m)
        sum = cs[c];
    for (uint i0 = 0; i0 < n; i0 += OPK_SKC_TILE) {
        const uint len = min((uint)OPK_SKC_TILE, n - i0);
        for (uint r = w; r < len; r += OPK_SKC_WORKERS) {
            const uint i = i0 + r;
            const float fi = f[i];
            float e = 0.0f;
            if (i < rows && fi != -INFINITY)
                e = opk_E((beta * s[(ulong)i * m] + fi) - M);
            tile[r][lc] = e;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (w == 0)
            for (uint r = 0; r < len; r++)
                sum = sum + tile[r][lc];
        barrier(CLK_LOCAL_MEM_FENCE); /* the tile is rewritten next */
    }
    if (w == 0 && c < m && (stage & OPK_SKC_SUM) && !(stage & OPK_SKC_LAST)) {
        cs[c] = sum; /* carried into the next chunk */
    } else if (w == 0 && c < m) {
        const float lbc = lb[c];
        const float lse = M == -INFINITY ? -INFINITY : M + opk_Lg(sum);
        g[c] = lbc == -INFINITY ? -INFINITY : lbc - lse;
    }
}

/* err = seq_i |r_i - a_i| (a_i = 1 without masses): one work-item, O(n).
 * |x| clears the sign bit, as C's fabsf does, also of a NaN (PoCL's fabs
 * keeps a NaN's sign). */
__kernel void opk_sk_err(__global const float *r, __global const float *a,
                         uint n, int has_a, __global float *err)
{
    float e = 0.0f;
    for (uint i = 0; i < n; i++)
        e = e + as_float(as_uint(r[i] - (has_a ? a[i] : 1.0f)) & 0x7fffffffu);
    err[0] = e;
}
