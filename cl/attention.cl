/* Damped attention (SPEC 3.4) on a device. Q, K, V, H, G and O are packed
 * device buffers (row pitch d or dv); the host (cl/attention_host.c) runs
 * one of three flows:
 *
 * softmax / sigmoid: opk_at_fused. A work-group of OPK_AT_B = 64 work-items
 * owns a tile of OPK_AT_R query rows. Per key block of 64: the block's K is
 * staged in local memory OPK_AT_CK features at a time (transposed, so that
 * work-item t reads kb[c][t]: consecutive banks), with the tile's Q chunk;
 * work-item t keeps the R fma chains S_rt = dot(q_r, k_t) in registers.
 * The block max of each row is folded by 8 work-items (max ignores order),
 * then work-item r < R takes row r's new maximum; all 64 work-items do the
 * exponentials of their key for every row and two lanes of lane16 each
 * (the 16 lanes of the 8 rows), work-item r folds row r's lanes and
 * updates l, and every work-item the o update of its features (each
 * holds OPK_AT_FC features of the R rows in registers; V staged 64 x 64 in
 * local memory, read coalesced). The launch covers OPK_AT_FC * 64 features;
 * wider V takes more launches, which recompute the scores (bits unchanged).
 *
 * sinkhorn: opk_at_scores materializes S (n x m, tiled as above), the
 * Sinkhorn kernels of cl/sinkhorn.cl run the half-steps and the plan, and
 * opk_at_pv does B = P V (one work-item per output element: P broadcast,
 * V coalesced).
 *
 * linear: opk_at_rowdots (norms), opk_at_seqsum (the global norm's sum),
 * opk_at_kv (KV, ks, vs: one work-item per entry, keys in order) and
 * opk_at_linear (one work-item per output element).
 *
 * Every sum and fma chain runs in SPEC 3.4's order, so the bits are the
 * scalar reference's (kernels/attention.c). */

#define OPK_AT_B 64  /* keys per block = work-items per group */
#define OPK_AT_R 8   /* query rows per work-group */
#define OPK_AT_CK 32 /* K features staged per step */
#define OPK_AT_FC 4  /* o features per work-item: 256 per launch */
#if OPK_AT_B != 64 || OPK_AT_R != 8
#error "opk_at_fused's max and lane16 split assumes 64 keys and 8 rows"
#endif

/* The mixing of SPEC 3.4 for one element. */
static inline float opk_at_mix(float b, float h, float g, int has_g,
                               float tau, float a1, float a2, float a3)
{
    const float base = a1 * h;
    return has_g ? fma(a3, g, fma(a2, b, base)) : fma(tau, b, base);
}

/* acc[r] = dot(q_{i0+r}, k_{j0+lid}), fma chains over the features in
 * ascending order. Every work-item of the group calls it (barriers); rows
 * and keys past the end read zeros and are never used. */
static void opk_at_dots(__global const float *Q, __global const float *K,
                        uint n, uint m, uint d, uint i0, uint j0,
                        __local float *kb, __local float *qs, float *acc)
{
    const uint lid = get_local_id(0);
    for (uint r = 0; r < OPK_AT_R; r++)
        acc[r] = 0.0f;
    for (uint c0 = 0; c0 < d; c0 += OPK_AT_CK) {
        const uint cn = min((uint)OPK_AT_CK, d - c0);
        barrier(CLK_LOCAL_MEM_FENCE); /* the last readers of kb, qs, ... */
        for (uint e = lid; e < OPK_AT_B * OPK_AT_CK; e += OPK_AT_B) {
            const uint t = e / OPK_AT_CK, c = e % OPK_AT_CK;
            kb[c * (OPK_AT_B + 1) + t] =
                c < cn && j0 + t < m ? K[(ulong)(j0 + t) * d + c0 + c] : 0.0f;
        }
        for (uint e = lid; e < OPK_AT_R * OPK_AT_CK; e += OPK_AT_B) {
            const uint r = e / OPK_AT_CK, c = e % OPK_AT_CK;
            qs[e] = c < cn && i0 + r < n ? Q[(ulong)(i0 + r) * d + c0 + c]
                                         : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint c = 0; c < cn; c++) { /* only real features: the chain */
            const float k = kb[c * (OPK_AT_B + 1) + lid];
            for (uint r = 0; r < OPK_AT_R; r++)
                acc[r] = fma(qs[r * OPK_AT_CK + c], k, acc[r]);
        }
    }
}

__kernel __attribute__((reqd_work_group_size(OPK_AT_B, 1, 1))) void
opk_at_fused(__global const float *Q, __global const float *K,
             __global const float *V, __global const float *H,
             __global const float *G, __global float *O, uint n, uint m,
             uint d, uint dv, uint f0, float gamma, int soft, int has_g,
             float tau, float a1, float a2, float a3)
{
    __local float kb[OPK_AT_CK * (OPK_AT_B + 1)];
    __local float qs[OPK_AT_R * OPK_AT_CK];
    __local float e[OPK_AT_R * OPK_AT_B]; /* S, then e_j (or w_j) */
    __local float vb[OPK_AT_B * OPK_AT_B];
    __local float mnl[OPK_AT_R], scl[OPK_AT_R];
    __local float part[OPK_AT_B];        /* 8 partial maxima per row */
    __local float lanes[OPK_AT_R * 16];  /* lane16's lanes per row */
    const uint lid = get_local_id(0), i0 = get_group_id(0) * OPK_AT_R;
    const uint fw = min((uint)(OPK_AT_FC * OPK_AT_B), dv - f0);
    float o[OPK_AT_R][OPK_AT_FC];
    for (uint r = 0; r < OPK_AT_R; r++)
        for (uint c = 0; c < OPK_AT_FC; c++)
            o[r][c] = 0.0f;
    float mr = -INFINITY, lr = 0.0f; /* row lid's m and l (lid < R) */
    for (uint j0 = 0; j0 < m; j0 += OPK_AT_B) {
        const uint jn = min((uint)OPK_AT_B, m - j0);
        float acc[OPK_AT_R];
        opk_at_dots(Q, K, n, m, d, i0, j0, kb, qs, acc);
        if (lid < jn)
            for (uint r = 0; r < OPK_AT_R; r++)
                e[r * OPK_AT_B + lid] = acc[r] * gamma;
        barrier(CLK_LOCAL_MEM_FENCE);
        if (soft) { /* 8 work-items per row: partial maxima (any order) */
            const uint r = lid / 8, p = lid % 8;
            float mb = -INFINITY;
            for (uint t = p * 8; t < p * 8 + 8 && t < jn; t++)
                mb = opk_nmax(mb, e[r * OPK_AT_B + t]);
            part[lid] = mb;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (soft && lid < OPK_AT_R) { /* row lid: mb, mn, sc */
            float mb = -INFINITY;
            for (uint p = 0; p < 8; p++)
                mb = opk_nmax(mb, part[lid * 8 + p]);
            const float mn = opk_nmax(mr, mb);
            mnl[lid] = mn;
            scl[lid] = mn == -INFINITY ? 1.0f : opk_E(mr - mn);
            if (mn != -INFINITY)
                mr = mn;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < jn) /* key lid's e_j (w_j) for every row */
            for (uint r = 0; r < OPK_AT_R; r++) {
                const float s = e[r * OPK_AT_B + lid];
                if (!soft)
                    e[r * OPK_AT_B + lid] = 1.0f / (1.0f + opk_E(-s));
                else if (mnl[r] != -INFINITY)
                    e[r * OPK_AT_B + lid] = opk_E(s - mnl[r]);
            }
        barrier(CLK_LOCAL_MEM_FENCE);
        { /* lane16 over the block, by position: lanes l and l + 8 of row
             lid / 8, each its keys t = l (mod 16) ascending */
            const uint r = lid / 8, l = lid % 8;
            float a0 = 0.0f, a1 = 0.0f;
            for (uint t = l; t < jn; t += 16)
                a0 = a0 + e[r * OPK_AT_B + t];
            for (uint t = l + 8; t < jn; t += 16)
                a1 = a1 + e[r * OPK_AT_B + t];
            lanes[r * 16 + l] = a0;
            lanes[r * 16 + l + 8] = a1;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < OPK_AT_R && (!soft || mnl[lid] != -INFINITY)) {
            const float a = opk_fold16(lanes + lid * 16);
            lr = soft ? fma(lr, scl[lid], a) : lr + a;
        }
        for (uint c = 0; c < OPK_AT_FC && c * OPK_AT_B < fw; c++) {
            const uint fb = f0 + c * OPK_AT_B;
            const uint fn = min((uint)OPK_AT_B, dv - fb);
            barrier(CLK_LOCAL_MEM_FENCE); /* vb's last readers */
            for (uint x = lid; x < OPK_AT_B * OPK_AT_B; x += OPK_AT_B) {
                const uint t = x / OPK_AT_B, f = x % OPK_AT_B;
                vb[x] = t < jn && f < fn ? V[(ulong)(j0 + t) * dv + fb + f]
                                         : 0.0f;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            for (uint r = 0; r < OPK_AT_R; r++) {
                float acc_o = o[r][c];
                if (soft) {
                    if (mnl[r] == -INFINITY)
                        continue; /* the block is skipped */
                    acc_o = acc_o * scl[r];
                }
                for (uint t = 0; t < jn; t++)
                    acc_o = fma(e[r * OPK_AT_B + t], vb[t * OPK_AT_B + lid],
                                acc_o);
                o[r][c] = acc_o;
            }
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid < OPK_AT_R)
        mnl[lid] = 1.0f / lr; /* fl(1 / l) of row lid */
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint c = 0; c < OPK_AT_FC; c++) {
        const uint fl = c * OPK_AT_B + lid;
        if (fl >= fw)
            break;
        const ulong f = f0 + fl;
        for (uint r = 0; r < OPK_AT_R && i0 + r < n; r++) {
            const ulong x = (ulong)(i0 + r) * dv + f;
            O[x] = opk_at_mix(o[r][c] * mnl[r], H[x], has_g ? G[x] : 0.0f,
                              has_g, tau, a1, a2, a3);
        }
    }
}

/* S_ij = fl(dot(q_i, k_j) * gamma) into S (n x m, pitch m). Dimension 0:
 * query tiles of R rows (64 work-items each), dimension 1: key blocks. */
__kernel __attribute__((reqd_work_group_size(OPK_AT_B, 1, 1))) void
opk_at_scores(__global const float *Q, __global const float *K,
              __global float *S, uint n, uint m, uint d, float gamma)
{
    __local float kb[OPK_AT_CK * (OPK_AT_B + 1)];
    __local float qs[OPK_AT_R * OPK_AT_CK];
    const uint lid = get_local_id(0), i0 = get_group_id(0) * OPK_AT_R;
    const uint j0 = get_group_id(1) * OPK_AT_B;
    float acc[OPK_AT_R];
    opk_at_dots(Q, K, n, m, d, i0, j0, kb, qs, acc);
    if (j0 + lid < m)
        for (uint r = 0; r < OPK_AT_R && i0 + r < n; r++)
            S[(ulong)(i0 + r) * m + j0 + lid] = acc[r] * gamma;
}

/* B_if = fma chain over j ascending of P_ij v_jf, mixed (B = fl(o * 1)). */
__kernel void opk_at_pv(__global const float *P, __global const float *V,
                        __global const float *H, __global const float *G,
                        __global float *O, uint n, uint m, uint dv,
                        int has_g, float tau, float a1, float a2, float a3)
{
    const uint f = get_global_id(0), i = get_global_id(1);
    if (f >= dv || i >= n)
        return; /* no barriers */
    __global const float *p = P + (ulong)i * m;
    float acc = 0.0f;
    for (uint j = 0; j < m; j++)
        acc = fma(p[j], V[(ulong)j * dv + f], acc);
    const ulong x = (ulong)i * dv + f;
    O[x] = opk_at_mix(acc * 1.0f, H[x], has_g ? G[x] : 0.0f, has_g, tau, a1,
                      a2, a3);
}

/* r_i = dot(x_i, x_i), or fl(1 / Sq(dot)) with inv (+inf: a zero row). */
__kernel void opk_at_rowdots(__global const float *X, uint rows, uint d,
                             int inv, __global float *r)
{
    const uint i = get_global_id(0);
    if (i >= rows)
        return;
    __global const float *x = X + (ulong)i * d;
    float acc = 0.0f;
    for (uint t = 0; t < d; t++)
        acc = fma(x[t], x[t], acc);
    r[i] = inv ? 1.0f / opk_Sq(acc) : acc;
}

/* out[0] = seq_i r_i (one work-item: the order is the contract). */
__kernel void opk_at_seqsum(__global const float *r, uint n,
                            __global float *out)
{
    float s = 0.0f;
    for (uint i = 0; i < n; i++)
        s = s + r[i];
    out[0] = s;
}

/* Linear mode's key sums with k^_jt = fl(k_jt * rk_j), keys ascending.
 * Work-item (f, t): t < d, f < dv: KV_tf (fma chain); t < d, f = dv: ks_t;
 * t = d, f < dv: vs_f. Each is one chain of m steps in key order (the
 * contract), so the parallelism is the (d+1)(dv+1) chains: a 16 x 16
 * work-group stages OPK_KV_KEYS keys of its 16 columns of K^ and of V in
 * local memory (coalesced loads, k^ computed once per element), and every
 * work-item runs its chain over the tile from local memory. */
#define OPK_KV_TILE 16
#define OPK_KV_KEYS 128
__kernel __attribute__((reqd_work_group_size(OPK_KV_TILE, OPK_KV_TILE, 1)))
void opk_at_kv(__global const float *K, __global const float *V,
               __global const float *rk, uint m, uint d, uint dv,
               __global float *KV, __global float *ks, __global float *vs)
{
    __local float lk[OPK_KV_KEYS][OPK_KV_TILE];
    __local float lv[OPK_KV_KEYS][OPK_KV_TILE];
    const uint lf = get_local_id(0), lt = get_local_id(1);
    const uint f = get_global_id(0), t = get_global_id(1);
    const uint tl = get_group_id(1) * OPK_KV_TILE + lf; /* column loaded */
    const uint fl = get_group_id(0) * OPK_KV_TILE + lf;
    /* 0: KV, 1: ks, 2: vs, 3: none (uniform over the tile loop) */
    const int what = t < d ? (f < dv ? 0 : f == dv ? 1 : 3)
                           : (t == d && f < dv ? 2 : 3);
    float acc = 0.0f;
    for (uint j0 = 0; j0 < m; j0 += OPK_KV_KEYS) {
        const uint len = min((uint)OPK_KV_KEYS, m - j0);
        for (uint r = lt; r < len; r += OPK_KV_TILE) {
            const ulong j = j0 + r;
            lk[r][lf] = tl < d ? K[j * d + tl] * rk[j] : 0.0f;
            lv[r][lf] = fl < dv ? V[j * dv + fl] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (what == 0)
            for (uint r = 0; r < len; r++)
                acc = fma(lk[r][lt], lv[r][lf], acc);
        else if (what == 1)
            for (uint r = 0; r < len; r++)
                acc = acc + lk[r][lt];
        else if (what == 2)
            for (uint r = 0; r < len; r++)
                acc = acc + lv[r][lf];
        barrier(CLK_LOCAL_MEM_FENCE); /* the tile is rewritten next */
    }
    if (what == 0)
        KV[(ulong)t * dv + f] = acc;
    else if (what == 1)
        ks[t] = acc;
    else if (what == 2)
        vs[f] = acc;
}

/* O_if of linear mode: den_i = fl(m + dot(q^_i, ks)), num_if = fma chain
 * over t of (q^_it, KV_tf) from vs_f, B = fl(num * fl(1 / den)). */
__kernel void opk_at_linear(__global const float *Q, __global const float *rq,
                            __global const float *KV,
                            __global const float *ks,
                            __global const float *vs, __global const float *H,
                            __global const float *G, __global float *O,
                            uint n, uint d, uint dv, float fm, int has_g,
                            float tau, float a1, float a2, float a3)
{
    const uint f = get_global_id(0), i = get_global_id(1);
    if (f >= dv || i >= n)
        return;
    __global const float *q = Q + (ulong)i * d;
    const float r = rq[i];
    float dot = 0.0f;
    for (uint t = 0; t < d; t++)
        dot = fma(q[t] * r, ks[t], dot);
    const float rden = 1.0f / (fm + dot);
    float num = vs[f];
    for (uint t = 0; t < d; t++)
        num = fma(q[t] * r, KV[(ulong)t * dv + f], num);
    const ulong x = (ulong)i * dv + f;
    O[x] = opk_at_mix(num * rden, H[x], has_g ? G[x] : 0.0f, has_g, tau, a1,
                      a2, a3);
}

/* b[i] = Lg(x): the Sinkhorn masses' logs, with the device's Lg (bitwise
 * SLEEF's, see test_cl_math). */
__kernel void opk_at_fill_lg(__global float *b, uint count, float x)
{
    const uint i = get_global_id(0);
    if (i < count)
        b[i] = opk_Lg(x);
}
