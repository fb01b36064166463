/* Chebyshev coefficients of a filter (SPEC 3.3): Chebyshev-Gauss quadrature
 * in double, kernel-polynomial-method damping, rounded to float. Host code:
 * libm's cos/exp may differ in the last bits between platforms, which is
 * why golden cases pass coefficients explicitly. */
#include <math.h>
#include <stdlib.h>

#include "common.h"

/* Beyond this the O(N K) quadrature takes minutes; no sensible filter needs it. */
#define OPK_PI 3.14159265358979323846
#define MAX_K ((size_t)1 << 20)

typedef struct filter {
    opk_filter kind;
    double param;
    opk_filter_fn fn;
    void *user;
} filter;

static double eval(const filter *h, double lambda)
{
    if (h->fn)
        return h->fn(lambda, h->user);
    if (h->kind == OPK_FILTER_HEAT)
        return exp(-h->param * lambda);
    return lambda < h->param ? 1.0 : lambda == h->param ? 0.5 : 0.0;
}

/* Damping factor g_k (Weisse et al. 2006, eqs. 71 and 74, N = K+1 moments). */
static double damping(opk_damping d, size_t k, size_t K)
{
    if (d == OPK_DAMPING_JACKSON) {
        double M = (double)K + 2.0, a = OPK_PI / M;
        return ((M - (double)k) * cos(a * (double)k) +
                sin(a * (double)k) / tan(a)) / M;
    }
    if (d == OPK_DAMPING_LANCZOS && k > 0) {
        double x = OPK_PI * (double)k / ((double)K + 1.0);
        return sin(x) / x;
    }
    return 1.0;
}

static opk_status coeffs(const char *what, const filter *h, size_t K,
                         float lmin, float lmax, opk_damping d, float *c)
{
    if (!c)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "%s: c is NULL", what);
    if (K > MAX_K)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "%s: K (%zu) is above %zu", what, K, MAX_K);
    if (!isfinite(lmin) || !isfinite(lmax) || !(lmin < lmax))
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "%s: need finite lmin < lmax (got %g, %g)", what,
                        (double)lmin, (double)lmax);
    if (d != OPK_DAMPING_NONE && d != OPK_DAMPING_JACKSON &&
        d != OPK_DAMPING_LANCZOS)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "%s: damping (%d) is not none, jackson or lanczos",
                        what, (int)d);
    const size_t N = K + 1 > 64 ? K + 1 : 64, P = 4 * N;
    /* cos(k theta_j) = cos(pi k (2j+1) / 2N): an exact integer angle index
     * mod 4N into one table keeps every term accurate for large k. */
    double *tab = opk_calloc(P, sizeof *tab), *hv = opk_calloc(N, sizeof *hv);
    double *acc = opk_calloc(K + 1, sizeof *acc);
    if (!tab || !hv || !acc) {
        opk_free(tab), opk_free(hv), opk_free(acc);
        return opk_fail(NULL, OPK_ERR_NOMEM, "%s: cannot allocate the "
                        "quadrature tables (%zu nodes)", what, N);
    }
    for (size_t m = 0; m < P; m++)
        tab[m] = cos(OPK_PI * (double)m / (double)(2 * N));
    const double a = ((double)lmax - (double)lmin) / 2.0;
    const double b = ((double)lmax + (double)lmin) / 2.0;
    for (size_t j = 0; j < N; j++) {
        double lam = a * tab[2 * j + 1] + b;
        hv[j] = eval(h, lam);
        if (!isfinite(hv[j])) {
            opk_status st = opk_fail(NULL, OPK_ERR_INVALID_ARG,
                                     "%s: the filter is %g at lambda = %.17g "
                                     "(node %zu); it must be finite on "
                                     "[lmin, lmax]",
                                     what, hv[j], lam, j);
            opk_free(tab), opk_free(hv), opk_free(acc);
            return st;
        }
    }
    for (size_t j = 0; j < N; j++) {
        size_t step = 2 * j + 1, idx = 0;
        for (size_t k = 0; k <= K; k++) {
            acc[k] += hv[j] * tab[idx];
            idx += step;
            if (idx >= P)
                idx -= P;
        }
    }
    float *out = opk_calloc(K + 1, sizeof *out);
    opk_status st = out ? OPK_OK : opk_fail(NULL, OPK_ERR_NOMEM,
                                            "%s: cannot allocate %zu "
                                            "coefficients", what, K + 1);
    for (size_t k = 0; k <= K && !st; k++) {
        double ck = acc[k] * (k ? 2.0 : 1.0) / (double)N * damping(d, k, K);
        out[k] = (float)ck;
        if (!isfinite(out[k]))
            st = opk_fail(NULL, OPK_ERR_INVALID_ARG,
                          "%s: coefficient c[%zu] = %g does not fit a float",
                          what, k, ck);
    }
    if (!st)
        for (size_t k = 0; k <= K; k++)
            c[k] = out[k];
    opk_free(tab), opk_free(hv), opk_free(acc), opk_free(out);
    return st;
}

opk_status opk_cheb_coeffs(opk_filter kind, float param, size_t K, float lmin,
                           float lmax, opk_damping d, float *c)
{
    const char *what = "cheb_coeffs";
    if (kind != OPK_FILTER_HEAT && kind != OPK_FILTER_LOWPASS)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "%s: filter (%d) is not heat or lowpass (use "
                        "opk_cheb_coeffs_fn for your own)",
                        what, (int)kind);
    if (!isfinite(param))
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "%s: param (%s %g) must be finite", what,
                        kind == OPK_FILTER_HEAT ? "t" : "cutoff", (double)param);
    filter h = {kind, param, NULL, NULL};
    return coeffs(what, &h, K, lmin, lmax, d, c);
}

opk_status opk_cheb_coeffs_fn(opk_filter_fn fn, void *user, size_t K,
                              float lmin, float lmax, opk_damping d, float *c)
{
    if (!fn)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "cheb_coeffs_fn: h is NULL");
    filter h = {OPK_FILTER_HEAT, 0.0, fn, user};
    return coeffs("cheb_coeffs_fn", &h, K, lmin, lmax, d, c);
}
