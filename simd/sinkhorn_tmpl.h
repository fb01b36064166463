/* Sinkhorn passes (SPEC 3.2), ISA-generic: the bits of kernels/sinkhorn.c,
 * written once against the v_* layer of <isa>/vt.h (VL lanes). Row pass:
 * lane16 sums over chunks of 16 elements (16 / VL vectors, counted from
 * the row start); column pass: VL columns per vector, seq sums over
 * ascending rows, S streamed row by row (never transposed or copied).
 * beta = 1 (Sinkformer scores, log P_ref, attention's Sinkhorn mode) has
 * its own instances: t = fl(1 * s) = s for every number s (a NaN stays a
 * NaN), so neither pass multiplies and the row pass keeps no copy of t
 * (1024^2 in cache, one thread: 3-5% faster).
 * The including file defines SK_NAME(x) (the exported names' suffix). */
#include <math.h>

#include "../kernels/sinkhorn_impl.h"
#include "../kernels/sleef1.h"

#ifndef ALWAYS_INLINE
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#endif

#define SK_NV (16 / VL) /* vectors per chunk of 16 elements */

/* Lanes of vector o of a chunk of c <= 16 elements. */
ALWAYS_INLINE size_t sub_c(size_t c, size_t o)
{
    size_t lo = o * VL;
    return c > lo ? (c - lo < VL ? c - lo : VL) : 0;
}

/* Vector o of the chunk of c elements at p (lanes past c are +0, unread). */
ALWAYS_INLINE VF ld_sub(const float *p, size_t c, size_t o)
{
    if (o && c <= o * VL)
        return v_zero();
    return v_loadu_c(p + o * VL, sub_c(c, o));
}

/* NaN-aware elementwise max (SPEC 1): maxps returns its second operand when
 * either is NaN, so a NaN already in c is put back. */
ALWAYS_INLINE VF max_nan(VF c, VF u)
{
    return v_blend(v_isnan(c), v_max(c, u), c);
}

/* Adds the chunk e of c elements to a lane16 sum (c < 16: the last one). */
ALWAYS_INLINE void add_chunk(v_lane16 *acc, const VF *e, size_t c)
{
    if (c == 16)
        v_lane16_addv(acc, e);
    else
        v_lane16_addv_n(acc, e, c);
}

/* P = E(fl(fl(t + fo) + g)) of a chunk of c elements, added to the lane16
 * sum, and written to p when given. */
ALWAYS_INLINE void plan16(v_lane16 *acc, const VF *t, const VF *gv, VF vfo,
                          float *p, size_t c)
{
    VF ev[SK_NV];
    for (size_t o = 0; o < SK_NV; o++)
        ev[o] = v_E(v_add(v_add(t[o], vfo), gv[o]));
    add_chunk(acc, ev, c);
    if (p) /* after every read of this chunk of s: safe in place */
        for (size_t o = 0; o < SK_NV; o++)
            if (sub_c(c, o))
                v_storeu_c(p + o * VL, ev[o], sub_c(c, o));
}

/* u (vector o of a chunk of c elements, n lanes of it real) into the max:
 * a plain max in full chunks when clean, else NaN-aware and masked. */
ALWAYS_INLINE void max_vec(v_maxacc *mx, VF u, int clean, size_t c, size_t n)
{
    if (clean && c == 16)
        mx->m = v_max(u, mx->m);
    else if (n == VL)
        v_maxacc_add(mx, u);
    else if (n)
        v_maxacc_add_n(mx, u, n);
}

/* Sweep 1: t_j = fl(beta * s_j) into tbuf (the next sweeps read t instead
 * of recomputing it; with `unit`, beta = 1, t is s itself, nothing is
 * stored and they read s) and M = max_j fl(t_j + g_j). `clean`: no g_j is NaN or
 * +inf, so no u is NaN and a plain max will do (maxps(u, acc) keeps acc
 * when either is NaN). With `check` also the lane16 sum of
 * P_ij = E(fl(fl(t_j + fo) + g_j)) (fo the old f_i) into *rsum. One chunk
 * of c elements at j: full chunks pass c = 16, a constant, so that their
 * loop has no tail logic. */
ALWAYS_INLINE void max_chunk(int check, int clean, int unit, const float *s,
                             const float *g, size_t j, size_t c, VF vb,
                             VF vfo, float *tbuf, v_maxacc *mx, v_lane16 *acc)
{
    VF t[SK_NV], gv[SK_NV], u[SK_NV];
    for (size_t o = 0; o < SK_NV; o++) {
        t[o] = unit ? ld_sub(s + j, c, o) : v_mul(vb, ld_sub(s + j, c, o));
        gv[o] = ld_sub(g + j, c, o);
    }
    if (!unit)
        for (size_t o = 0; o < SK_NV; o++)
            v_store_a(tbuf + j + o * VL, t[o]);
    for (size_t o = 0; o < SK_NV; o++)
        u[o] = v_add(t[o], gv[o]);
    for (size_t o = 0; o < SK_NV; o++)
        max_vec(mx, u[o], clean, c, sub_c(c, o));
    if (check)
        plan16(acc, t, gv, vfo, NULL, c);
}

ALWAYS_INLINE float sweep_max(int check, int clean, int unit, const float *s,
                              const float *g, size_t m, VF vb, float fo,
                              float *tbuf, float *rsum)
{
    v_maxacc mx;
    v_maxacc_init(&mx);
    v_lane16 acc;
    v_lane16_init(&acc);
    const VF vfo = v_set1(fo);
    size_t j = 0;
    for (; j + 16 <= m; j += 16)
        max_chunk(check, clean, unit, s, g, j, 16, vb, vfo, tbuf, &mx, &acc);
    if (j < m)
        max_chunk(check, clean, unit, s, g, j, m - j, vb, vfo, tbuf, &mx, &acc);
    if (check)
        *rsum = v_lane16_result(&acc);
    return v_maxacc_result(&mx);
}

/* Sweep 2: lane16 sum of E(fl(fl(t_j + g_j) - M)). M is the maximum of
 * those very sums, so the argument is <= 0 (or NaN): v_E_le0. Meanwhile
 * the next row is prefetched into L2 (one line per chunk), so that sweep 1
 * of the next row does not wait on memory. */
ALWAYS_INLINE void sum_chunk(const float *tbuf, const float *g, size_t j,
                             size_t c, VF vm, const float *next,
                             v_lane16 *acc)
{
    if (next)
        v_prefetch_l2(next + j);
    VF e[SK_NV];
    for (size_t o = 0; o < SK_NV; o++) {
        VF u = v_add(ld_sub(tbuf + j, c, o), ld_sub(g + j, c, o));
        e[o] = v_E_le0(v_sub(u, vm));
    }
    add_chunk(acc, e, c);
}

static float sweep_sum(const float *tbuf, const float *g, size_t m, float M,
                       const float *next)
{
    v_lane16 acc;
    v_lane16_init(&acc);
    const VF vm = v_set1(M);
    size_t j = 0;
    for (; j + 16 <= m; j += 16)
        sum_chunk(tbuf, g, j, 16, vm, next, &acc);
    if (j < m)
        sum_chunk(tbuf, g, j, m - j, vm, next, &acc);
    return v_lane16_result(&acc);
}

/* Sweep 3: cmax_j = max(cmax_j, fl(t_j + f)). A NaN already in cmax_j
 * stays (maxps returns its second operand on NaN); u can be NaN only if f
 * is NaN or +inf, and then the NaN-aware max is used (clean: f is
 * neither). One vector of n <= VL lanes at j; a partial one is masked. */
ALWAYS_INLINE void cmax_vec(const float *tbuf, float *cmax, size_t j,
                            size_t n, VF vf, int clean)
{
    if (n == VL) {
        VF u = v_add(v_load(tbuf + j), vf);
        VF c = v_load(cmax + j);
        v_store(cmax + j, clean ? v_max(u, c) : max_nan(c, u));
    } else {
        VF u = v_add(v_load_n(tbuf + j, n), vf);
        v_store_n(cmax + j, max_nan(v_load_n(cmax + j, n), u), n);
    }
}

static void sweep_cmax(const float *tbuf, float *cmax, size_t m, float f)
{
    const VF vf = v_set1(f);
    const int clean = f == f && f != INFINITY;
    size_t j = 0;
    for (; j + VL <= m; j += VL)
        cmax_vec(tbuf, cmax, j, VL, vf, clean);
    if (j < m)
        cmax_vec(tbuf, cmax, j, m - j, vf, clean);
}

/* Check only (P after convergence, or the last check): one sweep. */
static float row_check(const float *s, const float *g, size_t m, VF vb,
                       float fo, float *p)
{
    v_lane16 acc;
    v_lane16_init(&acc);
    const VF vfo = v_set1(fo);
    for (size_t j = 0; j < m; j += 16) {
        size_t c = m - j < 16 ? m - j : 16;
        VF t[SK_NV], gv[SK_NV];
        for (size_t o = 0; o < SK_NV; o++) {
            t[o] = v_mul(vb, ld_sub(s + j, c, o));
            gv[o] = ld_sub(g + j, c, o);
        }
        plan16(&acc, t, gv, vfo, p ? p + j : NULL, c);
    }
    return v_lane16_result(&acc);
}

/* 1 if no g_j is NaN or +inf. */
static int g_clean(const float *g, size_t m)
{
    const VF inf = v_set1(INFINITY);
    VM bad = v_mask_zero();
    for (size_t j = 0; j < m; j += VL) {
        size_t c = m - j < VL ? m - j : VL;
        bad = v_mask_or(bad, v_mask_and(v_mask_n(c),
                                        v_cmp_nlt_uq(v_loadu_c(g + j, c), inf)));
    }
    return !v_mask_any(bad);
}

/* A row's new potential from its max M and its sum of exps (SPEC 3.2): f
 * = la - lse, lse = -inf for a row of -inf (its sum is not used). */
static inline float new_f(float la, float M, float sum)
{
    return la - (M == -INFINITY ? -INFINITY : M + opk_Lg(sum));
}

/* The three sweeps of three rows in one pass (beta = 1, clean g, no
 * check): sweep 1 of row a (its max into *mx), sweep 2 of row b (its sum
 * with max vm into *acc), sweep 3 of row c (f = vf finite: a plain max
 * into cmax), one chunk of c <= 16 elements at j, each as its own sweep
 * computes it. Alone, sweep 2 waits on the FMA pipes (the exp) and sweeps
 * 1 and 3 on the add pipes and loads; together they overlap. The row
 * `next` (the one after a) is prefetched into L2, as sweep 2 does. */
ALWAYS_INLINE void fused_chunk(const float *sa, const float *sb,
                               const float *sc, const float *g, float *cm,
                               const float *next, size_t j, size_t c, VF vm,
                               VF vf, v_maxacc *mx, v_lane16 *acc)
{
    if (next)
        v_prefetch_l2(next + j);
    VF e[SK_NV];
    for (size_t o = 0; o < SK_NV; o++) {
        const size_t n = sub_c(c, o);
        const VF gv = ld_sub(g + j, c, o);
        max_vec(mx, v_add(ld_sub(sa + j, c, o), gv), 1, c, n);
        e[o] = v_E_le0(v_sub(v_add(ld_sub(sb + j, c, o), gv), vm));
        if (n)
            cmax_vec(sc, cm, j + o * VL, n, vf, 1);
    }
    add_chunk(acc, e, c);
}

/* One fused pass over rows a, b, c: returns row a's max, *sum row b's sum. */
static float sweep_fused(const float *sa, const float *sb, const float *sc,
                         const float *g, float *cm, const float *next,
                         size_t m, float Mb, float fc, float *sum)
{
    v_maxacc mx;
    v_maxacc_init(&mx);
    v_lane16 acc;
    v_lane16_init(&acc);
    const VF vm = v_set1(Mb), vf = v_set1(fc);
    size_t j = 0;
    for (; j + 16 <= m; j += 16)
        fused_chunk(sa, sb, sc, g, cm, next, j, 16, vm, vf, &mx, &acc);
    if (j < m)
        fused_chunk(sa, sb, sc, g, cm, next, j, m - j, vm, vf, &mx, &acc);
    *sum = v_lane16_result(&acc);
    return v_maxacc_result(&mx);
}

/* The update of rows [r0, r1) with beta = 1, clean g and no check,
 * software-pipelined: each step runs sweep 1 of a new row, sweep 2 of the
 * row before it and sweep 3 of the one before that, fused when all three
 * are there and f is finite (else, at the ends and for rows whose max is
 * -inf, the sweeps one by one). Each row's numbers are its own sweeps';
 * only their order across rows changes, and cmax is order-free. */
static void rows_pipelined(const opk_sinkhorn_job *jb, size_t r0, size_t r1,
                           float *cmax)
{
    const size_t m = jb->cols, lds = jb->lds;
    const float *g = jb->g;
    const VF one = v_set1(1.0f);
    size_t i = r0, ia = SIZE_MAX, ib = SIZE_MAX; /* rows after sweep 1, 2 */
    float Ma = 0.0f, fb = 0.0f;
    for (;;) {
        while (i < r1 && jb->la[i] == -INFINITY) /* zero mass: no sweeps */
            jb->fnew[i++] = -INFINITY;
        const size_t in = i < r1 ? i++ : SIZE_MAX;
        if (in == SIZE_MAX && ia == SIZE_MAX && ib == SIZE_MAX)
            break;
        const float *sn = in != SIZE_MAX ? jb->s + in * lds : NULL;
        const float *sa = ia != SIZE_MAX ? jb->s + ia * lds : NULL;
        const float *sb = ib != SIZE_MAX ? jb->s + ib * lds : NULL;
        const float *next = in != SIZE_MAX && in + 1 < r1 ? sn + lds : NULL;
        float Mn = 0.0f, sum = 0.0f;
        if (sn && sa && Ma != -INFINITY && sb && fb == fb && fb != INFINITY) {
            Mn = sweep_fused(sn, sa, sb, g, cmax, next, m, Ma, fb, &sum);
        } else {
            if (sb)
                sweep_cmax(sb, cmax, m, fb);
            if (sa && Ma != -INFINITY)
                sum = sweep_sum(sa, g, m, Ma, sn);
            if (sn)
                Mn = sweep_max(0, 1, 1, sn, g, m, one, 0.0f, NULL, NULL);
        }
        if (sa)
            jb->fnew[ia] = fb = new_f(jb->la[ia], Ma, sum);
        ib = ia;
        ia = in;
        Ma = Mn;
    }
}

void SK_NAME(opk_sinkhorn_rows)(const opk_sinkhorn_job *jb, size_t r0,
                                size_t r1, unsigned mode, float *cmax,
                                float *scratch)
{
    const size_t m = jb->cols;
    const VF vb = v_set1(jb->beta);
    float *tbuf = scratch;
    const int clean = (mode & OPK_SK_UPDATE) && g_clean(jb->g, m);
    const int unit = jb->beta == 1.0f;
    if (unit && clean && !(mode & OPK_SK_CHECK)) { /* clean: UPDATE, no PLAN */
        rows_pipelined(jb, r0, r1, cmax);
        return;
    }
    for (size_t i = r0; i < r1; i++) {
        const float *s = jb->s + i * jb->lds;
        float *p = mode & OPK_SK_PLAN ? jb->p + i * jb->ldp : NULL;
        if (!(mode & OPK_SK_UPDATE)) {
            jb->r[i] = row_check(s, jb->g, m, vb, jb->f[i], p);
            continue;
        }
        int check = (mode & OPK_SK_CHECK) != 0;
        if (jb->la[i] == -INFINITY) { /* zero mass: see the scalar reference */
            if (check)
                jb->r[i] = row_check(s, jb->g, m, vb, jb->f[i], NULL);
            jb->fnew[i] = -INFINITY;
            continue;
        }
        float fo = jb->f[i], *r = &jb->r[i], M;
        if (check) /* one iteration in check_every: clean may stay a variable */
            M = unit ? sweep_max(1, clean, 1, s, jb->g, m, vb, fo, tbuf, r)
                     : sweep_max(1, clean, 0, s, jb->g, m, vb, fo, tbuf, r);
        else if (unit) /* not clean: clean went to rows_pipelined */
            M = sweep_max(0, 0, 1, s, jb->g, m, vb, fo, tbuf, r);
        else
            M = clean ? sweep_max(0, 1, 0, s, jb->g, m, vb, fo, tbuf, r)
                      : sweep_max(0, 0, 0, s, jb->g, m, vb, fo, tbuf, r);
        const float *t = unit ? s : tbuf;
        const float sum = M == -INFINITY
                              ? 0.0f
                              : sweep_sum(t, jb->g, m, M,
                                          i + 1 < r1 ? s + jb->lds : NULL);
        const float f = new_f(jb->la[i], M, sum);
        jb->fnew[i] = f;
        sweep_cmax(t, cmax, m, f);
    }
}

/* Column pass, the chunk of c <= 16 columns at c0: sum += E(fl(fl(t + f)
 * - cmax)), with one L2 prefetch of the row `ahead`. cmax_j is the maximum
 * of the column's fl(t + f) (sweep 3), so the argument is <= 0 (or NaN):
 * v_E_le0. */
ALWAYS_INLINE void col_chunk(int unit, const float *s, const float *cm,
                             const float *ahead, size_t c0, size_t c, VF vb,
                             VF vf, float *sum)
{
    v_prefetch_l2(ahead + c0);
    for (size_t o = 0; o < SK_NV; o++) {
        const size_t n = sub_c(c, o), j = c0 + o * VL;
        if (!n)
            break;
        VF sv = v_loadu_c(s + j, n);
        VF u = v_add(unit ? sv : v_mul(vb, sv), vf);
        VF e = v_E_le0(v_sub(u, v_loadu_c(cm + j, n)));
        v_store_a(sum + j, v_add(v_load_a(sum + j), e));
    }
}

/* The column pass over one row's w columns: full chunks with a constant
 * width, then the tail. */
ALWAYS_INLINE void col_row(int unit, const float *s, const float *cm,
                           const float *ahead, size_t w, VF vb, VF vf,
                           float *sum)
{
    size_t c = 0;
    for (; c + 16 <= w; c += 16)
        col_chunk(unit, s, cm, ahead, c, 16, vb, vf, sum);
    if (c < w)
        col_chunk(unit, s, cm, ahead, c, w - c, vb, vf, sum);
}

void SK_NAME(opk_sinkhorn_cols)(const opk_sinkhorn_job *jb, size_t c0,
                                size_t c1, float *scratch)
{
    const size_t w = c1 - c0;
    const float *cm = jb->cmax + c0;
    const VF vb = v_set1(jb->beta);
    const int unit = jb->beta == 1.0f; /* t = fl(1 * s) = s */
    float *sum = scratch;
    for (size_t c = 0; c < w; c += VL)
        v_store_a(sum + c, v_zero());
    for (size_t i = 0; i < jb->rows; i++) {
        const float fi = jb->f[i];
        if (fi == -INFINITY) /* as the scalar reference: adds +0 or is */
            continue;        /* discarded */
        const float *s = jb->s + i * jb->lds + c0;
        /* Four rows ahead into L2, one line per 16 floats: memory keeps streaming. */
        const float *ahead = i + 4 < jb->rows ? s + 4 * jb->lds : s;
        const VF vf = v_set1(fi);
        if (unit) /* a constant in each instance */
            col_row(1, s, cm, ahead, w, vb, vf, sum);
        else
            col_row(0, s, cm, ahead, w, vb, vf, sum);
    }
    const VF ninf = v_set1(-INFINITY);
    for (size_t c = 0; c < w; c += VL) {
        size_t n = w - c < VL ? w - c : VL;
        VF M = v_loadu_c(cm + c, n), lb = v_loadu_c(jb->lb + c0 + c, n);
        VF lgs = v_Lg(v_load_a(sum + c));
        /* opk_sinkhorn_g, lane by lane */
        VF lse = v_blend(v_cmp_eq_oq(M, ninf), v_add(M, lgs), ninf);
        VF g = v_blend(v_cmp_eq_oq(lb, ninf), v_sub(lb, lse), ninf);
        v_storeu_c(jb->g + c0 + c, g, n);
    }
}
