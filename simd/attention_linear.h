/* Linear-mode attention (SPEC 3.4, DIFFormer-simple), written once for
 * every ISA. Included by simd/<isa>/attention.c after the macros of
 * attention_fused.h and:
 *   v_Sq                 SPEC 1's Sq
 *   tile_T(x, ld, nr, nc, T)  rows 0..nr-1 (nr <= VL) and columns 0..nc-1
 *                        (nc <= VL) of x transposed: T[k * VL + r]; rows
 *                        from nr on read as +0; nothing past them is read
 *   LIN_R, LIN_F         rows (of KV or of queries) x vectors of features
 *                        per register tile
 *
 * Bits: every reduction SPEC 3.4 writes over the feature axis k (the row
 * dots, the denominators) is an fma chain over k, so it runs with lanes =
 * rows on a transposed tile; the ones over keys (KV, ks, vs) and the
 * numerators run with lanes = features, in the stated order. */

#define KV_J 256 /* keys per batch of normalized key rows */

/* r_i = dot(x_i, x_i), or fl(1 / Sq(dot)) with inv, for rows [r0, r1). */
void ATTN_NAME(opk_attn_row_dots)(const float *x, size_t ld, size_t cols,
                                  size_t r0, size_t r1, int inv, float *r)
{
    float T[VL * VL] __attribute__((aligned(64)));
    const VF one = v_set1(1.0f);
    for (size_t i0 = r0; i0 < r1; i0 += VL) {
        size_t nr = r1 - i0 < VL ? r1 - i0 : VL;
        VF acc = v_zero();
        for (size_t c0 = 0; c0 < cols; c0 += VL) {
            size_t nc = cols - c0 < VL ? cols - c0 : VL;
            tile_T(x + i0 * ld + c0, ld, nr, nc, T);
            for (size_t k = 0; k < nc; k++) {
                VF t = v_load(T + k * VL);
                acc = v_fma(t, t, acc);
            }
        }
        if (inv)
            acc = v_div(one, v_Sq(acc));
        if (nr == VL)
            v_store(r + i0, acc);
        else
            v_store_n(r + i0, acc, nr);
    }
}

/* The first nf floats of a row from f on: full or masked loads. */
ALWAYS_INLINE VF load_part(const float *p, size_t f, size_t nf)
{
    return f + VL <= nf ? v_load(p + f) : v_load_n(p + f, nf - f);
}

/* KV rows kv[r] (R of them) x F vectors from f0 += k^_j(r) v_j over the
 * jn keys of a batch: kh[t * 16 + r] = k^ of key t for KV row r. */
ALWAYS_INLINE void kv_tile(float *kv, size_t dvp, const float *kh,
                           const float *v, size_t ldv, size_t dv, size_t jn,
                           size_t f0, int R, int F)
{
    VF acc[LIN_R][LIN_F];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            acc[r][f] = v_load(kv + (size_t)r * dvp + f0 + (size_t)f * VL);
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
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            v_store(kv + (size_t)r * dvp + f0 + (size_t)f * VL, acc[r][f]);
}

ALWAYS_INLINE void kv_rows(float *kv, size_t dvp, const float *kh,
                           const float *v, size_t ldv, size_t dv, size_t jn,
                           int R)
{
    size_t nv = (dv + VL - 1) / VL, f = 0;
    for (; f + LIN_F <= nv; f += LIN_F)
        kv_tile(kv, dvp, kh, v, ldv, dv, jn, f * VL, R, LIN_F);
    for (; f < nv; f++)
        kv_tile(kv, dvp, kh, v, ldv, dv, jn, f * VL, R, 1);
}

void ATTN_NAME(opk_attn_linear_kv)(const opk_attn_job *jb,
                                   const opk_attn_linear *ln, size_t k0,
                                   size_t k1, size_t j0, size_t j1, int do_vs,
                                   size_t *zero)
{
    float kh[KV_J * 16] __attribute__((aligned(64)));
    float rkb[KV_J] __attribute__((aligned(64)));
    const size_t dv = jb->dv, dvp = jb->dvp, ldk = jb->ldk, ldv = jb->ldv;
    *zero = SIZE_MAX;
    for (size_t jc = j0; jc < j1; jc += KV_J) {
        const size_t jn = j1 - jc < KV_J ? j1 - jc : KV_J;
        const float *rk = ln->rk ? ln->rk + jc : rkb;
        if (!ln->rk) { /* this batch's row scales, computed here */
            ATTN_NAME(opk_attn_row_dots)(jb->k + jc * ldk, ldk, jb->d, 0, jn, 1,
                                         rkb);
            for (size_t t = 0; t < jn && *zero == SIZE_MAX; t++)
                if (rkb[t] == INFINITY)
                    *zero = jc + t;
        }
        for (size_t kb = k0; kb < k1; kb += 16) {
            const size_t kn = k1 - kb < 16 ? k1 - kb : 16;
            /* k^_jk = fl(k_jk * r_j) for this batch; ks_k += k^_jk. */
            VF ks[16 / VL];
            for (size_t c = 0; c < kn; c += VL)
                ks[c / VL] = load_part(ln->ks + kb, c, kn);
            for (size_t t = 0; t < jn; t++) {
                const float *kr = jb->k + (jc + t) * ldk + kb;
                const VF rj = v_set1(rk[t]);
                for (size_t c = 0; c < kn; c += VL) {
                    VF x = v_mul(load_part(kr, c, kn), rj);
                    v_store(kh + t * 16 + c, x);
                    ks[c / VL] = v_add(ks[c / VL], x);
                }
            }
            for (size_t c = 0; c < kn; c += VL) {
                if (c + VL <= kn)
                    v_store(ln->ks + kb + c, ks[c / VL]);
                else
                    v_store_n(ln->ks + kb + c, ks[c / VL], kn - c);
            }
            const float *vb = jb->v + jc * ldv;
            size_t r = 0;
            for (; r + LIN_R <= kn; r += LIN_R)
                kv_rows(ln->kv + (kb + r) * dvp, dvp, kh + r, vb, ldv, dv, jn,
                        LIN_R);
            for (; r < kn; r++)
                kv_rows(ln->kv + (kb + r) * dvp, dvp, kh + r, vb, ldv, dv, jn,
                        1);
        }
        if (do_vs) /* vs_f = seq_j v_jf */
            for (size_t f = 0; f < dv; f += VL) {
                VF acc = v_load(ln->vs + f);
                for (size_t t = 0; t < jn; t++)
                    acc = v_add(acc, load_part(jb->v + (jc + t) * ldv, f, dv));
                v_store(ln->vs + f, acc);
            }
    }
}

/* Rows t0.. (R of them) of a tile of queries, features f0 + F vectors:
 * num = vs + fma chain over k of q^_ik KV_k; B = fl(num * rden); mixing. */
ALWAYS_INLINE void num_tile(const opk_attn_job *jb, const opk_attn_linear *ln,
                            const float *qhT, const float *rden, size_t i0,
                            size_t t0, size_t f0, int stream, int R, int F)
{
    const size_t dvp = jb->dvp, dv = jb->dv;
    VF acc[LIN_R][LIN_F];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            acc[r][f] = v_load(ln->vs + f0 + (size_t)f * VL);
    const float *kvr = ln->kv + f0;
    for (size_t k = 0; k < jb->d; k++, kvr += dvp) {
        VF vv[LIN_F];
#pragma GCC unroll 8
        for (int f = 0; f < F; f++)
            vv[f] = v_load(kvr + f * VL);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            VF b = v_set1(qhT[k * VL + t0 + (size_t)r]);
#pragma GCC unroll 8
            for (int f = 0; f < F; f++)
                acc[r][f] = v_fma(b, vv[f], acc[r][f]);
        }
    }
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
            VF b = v_mul(acc[r][f], rd);
            VF base = v_mul(a1, load_part(h, fo, nf));
            VF y = g ? v_fma(a3, load_part(g, fo, nf), v_fma(a2, b, base))
                     : v_fma(tau, b, base);
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
                            size_t t0, int stream, int R)
{
    size_t nv = (jb->dv + VL - 1) / VL, f = 0;
    for (; f + LIN_F <= nv; f += LIN_F)
        num_tile(jb, ln, qhT, rden, i0, t0, f * VL, stream, R, LIN_F);
    for (; f < nv; f++)
        num_tile(jb, ln, qhT, rden, i0, t0, f * VL, stream, R, 1);
}

void ATTN_NAME(opk_attn_linear_rows)(const opk_attn_job *jb,
                                     const opk_attn_linear *ln, size_t r0,
                                     size_t r1, float *scratch)
{
    const size_t d = jb->d;
    float *qhT = scratch, *rden = scratch + d * VL; /* d x VL, VL */
    const VF one = v_set1(1.0f), fm = v_set1((float)jb->m);
    const int stream = opk_stream_worthwhile(jb->n * jb->dv * sizeof(float));
    for (size_t i0 = r0; i0 < r1; i0 += VL) {
        const size_t nr = r1 - i0 < VL ? r1 - i0 : VL;
        const VF rq = nr == VL ? v_load(ln->rq + i0) : v_load_n(ln->rq + i0, nr);
        VF den = v_zero();
        for (size_t c0 = 0; c0 < d; c0 += VL) {
            size_t nc = d - c0 < VL ? d - c0 : VL;
            tile_T(jb->q + i0 * jb->ldq + c0, jb->ldq, nr, nc, qhT + c0 * VL);
            for (size_t k = c0; k < c0 + nc; k++) {
                VF qh = v_mul(v_load(qhT + k * VL), rq); /* q^, lanes = rows */
                v_store(qhT + k * VL, qh);
                den = v_fma(qh, v_set1(ln->ks[k]), den);
            }
        }
        v_store(rden, v_div(one, v_add(fm, den)));
        size_t t = 0;
        for (; t + LIN_R <= nr; t += LIN_R)
            num_rows(jb, ln, qhT, rden, i0, t, stream, LIN_R);
        for (; t < nr; t++)
            num_rows(jb, ln, qhT, rden, i0, t, stream, 1);
    }
    if (stream)
        v_sfence(); /* streaming stores visible before the threads join */
}

#undef KV_J
