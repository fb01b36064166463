/* Damped attention (SPEC 3.4) on every usable backend:
 * - each mode against a double-precision evaluation (materialized softmax,
 *   sigmoid weights, Sinkhorn half-steps, the linear formula) within the
 *   bounds stated in tools/refdouble.h;
 * - tau = 0 gives O = H bit for bit (and O = V with H = NULL);
 * - 1 Sinkhorn half-step agrees with softmax mode within both bounds;
 * - linear mode with linear_global_norm reproduces the DIFFormer reference
 *   formula (evaluated here in double, independently of tools/);
 * - bit identity with the scalar reference on randomized shapes (n != m,
 *   d and dv around multiples of 16, 1, padded ld, misaligned pointers,
 *   scores that overflow to +-inf or NaN, whole key blocks at -inf);
 * - identical results for 1, 2, 3 and 7 threads;
 * - argument errors: status, a message naming the argument, O untouched. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "backends.h"
#include "check.h"
#include "opk.h"
#include "refdouble.h"

static opk_backend backends[OPK_BACKEND_COUNT];
static int nbackends;

static const char *const norm_name[] = {"softmax", "sinkhorn", "linear",
                                        "sigmoid"};

/* Buffers of one problem: Q n x d, K m x d, V m x dv, H and O n x dv, all
 * with ld = cols + pad and `off` floats of misalignment. */
typedef struct prob {
    size_t n, m, d, dv, pad, off;
    float *qb, *kb, *vb, *hb, *ob;
    opk_cmat Q, K, V, H;
    opk_mat O;
} prob;

static float *alloc_mat(size_t rows, size_t cols, size_t pad, size_t off,
                        float **base)
{
    size_t len = rows * (cols + pad) + off + 1;
    *base = malloc(len * sizeof(float));
    for (size_t i = 0; i < len; i++)
        (*base)[i] = NAN; /* padding: never read */
    return *base + off;
}

static void prob_init(prob *p, size_t n, size_t m, size_t d, size_t dv,
                      size_t pad, size_t off, uint64_t seed)
{
    p->n = n, p->m = m, p->d = d, p->dv = dv, p->pad = pad, p->off = off;
    float *q = alloc_mat(n, d, pad, off, &p->qb);
    float *k = alloc_mat(m, d, pad, off, &p->kb);
    float *v = alloc_mat(m, dv, pad, off, &p->vb);
    float *h = alloc_mat(n, dv, pad, off, &p->hb);
    float *o = alloc_mat(n, dv, pad, off, &p->ob);
    opk_mat Q = {q, n, d, d + pad}, K = {k, m, d, d + pad};
    opk_mat V = {v, m, dv, dv + pad}, H = {h, n, dv, dv + pad};
    opk_fill(seed, -1.0f, 2.0f, Q);
    opk_fill(seed + 1, -1.0f, 2.0f, K);
    opk_fill(seed + 2, -1.5f, 1.0f, V);
    opk_fill(seed + 3, -0.5f, 2.0f, H);
    p->Q = opk_cmat_of(Q), p->K = opk_cmat_of(K);
    p->V = opk_cmat_of(V), p->H = opk_cmat_of(H);
    p->O = (opk_mat){o, n, dv, dv + pad};
}

static void prob_free(prob *p)
{
    free(p->qb), free(p->kb), free(p->vb), free(p->hb), free(p->ob);
}

/* Fills O (and its padding) with a marker, to see what a call writes. */
static void mark_o(prob *p, float x)
{
    for (size_t i = 0; i < p->n * p->O.ld; i++)
        p->O.data[i] = x;
}

/* One call, O (and its padding) marked first: a backend that returns OK
 * without writing all of O cannot pass on an earlier call's output. */
static opk_status run(opk_backend b, int threads, prob *p, int with_h,
                      const opk_attention_opts *op)
{
    mark_o(p, -7.0f);
    opk_ctx *ctx = test_ctx(b, threads);
    opk_status st = opk_attention(ctx, p->Q, p->K, p->V, with_h ? &p->H : NULL,
                                  op, p->O);
    if (st)
        fprintf(stderr, "%s: %s\n", opk_backend_name(b), opk_ctx_last_error(ctx));
    opk_ctx_destroy(ctx);
    return st;
}

static ref_attn_in ref_of(const prob *p, int with_h,
                          const opk_attention_opts *op)
{
    ref_attn_in a = {p->Q.data, p->K.data, p->V.data,
                     with_h ? p->H.data : NULL, p->Q.ld, p->K.ld, p->V.ld,
                     p->H.ld, p->n, p->m, p->d, p->dv, (int)op->norm, op->beta,
                     op->tau, op->sinkhorn_iters, op->linear_global_norm, NULL,
                     0, 0.0f, 0.0};
    return a;
}

static int have_norm(opk_norm nm)
{
    /* Sinkhorn mode comes with the Sinkhorn kernels. */
    prob p;
    prob_init(&p, 2, 2, 2, 2, 0, 0, 1);
    opk_attention_opts op = opk_attention_opts_default();
    op.norm = nm;
    opk_ctx *ctx = test_ctx(OPK_BACKEND_SCALAR, 1);
    opk_status st = opk_attention(ctx, p.Q, p.K, p.V, NULL, &op, p.O);
    opk_ctx_destroy(ctx);
    prob_free(&p);
    return st != OPK_ERR_UNSUPPORTED;
}

static void test_against_double(void)
{
    static const size_t shapes[][4] = {
        {1, 1, 1, 1},    {3, 5, 2, 7},     {17, 33, 19, 23}, {64, 64, 16, 16},
        {65, 130, 24, 40}, {40, 200, 1, 9}, {9, 300, 64, 1},  {130, 70, 33, 65}};
    static const float betas[] = {1.0f, 2.5f, -0.7f};
    static const float taus[] = {1.0f, 0.3f, 0.85f};
    for (int nm = 0; nm < 4; nm++) {
        if (!have_norm((opk_norm)nm))
            continue;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            prob p;
            prob_init(&p, shapes[s][0], shapes[s][1], shapes[s][2],
                      shapes[s][3], s % 3, s % 2, 500 + s);
            opk_attention_opts op = opk_attention_opts_default();
            op.norm = (opk_norm)nm;
            op.beta = betas[s % 3];
            op.tau = taus[(s + (size_t)nm) % 3];
            op.sinkhorn_iters = 1 + (int)(s % 4);
            op.linear_global_norm = (int)(s & 1);
            int with_h = s % 4 != 3 || p.n != p.m ? 1 : 0;
            for (int bi = 0; bi < nbackends; bi++) {
                CHECK_ST(run(backends[bi], 0, &p, with_h, &op), OPK_OK);
                ref_attn_in a = ref_of(&p, with_h, &op);
                double tol, e = ref_attention_error(&a, p.O.data, p.O.ld, &tol);
                CHECK(e <= tol, "%s %s %zux%zu d %zu dv %zu: error %.3g above "
                      "bound %.3g", opk_backend_name(backends[bi]),
                      norm_name[nm], p.n, p.m, p.d, p.dv, e, tol);
                int pad_ok = 1;
                for (size_t i = 0; i < p.n; i++)
                    for (size_t f = p.dv; f < p.O.ld; f++)
                        pad_ok &= p.O.data[i * p.O.ld + f] == -7.0f;
                CHECK(pad_ok, "%s %s: the padding of O was written",
                      opk_backend_name(backends[bi]), norm_name[nm]);
            }
            prob_free(&p);
        }
    }
}

/* SPEC 3.4's defaults: beta 1, tau 1 (plain attention), softmax, 3
 * Sinkhorn half-steps; row norms and no graph term, as opk.h says. */
static void test_defaults(void)
{
    opk_attention_opts o = opk_attention_opts_default();
    CHECK(o.beta == 1.0f && o.tau == 1.0f && o.norm == OPK_NORM_SOFTMAX &&
              o.sinkhorn_iters == 3 && o.linear_global_norm == 0 &&
              o.graph == NULL && o.cheb_c == NULL,
          "defaults: beta %g tau %g norm %d iters %d global %d graph %p",
          (double)o.beta, (double)o.tau, (int)o.norm, o.sinkhorn_iters,
          o.linear_global_norm, (const void *)o.graph);
}

/* tau = 0: O = fma(0, B, fl(1 * H)) = H exactly for finite inputs. */
static void test_tau_zero(void)
{
    for (int nm = 0; nm < 4; nm++) {
        if (!have_norm((opk_norm)nm))
            continue;
        for (int with_h = 0; with_h < 2; with_h++) {
            prob p;
            prob_init(&p, 37, 37, 19, 21, 1, 1, 77 + (uint64_t)nm);
            opk_attention_opts op = opk_attention_opts_default();
            op.norm = (opk_norm)nm;
            op.tau = 0.0f;
            const opk_cmat *want = with_h ? &p.H : &p.V;
            for (int bi = 0; bi < nbackends; bi++) {
                CHECK_ST(run(backends[bi], 0, &p, with_h, &op), OPK_OK);
                int same = 1;
                for (size_t i = 0; i < p.n; i++)
                    same &= !memcmp(p.O.data + i * p.O.ld,
                                    want->data + i * want->ld, p.dv * 4);
                CHECK(same, "%s %s tau 0 %s: O != %s",
                      opk_backend_name(backends[bi]), norm_name[nm],
                      with_h ? "with H" : "H = NULL", with_h ? "H" : "V");
            }
            prob_free(&p);
        }
    }
}

/* One Sinkhorn half-step is a row softmax: the two modes agree within the
 * sum of their bounds. */
static void test_sinkhorn_one_half_step(void)
{
    if (!have_norm(OPK_NORM_SINKHORN))
        return;
    prob p;
    prob_init(&p, 50, 90, 20, 24, 0, 0, 4321);
    float *o2 = malloc(p.n * p.dv * sizeof(float));
    opk_attention_opts op = opk_attention_opts_default();
    op.tau = 0.6f;
    op.beta = 1.7f;
    for (int bi = 0; bi < nbackends; bi++) {
        op.norm = OPK_NORM_SOFTMAX;
        CHECK_ST(run(backends[bi], 0, &p, 1, &op), OPK_OK);
        ref_attn_in a = ref_of(&p, 1, &op);
        double tol_s, tol_k;
        double e = ref_attention_error(&a, p.O.data, p.O.ld, &tol_s);
        CHECK(e <= tol_s, "%s: softmax mode %.3g above its bound %.3g",
              opk_backend_name(backends[bi]), e, tol_s);
        for (size_t i = 0; i < p.n; i++)
            memcpy(o2 + i * p.dv, p.O.data + i * p.O.ld, p.dv * 4);
        op.norm = OPK_NORM_SINKHORN;
        op.sinkhorn_iters = 1;
        CHECK_ST(run(backends[bi], 0, &p, 1, &op), OPK_OK);
        a = ref_of(&p, 1, &op);
        e = ref_attention_error(&a, p.O.data, p.O.ld, &tol_k);
        CHECK(e <= tol_k, "%s: 1 Sinkhorn half-step %.3g above its bound %.3g",
              opk_backend_name(backends[bi]), e, tol_k);
        double worst = 0.0, scale = 3.5; /* max|V| + max|H| <= 1.5 + 2 */
        for (size_t i = 0; i < p.n; i++)
            for (size_t f = 0; f < p.dv; f++)
                worst = fmax(worst, fabs((double)o2[i * p.dv + f] -
                                         (double)p.O.data[i * p.O.ld + f]));
        CHECK(worst / scale <= tol_s + tol_k,
              "%s: 1 Sinkhorn half-step vs softmax: %.3g above %.3g",
              opk_backend_name(backends[bi]), worst / scale, tol_s + tol_k);
    }
    free(o2);
    prob_free(&p);
}

/* DIFFormer's full_attention_conv (simple kernel), one head, in double:
 * qs /= ||qs||_F, ks /= ||ks||_F, num = qs (ks^T vs) + sum_l vs_l,
 * den = qs . sum_l ks_l + N, out = num / den (N = number of nodes). */
static void difformer_simple(const prob *p, double *out)
{
    const size_t n = p->n, d = p->d, dv = p->dv;
    double fq = 0, fk = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < d; t++) {
            double a = p->Q.data[i * p->Q.ld + t], b = p->K.data[i * p->K.ld + t];
            fq += a * a, fk += b * b;
        }
    fq = sqrt(fq), fk = sqrt(fk);
    double *kvs = calloc(d * dv, sizeof(double)), *vsum = calloc(dv, sizeof(double));
    double *ksum = calloc(d, sizeof(double));
    for (size_t l = 0; l < n; l++)
        for (size_t t = 0; t < d; t++) {
            double k = p->K.data[l * p->K.ld + t] / fk;
            ksum[t] += k;
            for (size_t f = 0; f < dv; f++)
                kvs[t * dv + f] += k * p->V.data[l * p->V.ld + f];
        }
    for (size_t l = 0; l < n; l++)
        for (size_t f = 0; f < dv; f++)
            vsum[f] += p->V.data[l * p->V.ld + f];
    for (size_t i = 0; i < n; i++) {
        double den = (double)n;
        for (size_t t = 0; t < d; t++)
            den += p->Q.data[i * p->Q.ld + t] / fq * ksum[t];
        for (size_t f = 0; f < dv; f++) {
            double num = vsum[f];
            for (size_t t = 0; t < d; t++)
                num += p->Q.data[i * p->Q.ld + t] / fq * kvs[t * dv + f];
            out[i * dv + f] = num / den;
        }
    }
    free(kvs), free(vsum), free(ksum);
}

static void test_difformer_global_norm(void)
{
    prob p;
    prob_init(&p, 300, 300, 24, 20, 2, 0, 999);
    double *ref = malloc(p.n * p.dv * sizeof(double));
    difformer_simple(&p, ref);
    opk_attention_opts op = opk_attention_opts_default();
    op.norm = OPK_NORM_LINEAR;
    op.linear_global_norm = 1;
    ref_attn_in a = ref_of(&p, 1, &op);
    double *B = malloc(p.n * p.dv * sizeof(double)), cb;
    CHECK(ref_attention_B(&a, B, &cb) == 0, "linear reference failed");
    double vmax = 1.5, tol = cb * 0x1p-24 * vmax;
    for (int bi = 0; bi < nbackends; bi++) {
        CHECK_ST(run(backends[bi], 0, &p, 1, &op), OPK_OK); /* tau = 1 */
        double worst = 0.0, rdiff = 0.0;
        for (size_t i = 0; i < p.n; i++)
            for (size_t f = 0; f < p.dv; f++) {
                worst = fmax(worst, fabs((double)p.O.data[i * p.O.ld + f] -
                                         ref[i * p.dv + f]));
                rdiff = fmax(rdiff, fabs(B[i * p.dv + f] - ref[i * p.dv + f]));
            }
        CHECK(worst <= tol, "%s: global-norm linear vs DIFFormer: %.3g above "
              "%.3g", opk_backend_name(backends[bi]), worst, tol);
        CHECK(rdiff <= 1e-12, "tools' linear reference vs DIFFormer: %.3g", rdiff);
    }
    /* Row norms are a different operator: they must not match it. */
    op.linear_global_norm = 0;
    CHECK_ST(run(OPK_BACKEND_SCALAR, 0, &p, 1, &op), OPK_OK);
    double worst = 0.0;
    for (size_t i = 0; i < p.n; i++)
        for (size_t f = 0; f < p.dv; f++)
            worst = fmax(worst, fabs((double)p.O.data[i * p.O.ld + f] -
                                     ref[i * p.dv + f]));
    CHECK(worst > 10 * tol, "row norms match DIFFormer's global norm (%.3g)",
          worst);
    free(ref), free(B);
    prob_free(&p);
}

/* Rows of Q or K scaled so that scores overflow. seed mod 4: 0 +-inf
 * scores; 1 the first 70 keys hugely negative, so rows of huge q see whole
 * key blocks of -inf first (skipped by the online softmax) and later finite
 * or +-inf blocks; 2 NaN scores (a NaN in K, or inf - inf in a dot); 3 both
 * 0 and 1. */
static void add_specials(prob *p, uint64_t seed)
{
    float *q = (float *)p->Q.data, *k = (float *)p->K.data;
    int kind = (int)(seed % 4);
    for (size_t i = 0; i < p->n; i++)
        if (opk_rand(seed, i) % 3 == 0)
            for (size_t t = 0; t < p->d; t++)
                q[i * p->Q.ld + t] = 1e30f; /* the signs of k decide */
    for (size_t j = 0; j < p->m; j++) {
        uint64_t r = opk_rand(seed + 1, j);
        float *kj = k + j * p->K.ld;
        if ((kind == 1 || kind == 3) && j < 70)
            for (size_t t = 0; t < p->d; t++)
                kj[t] = -1e30f;
        else if ((kind == 0 || kind == 3) && r % 9 == 0)
            for (size_t t = 0; t < p->d; t++)
                kj[t] = (r >> 8) % 3 ? -1e30f : 1e30f;
        else if (kind == 2 && r % 17 == 0) {
            kj[0] = (r >> 8) % 2 ? NAN : 1e30f;
            kj[p->d - 1] = -1e30f; /* with kj[0] = 1e30: inf - inf if d > 1 */
        }
    }
}

static int same_bits(const prob *p, const float *ref, const char *what)
{
    for (size_t i = 0; i < p->n; i++)
        for (size_t f = 0; f < p->dv; f++) {
            float a = ref[i * p->dv + f], b = p->O.data[i * p->O.ld + f];
            if (memcmp(&a, &b, 4) && !(isnan(a) && isnan(b))) {
                fprintf(stderr, "%s: first difference at (%zu, %zu): scalar "
                        "%a (%.9g), got %a (%.9g)\n", what, i, f, a, a, b, b);
                return 0;
            }
        }
    return 1;
}

static void test_bit_identity_random(void)
{
    static const size_t dims[] = {1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65,
                                  100, 127, 129, 200};
    const size_t nd = sizeof dims / sizeof dims[0];
    static const float betas[] = {1.0f, 0.5f, -1.7f, 3.0f, 1e-3f, 0.0f};
    static const float taus[] = {1.0f, 0.3f, 0.0f, 0.77f};
    int modes[4], nmodes = 0;
    for (int nm = 0; nm < 4; nm++)
        if (have_norm((opk_norm)nm))
            modes[nmodes++] = nm;
    for (uint64_t t = 0; t < 160; t++) {
        uint64_t r = opk_rand(8642, t);
        size_t n = dims[r % nd], m = dims[(r >> 4) % nd];
        size_t d = dims[(r >> 8) % nd], dv = dims[(r >> 12) % nd];
        int nm = modes[(r >> 16) % (uint64_t)nmodes];
        int specials = nm != OPK_NORM_LINEAR && (r >> 20) % 3 == 0;
        int with_h = (r >> 24) % 4 != 0;
        if (!with_h)
            m = n;
        prob p;
        prob_init(&p, n, m, d, dv, (r >> 28) % 4, (r >> 32) % 4, t);
        if (specials)
            add_specials(&p, t);
        opk_attention_opts op = opk_attention_opts_default();
        op.norm = (opk_norm)nm;
        op.beta = betas[(r >> 36) % 6];
        op.tau = taus[(r >> 40) % 4];
        op.sinkhorn_iters = 1 + (int)((r >> 44) % 4);
        op.linear_global_norm = (int)((r >> 48) & 1);
        float *ref = malloc(n * dv * sizeof(float));
        CHECK_ST(run(OPK_BACKEND_SCALAR, 1, &p, with_h, &op), OPK_OK);
        for (size_t i = 0; i < n; i++)
            memcpy(ref + i * dv, p.O.data + i * p.O.ld, dv * 4);
        for (int bi = 1; bi < nbackends; bi++) {
            CHECK_ST(run(backends[bi], 0, &p, with_h, &op), OPK_OK);
            char what[200];
            snprintf(what, sizeof what,
                     "%s case %llu: %s n %zu m %zu d %zu dv %zu pad %zu off "
                     "%zu beta %g tau %g H %d specials %d",
                     opk_backend_name(backends[bi]), (unsigned long long)t,
                     norm_name[nm], n, m, d, dv, p.pad, p.off, (double)op.beta,
                     (double)op.tau, with_h, specials);
            CHECK(same_bits(&p, ref, what), "%s", what);
        }
        free(ref);
        prob_free(&p);
    }
}

/* Wide V (dv > 256: the OpenCL fused kernel takes several passes over the
 * keys, one per 256 features) and d > 32 (its K staging in chunks), every
 * mode: bits equal to the scalar reference on every backend. */
static void test_wide_v(void)
{
    for (int nm = 0; nm < 4; nm++) {
        if (!have_norm((opk_norm)nm))
            continue;
        prob p;
        prob_init(&p, 11, 130, 70, 300, 1, 1, 555 + (uint64_t)nm);
        opk_attention_opts op = opk_attention_opts_default();
        op.norm = (opk_norm)nm;
        op.tau = 0.6f;
        float *ref = malloc(p.n * p.dv * sizeof(float));
        CHECK_ST(run(OPK_BACKEND_SCALAR, 1, &p, 1, &op), OPK_OK);
        for (size_t i = 0; i < p.n; i++)
            memcpy(ref + i * p.dv, p.O.data + i * p.O.ld, p.dv * 4);
        for (int bi = 1; bi < nbackends; bi++) {
            CHECK_ST(run(backends[bi], 0, &p, 1, &op), OPK_OK);
            char what[120];
            snprintf(what, sizeof what, "%s wide V %s",
                     opk_backend_name(backends[bi]), norm_name[nm]);
            CHECK(same_bits(&p, ref, what), "%s", what);
        }
        free(ref);
        prob_free(&p);
    }
}

/* Every kind of special scores on a fixed shape (3 key blocks, rows in
 * blocks of 4 and alone), both fused modes, positive and negative beta:
 * bits equal to the scalar reference; with kind 1 and beta > 0 the rows of
 * huge q skip the first block and still give finite results. */
static void test_special_scores(void)
{
    static const float betas[] = {1.0f, -0.5f};
    static const int modes[] = {OPK_NORM_SOFTMAX, OPK_NORM_SIGMOID};
    for (uint64_t kind = 0; kind < 4; kind++)
        for (int bt = 0; bt < 2; bt++)
            for (int md = 0; md < 2; md++) {
                prob p;
                prob_init(&p, 23, 150, 5, 19, 1, 1, 100 + kind);
                add_specials(&p, 100 + kind);
                opk_attention_opts op = opk_attention_opts_default();
                op.norm = (opk_norm)modes[md];
                op.beta = betas[bt];
                op.tau = 0.5f;
                float *ref = malloc(p.n * p.dv * sizeof(float));
                CHECK_ST(run(OPK_BACKEND_SCALAR, 1, &p, 1, &op), OPK_OK);
                for (size_t i = 0; i < p.n; i++)
                    memcpy(ref + i * p.dv, p.O.data + i * p.O.ld, p.dv * 4);
                if (kind == 1 && bt == 0 && md == 0) {
                    int finite = 1, huge_rows = 0;
                    for (size_t i = 0; i < p.n; i++) {
                        huge_rows += p.Q.data[i * p.Q.ld] == 1e30f;
                        for (size_t f = 0; f < p.dv; f++)
                            finite &= isfinite(ref[i * p.dv + f]);
                    }
                    CHECK(finite && huge_rows > 2, "skipped blocks: finite %d, "
                          "%d rows of huge q", finite, huge_rows);
                }
                for (int bi = 1; bi < nbackends; bi++) {
                    CHECK_ST(run(backends[bi], 0, &p, 1, &op), OPK_OK);
                    char what[120];
                    snprintf(what, sizeof what, "%s specials kind %d beta %g %s",
                             opk_backend_name(backends[bi]), (int)kind,
                             (double)op.beta, norm_name[modes[md]]);
                    CHECK(same_bits(&p, ref, what), "%s", what);
                }
                free(ref);
                prob_free(&p);
            }
}

static void test_threads(void)
{
    static const int threads[] = {1, 2, 3, 7};
    for (int nm = 0; nm < 4; nm++) {
        if (!have_norm((opk_norm)nm))
            continue;
        prob p;
        prob_init(&p, 301, nm == OPK_NORM_LINEAR ? 70000 : 260, 40, 36, 1, 0, 31);
        opk_attention_opts op = opk_attention_opts_default();
        op.norm = (opk_norm)nm;
        op.tau = 0.7f;
        for (int bi = 0; bi < nbackends; bi++) {
            uint64_t h0 = 0;
            for (int t = 0; t < 4; t++) {
                CHECK_ST(run(backends[bi], threads[t], &p, 1, &op), OPK_OK);
                uint64_t h;
                opk_hash(opk_cmat_of(p.O), &h);
                if (t == 0)
                    h0 = h;
                CHECK(h == h0, "%s %s: %d threads give %016llx, 1 thread "
                      "%016llx", opk_backend_name(backends[bi]), norm_name[nm],
                      threads[t], (unsigned long long)h, (unsigned long long)h0);
            }
        }
        prob_free(&p);
    }
}

/* A graph term for n = rows * cols nodes: the symmetric-normalized
 * Laplacian of the canonical grid, lmin 0, lmax 2, K + 1 coefficients. */
typedef struct graph {
    opk_csr L;
    float c[16];
} graph;

static void graph_init(graph *g, size_t rows, size_t cols, size_t extra,
                       size_t K, uint64_t seed, opk_attention_opts *op,
                       float lambda_g)
{
    opk_csr A;
    CHECK_ST(opk_graph_grid(rows, cols, extra, seed, &A), OPK_OK);
    CHECK_ST(opk_laplacian(A, OPK_LAPLACIAN_SYMMETRIC, &g->L), OPK_OK);
    opk_csr_free(&A);
    opk_fill(seed + 1, -1.0f, 0.5f, (opk_mat){g->c, 1, K + 1, K + 1});
    op->graph = &g->L;
    op->lmin = 0.0f;
    op->lmax = 2.0f;
    op->cheb_c = g->c;
    op->cheb_K = (int)K;
    op->lambda_g = lambda_g;
}

/* G as opk_cheb gives it on the scalar backend, dense n x dv. */
static float *graph_term(const prob *p, const opk_attention_opts *op)
{
    float *G = malloc(p->n * p->dv * sizeof(float));
    opk_ctx *ctx = test_ctx(OPK_BACKEND_SCALAR, 1);
    CHECK_ST(opk_cheb(ctx, *op->graph, op->lmin, op->lmax, op->cheb_c,
                      (size_t)op->cheb_K, p->V, (opk_mat){G, p->n, p->dv, p->dv}),
             OPK_OK);
    opk_ctx_destroy(ctx);
    return G;
}

/* Every mode with a graph term: against double (with G checked against the
 * double recurrence), bit identity with scalar for 1 and 3 threads, and
 * lambda_g = 1, tau = 1 giving G itself. */
static void test_graph_term(void)
{
    static const size_t shapes[][5] = {/* rows cols extra d dv */
                                       {6, 7, 5, 19, 23}, {8, 9, 0, 16, 1},
                                       {1, 13, 3, 1, 17}, {10, 10, 30, 33, 40}};
    static const float taus[] = {0.3f, 1.0f, 0.0f, 0.85f};
    static const float lgs[] = {0.4f, 0.0f, 1.0f, 0.25f};
    for (int nm = 0; nm < 4; nm++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            size_t n = shapes[s][0] * shapes[s][1];
            prob p;
            prob_init(&p, n, n, shapes[s][3], shapes[s][4], s % 2, s % 3,
                      900 + s);
            graph gr;
            opk_attention_opts op = opk_attention_opts_default();
            graph_init(&gr, shapes[s][0], shapes[s][1], shapes[s][2],
                       3 + 2 * s, 77 + s, &op, lgs[(s + (size_t)nm) % 4]);
            op.norm = (opk_norm)nm;
            op.tau = taus[s];
            op.beta = 1.3f;
            float *G = graph_term(&p, &op), *ref = malloc(n * p.dv * 4);
            double tol;
            double gr_err = ref_cheb_error(gr.L.row_ptr, gr.L.col_idx,
                                           gr.L.val, n, 0.0f, 2.0f, gr.c,
                                           (size_t)op.cheb_K, p.V.data,
                                           p.V.ld, G, p.dv, p.dv, &tol);
            CHECK(gr_err <= tol, "graph term vs double: %.3g > %.3g", gr_err,
                  tol);
            for (int bi = 0; bi < nbackends; bi++)
                for (int th = 1; th <= 3; th += 2) {
                    CHECK_ST(run(backends[bi], th, &p, 1, &op), OPK_OK);
                    if (bi == 0 && th == 1) {
                        ref_attn_in a = ref_of(&p, 1, &op);
                        a.g = G, a.ldg = p.dv, a.lambda_g = op.lambda_g;
                        a.g_ratio = gr_err / tol;
                        double t2, e = ref_attention_error(&a, p.O.data,
                                                           p.O.ld, &t2);
                        CHECK(e <= t2, "%s with graph, shape %zu: error %.3g "
                              "above %.3g", norm_name[nm], s, e, t2);
                        for (size_t i = 0; i < n; i++)
                            memcpy(ref + i * p.dv, p.O.data + i * p.O.ld,
                                   p.dv * 4);
                        continue;
                    }
                    char what[120];
                    snprintf(what, sizeof what, "%s %s graph shape %zu, %d "
                             "threads", opk_backend_name(backends[bi]),
                             norm_name[nm], s, th);
                    CHECK(same_bits(&p, ref, what), "%s", what);
                }
            /* lambda_g = 1, tau = 1: O = fma(1, G, fma(0, B, 0 H)) = G. */
            op.tau = 1.0f, op.lambda_g = 1.0f;
            CHECK_ST(run(backends[nbackends - 1], 0, &p, 1, &op), OPK_OK);
            int same = 1;
            for (size_t i = 0; i < n; i++)
                for (size_t f = 0; f < p.dv; f++)
                    same &= p.O.data[i * p.O.ld + f] == G[i * p.dv + f];
            CHECK(same, "%s: lambda_g = 1, tau = 1 is not the graph term",
                  norm_name[nm]);
            free(G), free(ref);
            opk_csr_free(&gr.L);
            prob_free(&p);
        }
}

/* An argument error: the status, a message naming `word`, O untouched. */
static void expect_error(opk_ctx *ctx, opk_cmat Q, opk_cmat K, opk_cmat V,
                         const opk_cmat *H, const opk_attention_opts *op,
                         opk_mat O, opk_status want, const char *word,
                         const float *obuf, size_t nfloats, const char *what)
{
    float *before = malloc(nfloats * 4);
    memcpy(before, obuf, nfloats * 4);
    opk_status st = opk_attention(ctx, Q, K, V, H, op, O);
    CHECK(st == want, "%s: got %s, want %s", what, opk_status_str(st),
          opk_status_str(want));
    const char *msg = opk_ctx_last_error(ctx);
    CHECK(strstr(msg, word) != NULL, "%s: message '%s' does not name '%s'",
          what, msg, word);
    CHECK(!memcmp(before, obuf, nfloats * 4), "%s: output was written", what);
    free(before);
}

static void test_argument_errors(void)
{
    enum { N = 6, M = 6, D = 4, DV = 5 };
    static float q[N * D], k[M * D], v[M * DV], h[N * DV], o[N * DV + 8];
    for (int i = 0; i < N * D; i++)
        q[i] = (float)(i % 5) - 2.0f, k[i] = (float)(i % 3) - 1.0f;
    for (int i = 0; i < M * DV; i++)
        v[i] = (float)i, h[i] = -(float)i;
    for (int i = 0; i < N * DV + 8; i++)
        o[i] = 42.0f;
    opk_cmat Q = {q, N, D, D}, K = {k, M, D, D}, V = {v, M, DV, DV};
    opk_cmat H = {h, N, DV, DV};
    opk_mat O = {o, N, DV, DV};
    const size_t no = N * DV + 8;
    for (int bi = 0; bi < nbackends; bi++) {
        opk_ctx *ctx = test_ctx(backends[bi], 0);
        opk_attention_opts op = opk_attention_opts_default(), bad;
        CHECK_ST(opk_attention(NULL, Q, K, V, &H, &op, O), OPK_ERR_INVALID_ARG);
        CHECK(strstr(opk_ctx_last_error(NULL), "ctx") != NULL, "NULL ctx");
        expect_error(ctx, (opk_cmat){NULL, N, D, D}, K, V, &H, &op, O,
                     OPK_ERR_INVALID_ARG, "Q", o, no, "NULL Q");
        expect_error(ctx, Q, (opk_cmat){k, M, D, D - 1}, V, &H, &op, O,
                     OPK_ERR_INVALID_ARG, "K: ld", o, no, "K ld < cols");
        expect_error(ctx, Q, K, (opk_cmat){NULL, M, DV, DV}, &H, &op, O,
                     OPK_ERR_INVALID_ARG, "V", o, no, "NULL V");
        expect_error(ctx, Q, K, V, &(opk_cmat){NULL, N, DV, DV}, &op, O,
                     OPK_ERR_INVALID_ARG, "H", o, no, "NULL H");
        expect_error(ctx, Q, K, V, &H, &op, (opk_mat){NULL, N, DV, DV},
                     OPK_ERR_INVALID_ARG, "O", o, no, "NULL O");
        expect_error(ctx, Q, (opk_cmat){k, M, D - 1, D}, V, &H, &op, O,
                     OPK_ERR_INVALID_ARG, "K has 3 columns", o, no, "K cols");
        expect_error(ctx, Q, K, (opk_cmat){v, M - 1, DV, DV}, &H, &op, O,
                     OPK_ERR_INVALID_ARG, "V has 5 rows", o, no, "V rows");
        expect_error(ctx, Q, K, V, &H, &op, (opk_mat){o, N, DV - 1, DV},
                     OPK_ERR_INVALID_ARG, "O is 6x4", o, no, "O shape");
        expect_error(ctx, Q, K, V, &(opk_cmat){h, N - 1, DV, DV}, &op, O,
                     OPK_ERR_INVALID_ARG, "H is 5x5", o, no, "H shape");
        expect_error(ctx, Q, (opk_cmat){k, M - 1, D, D},
                     (opk_cmat){v, M - 1, DV, DV}, NULL, &op, O,
                     OPK_ERR_INVALID_ARG, "H = V needs n = m", o, no,
                     "H NULL with n != m");
        expect_error(ctx, (opk_cmat){q, N, SIZE_MAX / 2, SIZE_MAX / 2}, K, V,
                     &H, &op, O, OPK_ERR_INVALID_ARG, "overflow", o, no,
                     "overflowing Q");
        bad = op, bad.beta = NAN;
        expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG, "beta", o,
                     no, "NaN beta");
        bad = op, bad.beta = INFINITY;
        expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG, "beta", o,
                     no, "inf beta");
        bad = op, bad.tau = 1.5f;
        expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG, "tau", o,
                     no, "tau > 1");
        bad = op, bad.tau = -0.1f;
        expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG, "tau", o,
                     no, "tau < 0");
        bad = op, bad.tau = NAN;
        expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG, "tau", o,
                     no, "NaN tau");
        bad = op, bad.norm = (opk_norm)9;
        expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG, "norm", o,
                     no, "bad norm");
        bad = op, bad.sinkhorn_iters = 0;
        expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                     "sinkhorn_iters", o, no, "0 half-steps");
        bad = op, bad.linear_global_norm = 2;
        expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                     "linear_global_norm", o, no, "bad global flag");
        bad = op, bad.lambda_g = 1.01f;
        expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                     "lambda_g", o, no, "lambda_g > 1");
        bad = op, bad.lambda_g = NAN;
        expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                     "lambda_g", o, no, "NaN lambda_g");
        /* O overlapping each input. */
        expect_error(ctx, Q, K, V, &(opk_cmat){o + 1, N, DV, DV}, &op, O,
                     OPK_ERR_INVALID_ARG, "overlaps H", o, no, "O on H");
        expect_error(ctx, Q, K, (opk_cmat){o, M, DV, DV}, &H, &op, O,
                     OPK_ERR_INVALID_ARG, "overlaps V", o, no, "O on V");
        expect_error(ctx, (opk_cmat){o + 2, N, D, D}, K, V, &H, &op, O,
                     OPK_ERR_INVALID_ARG, "overlaps Q", o, no, "O on Q");
        expect_error(ctx, Q, (opk_cmat){o + 3, M, D, D}, V, &H, &op, O,
                     OPK_ERR_INVALID_ARG, "overlaps K", o, no, "O on K");
        /* m = 0 or d = 0 with rows to write. */
        expect_error(ctx, Q, (opk_cmat){k, 0, D, D}, (opk_cmat){v, 0, DV, DV},
                     &H, &op, O, OPK_ERR_INVALID_ARG, "m = 0", o, no, "m = 0");
        expect_error(ctx, (opk_cmat){q, N, 0, 0}, (opk_cmat){k, M, 0, 0}, V,
                     &H, &op, O, OPK_ERR_INVALID_ARG, "d must be >= 1", o, no,
                     "d = 0");
        /* Linear mode: a zero row of Q or K (row norms); all-zero with the
         * global norm. */
        float qz[N * D], kz[M * D];
        memcpy(qz, q, sizeof qz), memcpy(kz, k, sizeof kz);
        for (int t = 0; t < D; t++)
            qz[3 * D + t] = 0.0f, kz[5 * D + t] = -0.0f;
        bad = op, bad.norm = OPK_NORM_LINEAR;
        expect_error(ctx, (opk_cmat){qz, N, D, D}, K, V, &H, &bad, O,
                     OPK_ERR_INVALID_ARG, "row 3 of Q", o, no, "zero Q row");
        expect_error(ctx, Q, (opk_cmat){kz, M, D, D}, V, &H, &bad, O,
                     OPK_ERR_INVALID_ARG, "row 5 of K", o, no, "zero K row");
        bad.linear_global_norm = 1; /* one zero row is fine globally */
        CHECK_ST(opk_attention(ctx, (opk_cmat){qz, N, D, D}, K, V, &H, &bad, O),
                 OPK_OK);
        memset(kz, 0, sizeof kz);
        expect_error(ctx, Q, (opk_cmat){kz, M, D, D}, V, &H, &bad, O,
                     OPK_ERR_INVALID_ARG, "K is all zero", o, no, "zero K");
        /* The graph term. */
        {
            graph gr;
            opk_attention_opts gop = opk_attention_opts_default();
            graph_init(&gr, 2, 3, 0, 3, 5, &gop, 0.5f);
            CHECK_ST(opk_attention(ctx, Q, K, V, &H, &gop, O), OPK_OK);
            expect_error(ctx, Q, (opk_cmat){k, M - 1, D, D},
                         (opk_cmat){v, M - 1, DV, DV}, &H, &gop, O,
                         OPK_ERR_INVALID_ARG, "needs n = m", o, no,
                         "graph with n != m");
            opk_csr L2 = gr.L;
            L2.rows = L2.cols = 5;
            bad = gop, bad.graph = &L2;
            expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                         "opts.graph", o, no, "graph of the wrong size");
            int64_t rp[7];
            memcpy(rp, gr.L.row_ptr, sizeof rp);
            rp[3] = rp[2] - 1;
            L2 = gr.L, L2.row_ptr = rp;
            expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                         "monotone", o, no, "invalid CSR");
            bad = gop, bad.lmax = bad.lmin;
            expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                         "opts.lmin", o, no, "lmin = lmax");
            bad = gop, bad.lmax = NAN;
            expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                         "opts.lmin", o, no, "NaN lmax");
            /* Finite bounds whose lmax + lmin (or 2 / (lmax - lmin))
             * overflow: rejected by the option check, also for an empty O. */
            bad = gop, bad.lmin = 3.0e38f, bad.lmax = 3.2e38f;
            expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                         "opts.lmin", o, no, "lmax + lmin overflows");
            bad = gop, bad.lmin = 0.0f, bad.lmax = 1e-40f;
            expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                         "opts.lmin", o, no, "2 / (lmax - lmin) overflows");
            bad = gop, bad.cheb_K = -1;
            expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                         "opts.cheb_K", o, no, "cheb_K < 0");
            bad = gop, bad.cheb_c = NULL;
            expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                         "opts.cheb_c is NULL", o, no, "cheb_c NULL");
            float cbad[4] = {1.0f, 0.5f, INFINITY, 0.1f};
            bad = gop, bad.cheb_c = cbad;
            expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                         "opts.cheb_c[2]", o, no, "infinite coefficient");
            bad = gop, bad.cheb_c = o + 3; /* inside O */
            expect_error(ctx, Q, K, V, &H, &bad, O, OPK_ERR_INVALID_ARG,
                         "overlaps opts.cheb_c", o, no, "O on cheb_c");
            opk_csr_free(&gr.L);
        }
        /* Zero sizes do nothing; adjacent buffers are fine. */
        CHECK_ST(opk_attention(ctx, (opk_cmat){NULL, 0, D, D}, K, V,
                               &(opk_cmat){NULL, 0, DV, DV}, &op,
                               (opk_mat){NULL, 0, DV, DV}), OPK_OK);
        CHECK_ST(opk_attention(ctx, Q, K, (opk_cmat){v, M, 0, 0},
                               &(opk_cmat){h, N, 0, 0}, &op,
                               (opk_mat){NULL, N, 0, 0}), OPK_OK);
        CHECK_ST(opk_attention(ctx, Q, K, V, &H, NULL, O), OPK_OK);
        opk_ctx_destroy(ctx);
    }
}

/* Without a graph SPEC 3.4 takes lambda_g = 0 (O = fma(tau, B, a1 H)): a
 * lambda_g set without opts.graph changes no bit, on every backend. */
static void test_lambda_g_without_graph(void)
{
    for (int nm = 0; nm < 4; nm++) {
        if (!have_norm((opk_norm)nm))
            continue;
        prob p;
        prob_init(&p, 33, 33, 9, 21, 1, 1, 91 + (uint64_t)nm);
        float *want = malloc(p.n * p.dv * sizeof *want);
        for (int bi = 0; bi < nbackends; bi++) {
            opk_attention_opts op = opk_attention_opts_default();
            op.norm = (opk_norm)nm;
            op.tau = 0.75f;
            CHECK_ST(run(backends[bi], 0, &p, 1, &op), OPK_OK);
            for (size_t i = 0; i < p.n; i++)
                memcpy(want + i * p.dv, p.O.data + i * p.O.ld, p.dv * 4);
            op.lambda_g = 0.5f;
            CHECK_ST(run(backends[bi], 0, &p, 1, &op), OPK_OK);
            char what[120];
            snprintf(what, sizeof what, "%s %s: lambda_g 0.5 without a graph",
                     opk_backend_name(backends[bi]), norm_name[nm]);
            CHECK(same_bits(&p, want, what), "%s changes O", what);
        }
        free(want);
        prob_free(&p);
    }
}

int main(void)
{
    nbackends = test_backends_for(OPK_KERNEL_ATTENTION, backends);
    CHECK(nbackends >= 1 && backends[0] == OPK_BACKEND_SCALAR,
          "the scalar backend must be usable");
    printf("backends:");
    for (int i = 0; i < nbackends; i++)
        printf(" %s", opk_backend_name(backends[i]));
    printf("%s\n", have_norm(OPK_NORM_SINKHORN) ? "" : " (sinkhorn mode not built)");
    test_against_double();
    test_defaults();
    test_tau_zero();
    test_lambda_g_without_graph();
    test_sinkhorn_one_half_step();
    test_difformer_global_norm();
    test_bit_identity_random();
    test_wide_v();
    test_special_scores();
    test_graph_term();
    test_threads();
    test_argument_errors();
    return check_summary("test_attention");
}
