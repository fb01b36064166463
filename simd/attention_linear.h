/* Linear-mode attention (SPEC 3.4, DIFFormer-simple), written once for
 * every ISA. Included by simd/<isa>/attention.c after the macros of
 * attention_fused.h and:
 *   v_Sq                 SPEC 1's Sq
 *   v_any_nonzero(v)     1 if a lane of v is not +-0 (NaN included)
 *   v_any_zero(v)        1 if a lane of v is +-0
 *   v_prefetch_l2(p)     a prefetch hint to L2 (never faults)
 *   tile_T(x, ld, nr, nc, T, ts)  rows 0..nr-1 (nr <= VL) and columns
 *                        0..nc-1 (nc <= VL) of x transposed: T[k * ts + r];
 *                        rows from nr on read as +0; nothing past them is
 *                        read
 *   LIN_R, LIN_F         rows (of KV or of queries) x vectors of features
 *                        per register tile
 *
 * Bits: every reduction SPEC 3.4 writes over the feature axis k (the row
 * dots, the denominators) is an fma chain over k, so it runs with lanes =
 * rows on a transposed block; the ones over keys (KV, ks, vs) and the
 * numerators run with lanes = features, in the stated order.
 *
 * Speed: the mode is bound by its fmas (d * dv per key and per query) and
 * by streaming Q, K, V, H and O, so each is read once per pass and the
 * short chains (row dots, denominators, ks, vs) run interleaved with other
 * work: LIN_G blocks of VL rows side by side, and ks, vs accumulated inside
 * the KV tile loop (one add per key next to LIN_R * LIN_F fmas). The rows
 * of the next batch of keys (of the query block after next) are prefetched
 * while the current one computes: both kernels take their rows in bursts
 * that the hardware prefetcher alone does not hide. */

#define KV_J 256                /* keys per batch of normalized key rows */
#define LIN_G 4                 /* independent row-dot chains */
#define LIN_GV (LIN_G * VL)     /* rows per transposed block */

/* Rows 0..nr-1 (nr <= LIN_GV) of x, cols wide, transposed into T:
 * T[k * LIN_GV + r] (rows from nr on +0 up to a multiple of VL). keep: all
 * columns stay (T holds cols * LIN_GV floats), else T holds one chunk of
 * VL columns. With dots: r[t] = dot(x_t, x_t), or fl(1 / Sq(dot)) with inv,
 * for t < nr (nothing else written). Returns 0 if no dot is +0 (1: maybe,
 * the padding rows count). */
ALWAYS_INLINE int block_T(const float *x, size_t ld, size_t cols, size_t nr,
                          int keep, float *T, int dots, int inv, float *r)
{
    const size_t ng = (nr + VL - 1) / VL;
    VF acc[LIN_G];
#pragma GCC unroll 8
    for (int g = 0; g < LIN_G; g++)
        acc[g] = v_zero();
    for (size_t c0 = 0; c0 < cols; c0 += VL) {
        const size_t nc = cols - c0 < VL ? cols - c0 : VL;
        float *Tc = T + (keep ? c0 * LIN_GV : 0);
#pragma GCC unroll 8
        for (int g = 0; g < LIN_G; g++) {
            const size_t rg = (size_t)g * VL;
            if (rg < nr)
                tile_T(x + rg * ld + c0, ld, nr - rg < VL ? nr - rg : VL, nc,
                       Tc + rg, LIN_GV);
        }
        if (dots)
            for (size_t k = 0; k < nc; k++) {
#pragma GCC unroll 8
                for (int g = 0; g < LIN_G; g++)
                    if ((size_t)g < ng) {
                        VF t = v_load(Tc + k * LIN_GV + (size_t)g * VL);
                        acc[g] = v_fma(t, t, acc[g]);
                    }
            }
    }
    if (!dots)
        return 0;
    const VF one = v_set1(1.0f);
    int zero = 0;
#pragma GCC unroll 8
    for (int g = 0; g < LIN_G; g++) {
        const size_t rg = (size_t)g * VL;
        if (rg >= nr)
            break;
        zero |= v_any_zero(acc[g]);
        VF a = inv ? v_div(one, v_Sq(acc[g])) : acc[g];
        if (nr - rg >= VL)
            v_store(r + rg, a);
        else
            v_store_n(r + rg, a, nr - rg);
    }
    return zero;
}

/* r_i = dot(x_i, x_i), or fl(1 / Sq(dot)) with inv, for rows [r0, r1). */
void ATTN_NAME(opk_attn_row_dots)(const float *x, size_t ld, size_t cols,
                                  size_t r0, size_t r1, int inv, float *r)
{
    float T[VL * LIN_GV] __attribute__((aligned(64)));
    for (size_t i0 = r0; i0 < r1; i0 += LIN_GV) {
        size_t nr = r1 - i0 < LIN_GV ? r1 - i0 : LIN_GV;
        block_T(x + i0 * ld, ld, cols, nr, 0, T, 1, inv, r + i0);
    }
}

/* The first row in [r0, r1) whose dot(x_i, x_i) is +0, else SIZE_MAX.
 * Any order of summation gives the same answer, so this one reads each row
 * once with lanes = features: a sum of fma(x, x, s) terms (all >= 0) is +0
 * exactly when every fl(x_k * x_k) is +0, as is SPEC's chain; a NaN or an
 * infinity makes both nonzero. */
size_t ATTN_NAME(opk_attn_zero_row)(const float *x, size_t ld, size_t cols,
                                    size_t r0, size_t r1)
{
    for (size_t i = r0; i < r1; i++) {
        const float *xi = x + i * ld;
        VF s = v_zero();
        size_t c = 0;
        for (; c + VL <= cols; c += VL) {
            VF a = v_load(xi + c);
            s = v_fma(a, a, s);
        }
        if (c < cols) {
            VF a = v_load_n(xi + c, cols - c);
            s = v_fma(a, a, s);
        }
        if (!v_any_nonzero(s))
            return i;
    }
    return SIZE_MAX;
}

/* Prefetches the cols floats of a row, one hint per 64 bytes, into L2:
 * a batch ahead is more than L1 holds. */
ALWAYS_INLINE void prefetch_row(const float *p, size_t cols)
{
    v_prefetch_l2(p);
    if (cols > 16)
        v_prefetch_l2(p + 16);
    for (size_t c = 32; c < cols; c += 16)
        v_prefetch_l2(p + c);
}

/* The first nf floats of a row from f on: full or masked loads. */
ALWAYS_INLINE VF load_part(const float *p, size_t f, size_t nf)
{
    return f + VL <= nf ? v_load(p + f) : v_load_n(p + f, nf - f);
}

/* Loads (ld) or stores the first kn (<= 16) floats of ks, 16 / VL vectors. */
ALWAYS_INLINE void ks_load(VF *s, const float *ks, size_t kn)
{
#pragma GCC unroll 16
    for (int u = 0; u < 16 / VL; u++)
        if ((size_t)u * VL < kn)
            s[u] = load_part(ks, (size_t)u * VL, kn);
}
ALWAYS_INLINE void ks_store(float *ks, const VF *s, size_t kn)
{
#pragma GCC unroll 16
    for (int u = 0; u < 16 / VL; u++) {
        const size_t c = (size_t)u * VL;
        if (c + VL <= kn)
            v_store(ks + c, s[u]);
        else if (c < kn)
            v_store_n(ks + c, s[u], kn - c);
    }
}

/* Where the next batch of keys is, for the prefetches: np rows (of K:
 * the d columns from k); pk, pv: whether this tile prefetches their K
 * rows, their V rows. With pk, also this batch's share of the caller's
 * rows (xs), one per key. */
typedef struct kv_next {
    const float *k, *v;
    size_t ldk, ldv, d, dv, np;
    int pk, pv;
    opk_attn_pf xs;
} kv_next;

/* KV rows kv[r] (R of them) x F vectors from f0 += k^_j(r) v_j over the
 * jn keys of a batch: kh[t * 16 + r] = k^ of key t for KV row r. With SK,
 * also ks (kn rows from kh[t * 16]) += k^_j; with SV, vs (these F vectors)
 * += v_j: each chain over keys in order, next to the fmas. With nx, key t
 * of the next batch is prefetched. */
ALWAYS_INLINE void kv_tile(float *kv, size_t dvp, const float *kh,
                           const float *v, size_t ldv, size_t dv, size_t jn,
                           size_t f0, int R, int F, int SK, float *ks,
                           size_t kn, int SV, float *vs, const kv_next *nx)
{
    VF acc[LIN_R][LIN_F], ksv[16 / VL], vsv[LIN_F];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            acc[r][f] = v_load(kv + (size_t)r * dvp + f0 + (size_t)f * VL);
#pragma GCC unroll 16
    for (int u = 0; u < 16 / VL; u++)
        ksv[u] = v_zero();
#pragma GCC unroll 8
    for (int f = 0; f < LIN_F; f++)
        vsv[f] = v_zero();
    if (SK)
        ks_load(ksv, ks, kn);
    if (SV)
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            vsv[f] = v_load(vs + f0 + (size_t)f * VL);
    const size_t nf = dv - f0; /* valid features from f0 */
    for (size_t t = 0; t < jn; t++) {
        const float *vr = v + t * ldv + f0;
        VF vv[LIN_F];
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            vv[f] = load_part(vr, (size_t)f * VL, nf);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            VF b = v_set1(kh[t * 16 + (size_t)r]);
#pragma GCC unroll 8
            for (int f = 0; f < F; f++)
                acc[r][f] = v_fma(b, vv[f], acc[r][f]);
        }
        if (SK)
#pragma GCC unroll 16
            for (int u = 0; u < 16 / VL; u++)
                if ((size_t)u * VL < kn)
                    ksv[u] = v_add(ksv[u], v_load(kh + t * 16 + (size_t)u * VL));
        if (SV)
#pragma GCC unroll 8
            for (int f = 0; f < F; f++)
                vsv[f] = v_add(vsv[f], vv[f]);
        if (t < nx->np) {
            if (nx->pk)
                prefetch_row(nx->k + t * nx->ldk, nx->d);
            if (nx->pv)
                prefetch_row(nx->v + t * nx->ldv, nx->dv);
        }
        if (nx->pk && t < nx->xs.rows)
            prefetch_row(nx->xs.x + t * nx->xs.ld, nx->xs.cols);
    }
    if (nx->pk)
        for (size_t t = jn; t < nx->xs.rows; t++)
            prefetch_row(nx->xs.x + t * nx->xs.ld, nx->xs.cols);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            v_store(kv + (size_t)r * dvp + f0 + (size_t)f * VL, acc[r][f]);
    if (SK)
        ks_store(ks, ksv, kn);
    if (SV)
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            v_store(vs + f0 + (size_t)f * VL, vsv[f]);
}

/* All feature vectors of R KV rows; ks rides on the first group of
 * features, vs on every group. */
ALWAYS_INLINE void kv_rows(float *kv, size_t dvp, const float *kh,
                           const float *v, size_t ldv, size_t dv, size_t jn,
                           int R, int SK, float *ks, size_t kn, int SV,
                           float *vs, const kv_next *nx)
{
    kv_next rest = *nx; /* the prefetches go with the first features */
    rest.np = 0;
    rest.pk = 0;
    size_t nv = (dv + VL - 1) / VL, f = 0;
    for (; f + LIN_F <= nv; f += LIN_F)
        kv_tile(kv, dvp, kh, v, ldv, dv, jn, f * VL, R, LIN_F, SK && f == 0,
                ks, kn, SV, vs, f ? &rest : nx);
    for (; f < nv; f++)
        kv_tile(kv, dvp, kh, v, ldv, dv, jn, f * VL, R, 1, SK && f == 0, ks,
                kn, SV, vs, f ? &rest : nx);
}

/* The first KV tile of a block of 16 rows carries ks, the prefetches
 * and (with sv) vs. */
ALWAYS_INLINE void kv_first(float *kv, size_t dvp, const float *kh,
                            const float *v, size_t ldv, size_t dv, size_t jn,
                            int R, float *ks, size_t kn, int sv, float *vs,
                            const kv_next *nx)
{
    if (sv)
        kv_rows(kv, dvp, kh, v, ldv, dv, jn, R, 1, ks, kn, 1, vs, nx);
    else
        kv_rows(kv, dvp, kh, v, ldv, dv, jn, R, 1, ks, kn, 0, vs, nx);
}

/* kh[t * 16 + c] = k^_{t, c} = fl(k_{t, c} * r_t) for keys t in [t0, t1)
 * of a batch and kn (<= 16) columns from k (lanes from kn on: 0 or NaN,
 * never read back into ks or KV). */
ALWAYS_INLINE void build_kh(float *kh, const float *k, size_t ldk,
                            const float *rk, size_t t0, size_t t1, size_t kn)
{
    for (size_t t = t0; t < t1; t++) {
        const float *kr = k + t * ldk;
        const VF rj = v_set1(rk[t]);
        for (size_t c = 0; c < kn; c += VL)
            v_store(kh + t * 16 + c, v_mul(load_part(kr, c, kn), rj));
    }
}

/* Blocks of 16 KV rows whose k^ are made while the key rows are in L1. */
#define KH_BLOCKS 2

void ATTN_NAME(opk_attn_linear_kv)(const opk_attn_job *jb,
                                   const opk_attn_linear *ln, size_t k0,
                                   size_t k1, size_t j0, size_t j1, int do_vs,
                                   size_t *zero)
{
    float khs[KH_BLOCKS * KV_J * 16] __attribute__((aligned(64)));
    float rkb[KV_J] __attribute__((aligned(64)));
    float T[VL * LIN_GV] __attribute__((aligned(64)));
    const size_t d = jb->d, dv = jb->dv, dvp = jb->dvp, ldk = jb->ldk;
    const size_t ldv = jb->ldv;
    const int early = (k1 - k0 + 15) / 16 <= KH_BLOCKS;
    *zero = SIZE_MAX;
    for (size_t jc = j0; jc < j1; jc += KV_J) {
        const size_t jn = j1 - jc < KV_J ? j1 - jc : KV_J;
        const float *rk = ln->rk ? ln->rk + jc : rkb;
        const float *kc = jb->k + jc * ldk;
        for (size_t b = 0; b < jn; b += LIN_GV) {
            const size_t b1 = jn - b < LIN_GV ? jn : b + LIN_GV;
            /* These keys' row scales, computed here; a zero row: +inf. */
            if (!ln->rk &&
                block_T(kc + b * ldk, ldk, d, b1 - b, 0, T, 1, 1, rkb + b))
                for (size_t t = b; t < b1 && *zero == SIZE_MAX; t++)
                    if (rkb[t] == INFINITY)
                        *zero = jc + t;
            if (early)
                for (size_t kb = k0; kb < k1; kb += 16)
                    build_kh(khs + (kb - k0) * KV_J, kc + kb, ldk, rk, b, b1,
                             k1 - kb < 16 ? k1 - kb : 16);
        }
        const float *vb = jb->v + jc * ldv;
        const size_t jx = jc + KV_J; /* the next batch, up to m */
        const size_t np = jx < jb->m ? (jb->m - jx < KV_J ? jb->m - jx : KV_J) : 0;
        /* No pointer past the operands is formed (a huge ld with few rows
         * would wrap it: undefined even unread; found by fuzz_attn_cheb). */
        /* Given the scales, this call reads only its columns of K. */
        const size_t kc0 = ln->rk ? k0 : 0, kcn = ln->rk ? k1 - k0 : d;
        kv_next nx = {np ? jb->k + jx * ldk + kc0 : jb->k,
                      np ? jb->v + jx * ldv : jb->v,
                      ldk, ldv, kcn, dv, np, 1, 1, {0}};
        {   /* This batch's share of the caller's rows. */
            const opk_attn_pf *x = &ln->pf;
            const size_t a = x->rows * (jc - j0) / (j1 - j0);
            const size_t e = x->rows * (jc + jn - j0) / (j1 - j0);
            if (a < e)
                nx.xs = (opk_attn_pf){x->x + a * x->ld, x->ld, x->cols, e - a};
        }
        /* With two tiles of rows or more, the first prefetches the K rows
         * and the second the V rows: the misses spread over the batch. */
        const int split = (k1 - k0 < 16 ? k1 - k0 : 16) >= 2 * LIN_R;
        kv_next nk = nx, nv = nx, none = nx;
        nk.pv = nv.pk = 0;
        none.np = 0;
        none.pk = 0;
        for (size_t kb = k0; kb < k1; kb += 16) {
            const size_t kn = k1 - kb < 16 ? k1 - kb : 16;
            float *kh = khs + (early ? (kb - k0) * KV_J : 0);
            if (!early)
                build_kh(kh, kc + kb, ldk, rk, 0, jn, kn);
            const int sv = do_vs && kb == k0;
            float *kvb = ln->kv + kb * dvp;
            size_t r = 0;
            const kv_next *pf = kb != k0 ? &none : split ? &nk : &nx;
            if (kn >= LIN_R) {
                kv_first(kvb, dvp, kh, vb, ldv, dv, jn, LIN_R, ln->ks + kb, kn,
                         sv, ln->vs, pf);
                r = LIN_R;
            } else {
                kv_first(kvb, dvp, kh, vb, ldv, dv, jn, 1, ln->ks + kb, kn, sv,
                         ln->vs, pf);
                r = 1;
            }
            for (; r + LIN_R <= kn; r += LIN_R)
                kv_rows(kvb + r * dvp, dvp, kh + r, vb, ldv, dv, jn, LIN_R, 0,
                        NULL, 0, 0, NULL,
                        kb == k0 && r == LIN_R && split ? &nv : &none);
            for (; r < kn; r++)
                kv_rows(kvb + r * dvp, dvp, kh + r, vb, ldv, dv, jn, 1, 0, NULL,
                        0, 0, NULL, &none);
        }
        if (do_vs && k0 == k1) /* no KV rows to ride on: vs_f = seq_j v_jf */
            for (size_t f = 0; f < dv; f += VL) {
                VF acc = v_load(ln->vs + f);
                for (size_t t = 0; t < jn; t++)
                    acc = v_add(acc, load_part(vb + t * ldv, f, dv));
                v_store(ln->vs + f, acc);
            }
    }
}

/* Rows of Q and H to prefetch: items 0..np-1 are rows of Q from q, items
 * np..2np-1 rows of H from h (h NULL: none, as when H is read only for
 * zero results, see opk_attn_linear). */
typedef struct rows_next {
    const float *q, *h;
    size_t np;
} rows_next;

ALWAYS_INLINE void rows_next_item(const opk_attn_job *jb, const rows_next *p,
                                  size_t s)
{
    if (s < p->np)
        prefetch_row(p->q + s * jb->ldq, jb->d);
    else if (s < 2 * p->np && p->h)
        prefetch_row(p->h + (s - p->np) * jb->ldh, jb->dv);
}

/* Rows t0.. (R of them) of a block of queries, features f0 + F vectors:
 * num = vs + fma chain over k of q^_ik KV_k; B = fl(num * rden); mixing.
 * The prefetches of px go one per step of k (a burst of them would wait
 * for free miss buffers), the rest after the loop. */
ALWAYS_INLINE void num_tile(const opk_attn_job *jb, const opk_attn_linear *ln,
                            const float *qhT, const float *rden, size_t i0,
                            size_t t0, size_t f0, int stream, int R, int F,
                            const rows_next *px)
{
    const size_t dvp = jb->dvp, dv = jb->dv;
    VF acc[LIN_R][LIN_F];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            acc[r][f] = v_load(ln->vs + f0 + (size_t)f * VL);
    const float *kvr = ln->kv + f0;
    const float *qk = qhT + t0;
    for (size_t k = 0; k < jb->d; k++, kvr += dvp, qk += LIN_GV) {
        rows_next_item(jb, px, k);
        VF vv[LIN_F];
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            vv[f] = v_load(kvr + f * VL);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            VF b = v_set1(qk[r]);
#pragma GCC unroll 8
            for (int f = 0; f < F; f++)
                acc[r][f] = v_fma(b, vv[f], acc[r][f]);
        }
    }
    for (size_t s = jb->d; s < 2 * px->np; s++)
        rows_next_item(jb, px, s);
    const VF a1 = v_set1(jb->a1), tau = v_set1(jb->tau);
    const VF a2 = v_set1(jb->a2), a3 = v_set1(jb->a3);
    const size_t nf = dv - f0;
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        const size_t i = i0 + t0 + (size_t)r;
        const float *h = jb->h + i * jb->ldh + f0;
        const float *g = jb->g ? jb->g + i * jb->ldg + f0 : NULL;
        float *out = jb->o + i * jb->ldo + f0;
        const VF rd = v_set1(rden[t0 + (size_t)r]);
#pragma GCC unroll 8
        for (int f = 0; f < F; f++) {
            size_t fo = (size_t)f * VL;
            VF b = v_mul(acc[r][f], rd), y;
            if (ln->h_sign_only && !v_any_zero(b)) {
                y = v_fma(tau, b, v_zero()); /* = fma(tau, b, +-0): b != 0 */
            } else {
                VF base = v_mul(a1, load_part(h, fo, nf));
                y = g ? v_fma(a3, load_part(g, fo, nf), v_fma(a2, b, base))
                      : v_fma(tau, b, base);
            }
            if (fo + VL > nf)
                v_store_n(out + fo, y, nf - fo);
            else if (stream && (uintptr_t)(out + fo) % (VL * 4) == 0)
                v_stream(out + fo, y); /* O is not read back: no RFO */
            else
                v_store(out + fo, y);
        }
    }
}

ALWAYS_INLINE void num_rows(const opk_attn_job *jb, const opk_attn_linear *ln,
                            const float *qhT, const float *rden, size_t i0,
                            size_t t0, int stream, int R, const rows_next *px)
{
    const rows_next none = {px->q, px->h, 0};
    size_t nv = (jb->dv + VL - 1) / VL, f = 0;
    for (; f + LIN_F <= nv; f += LIN_F)
        num_tile(jb, ln, qhT, rden, i0, t0, f * VL, stream, R, LIN_F,
                 f ? &none : px);
    for (; f < nv; f++)
        num_tile(jb, ln, qhT, rden, i0, t0, f * VL, stream, R, 1,
                 f ? &none : px);
}

/* Query rows [r0, r1) in blocks of LIN_GV: the block transposed once (its
 * row scales from it unless ln->rq has them), q^ and the denominators with
 * lanes = rows, then the numerators with lanes = features. Q is read once
 * here. */
void ATTN_NAME(opk_attn_linear_rows)(const opk_attn_job *jb,
                                     const opk_attn_linear *ln, size_t r0,
                                     size_t r1, float *scratch)
{
    const size_t d = jb->d;
    float *qhT = scratch, *rq = scratch + d * LIN_GV, *rden = rq + LIN_GV;
    const VF one = v_set1(1.0f), fm = v_set1((float)jb->m);
    const int stream = opk_stream_worthwhile(jb->n * jb->dv * sizeof(float));
    for (size_t i0 = r0; i0 < r1; i0 += LIN_GV) {
        const size_t nr = r1 - i0 < LIN_GV ? r1 - i0 : LIN_GV;
        const size_t ng = (nr + VL - 1) / VL;
        const float *q = jb->q + i0 * jb->ldq;
        if (ln->rq) {
            block_T(q, jb->ldq, d, nr, 1, qhT, 0, 0, NULL);
            for (size_t t = 0; t < nr; t++)
                rq[t] = ln->rq[i0 + t];
        } else {
            block_T(q, jb->ldq, d, nr, 1, qhT, 1, 1, rq);
        }
        VF rqv[LIN_G], den[LIN_G];
#pragma GCC unroll 8
        for (int g = 0; g < LIN_G; g++) {
            rqv[g] = (size_t)g < ng ? v_load(rq + (size_t)g * VL) : v_zero();
            den[g] = v_zero();
        }
        for (size_t k = 0; k < d; k++) {
            const VF ksk = v_set1(ln->ks[k]);
            float *tk = qhT + k * LIN_GV;
#pragma GCC unroll 8
            for (int g = 0; g < LIN_G; g++)
                if ((size_t)g < ng) { /* q^, lanes = rows */
                    VF qh = v_mul(v_load(tk + (size_t)g * VL), rqv[g]);
                    v_store(tk + (size_t)g * VL, qh);
                    den[g] = v_fma(qh, ksk, den[g]);
                }
        }
#pragma GCC unroll 8
        for (int g = 0; g < LIN_G; g++)
            if ((size_t)g < ng)
                v_store(rden + (size_t)g * VL, v_div(one, v_add(fm, den[g])));
        /* Rows of Q and H two blocks ahead (maybe of another chunk), LIN_R
         * of each per tile. */
        const size_t ix = i0 + 2 * LIN_GV, nx = ix < jb->n ? jb->n - ix : 0;
        size_t t = 0;
        for (; t + LIN_R <= nr; t += LIN_R) {
            const size_t np = t + LIN_R <= nx ? LIN_R : nx > t ? nx - t : 0;
            const rows_next px = {np ? jb->q + (ix + t) * jb->ldq : jb->q,
                                  ln->h_sign_only ? NULL
                                  : np            ? jb->h + (ix + t) * jb->ldh
                                                  : jb->h,
                                  np};
            num_rows(jb, ln, qhT, rden, i0, t, stream, LIN_R, &px);
        }
        const rows_next none = {jb->q, jb->h, 0};
        for (; t < nr; t++)
            num_rows(jb, ln, qhT, rden, i0, t, stream, 1, &none);
    }
    if (stream)
        v_sfence(); /* streaming stores visible before the threads join */
}

#undef KV_J
#undef KH_BLOCKS
#undef LIN_G
#undef LIN_GV
