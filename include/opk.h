/* opk — portable operator kernels: softmax/Sinkhorn normalization, Chebyshev
 * graph propagation and damped attention, bit-identical on every backend.
 *
 * The contract (math, order of operations, hashes) is SPEC.md. Every entry
 * point returns an opk_status; on an argument error nothing is written to the
 * outputs and opk_ctx_last_error() says which argument is wrong. */
#ifndef OPK_H
#define OPK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OPK_VERSION_MAJOR 0
#define OPK_VERSION_MINOR 1
#define OPK_VERSION_PATCH 0
#define OPK_VERSION_STRING "0.1.0"
/* Encoded as MAJOR*10000 + MINOR*100 + PATCH, for #if comparisons. */
#define OPK_VERSION_NUMBER \
    (OPK_VERSION_MAJOR * 10000 + OPK_VERSION_MINOR * 100 + OPK_VERSION_PATCH)

#if defined(_WIN32) && defined(OPK_SHARED_BUILD)
#define OPK_API __declspec(dllexport)
#elif defined(__GNUC__)
#define OPK_API __attribute__((visibility("default")))
#else
#define OPK_API
#endif

/* The version of the library actually linked (may differ from the header). */
OPK_API const char *opk_version(void);

/* ---- Status ------------------------------------------------------------ */

typedef enum opk_status {
    OPK_OK = 0,
    OPK_ERR_INVALID_ARG = 1, /* bad pointer, shape, ld, parameter, overlap */
    OPK_ERR_NOMEM = 2,       /* an allocation failed */
    OPK_ERR_UNSUPPORTED = 3, /* backend not compiled in or not usable here */
    OPK_ERR_BACKEND = 4,     /* device failure; the context stays usable */
    OPK_ERR_INFEASIBLE = 5,  /* e.g. Sinkhorn marginals that cannot be met */
    OPK_ERR_IO = 6           /* a file could not be read or is malformed */
} opk_status;

/* Short name of a status ("OPK_ERR_INVALID_ARG"); never NULL. */
OPK_API const char *opk_status_str(opk_status s);

/* ---- Backends ---------------------------------------------------------- */

typedef enum opk_backend {
    OPK_BACKEND_AUTO = 0, /* OPK_BACKEND env var, else the best CPU ISA */
    OPK_BACKEND_SCALAR = 1,
    OPK_BACKEND_AVX2 = 2,
    OPK_BACKEND_AVX512 = 3,
    OPK_BACKEND_NEON = 4,
    OPK_BACKEND_OPENCL = 5
} opk_backend;
#define OPK_BACKEND_COUNT 6

/* "auto", "scalar", "avx2", "avx512", "neon", "opencl"; "?" if out of range. */
OPK_API const char *opk_backend_name(opk_backend b);
/* Parses a backend name as accepted by OPK_BACKEND ("avx2", "opencl:0:1"). */
OPK_API opk_status opk_backend_parse(const char *s, opk_backend *b,
                                     int *cl_platform, int *cl_device);
/* 1 if the backend is compiled in and usable on this machine, else 0. */
OPK_API int opk_backend_available(opk_backend b);
/* Why a backend is not usable (empty string if it is). */
OPK_API const char *opk_backend_unavailable_reason(opk_backend b);

/* This machine as opk sees it (for reports such as `opk info`). */
typedef struct opk_cpu_info {
    char model[64];     /* brand string, e.g. "AMD EPYC 9R14" */
    char arch[16];      /* "x86_64", "aarch64" */
    char features[256]; /* space-separated, only those usable (OS state on) */
} opk_cpu_info;
OPK_API void opk_cpu_describe(opk_cpu_info *info);

/* ---- Contexts ---------------------------------------------------------- */

typedef struct opk_config {
    opk_backend backend; /* OPK_BACKEND_AUTO by default */
    int num_threads;     /* 0: OPK_NUM_THREADS, else all online cores */
    int cl_platform;     /* OpenCL platform/device index (opencl backend) */
    int cl_device;
} opk_config;

typedef struct opk_ctx opk_ctx;

OPK_API opk_config opk_config_default(void);
/* cfg may be NULL (defaults). On failure *ctx is NULL and
 * opk_ctx_last_error(NULL) explains why. */
OPK_API opk_status opk_ctx_create(const opk_config *cfg, opk_ctx **ctx);
OPK_API void opk_ctx_destroy(opk_ctx *ctx);
OPK_API opk_backend opk_ctx_backend(const opk_ctx *ctx);
OPK_API int opk_ctx_num_threads(const opk_ctx *ctx);
/* One-line explanation of the last failed call made by this thread with this
 * context (NULL: with no context, e.g. opk_fill); "" if none. The string
 * stays valid until this thread's next failing call. */
OPK_API const char *opk_ctx_last_error(const opk_ctx *ctx);

/* ---- Matrices ---------------------------------------------------------- */

/* Row-major float matrix view with leading dimension ld >= cols (elements). */
typedef struct opk_mat {
    float *data;
    size_t rows, cols, ld;
} opk_mat;

typedef struct opk_cmat {
    const float *data;
    size_t rows, cols, ld;
} opk_cmat;

static inline opk_cmat opk_cmat_of(opk_mat m)
{
    opk_cmat c = {m.data, m.rows, m.cols, m.ld};
    return c;
}

/* ---- Softmax (SPEC 3.1) ------------------------------------------------ */

typedef enum opk_axis { OPK_ROWS = 0, OPK_COLS = 1 } opk_axis;

#define OPK_LOG 1u /* flag: log-softmax */

/* Y = softmax(beta * X) along axis. X and Y may be the same buffer (same ld). */
OPK_API opk_status opk_softmax(opk_ctx *ctx, opk_cmat X, opk_mat Y, float beta,
                               opk_axis axis, unsigned flags);

/* ---- Hashes and canonical inputs (SPEC 4) ------------------------------ */

/* R(seed, k): the canonical random 64-bit word (splitmix64 of seed+(k+1)*phi). */
OPK_API uint64_t opk_rand(uint64_t seed, uint64_t k);
/* XXH3-64 (seed 0) of the rows x cols elements, row-major, little-endian,
 * every NaN hashed as 0x7fc00000. */
OPK_API opk_status opk_hash(opk_cmat M, uint64_t *hash);
/* M[k] = lo + (hi - lo) * u_k, k the row-major index ignoring ld. */
OPK_API opk_status opk_fill(uint64_t seed, float lo, float hi, opk_mat M);


/* ---- Damped attention (SPEC 3.4) --------------------------------------- */

/* The normalization A = Normalize(S) of the scores S = Q K^T * beta/sqrt(d). */
typedef enum opk_norm {
    OPK_NORM_SOFTMAX = 0,  /* row-stochastic, online (no n x m matrix) */
    OPK_NORM_SINKHORN = 1, /* bistochastic: sinkhorn_iters half-steps */
    OPK_NORM_LINEAR = 2,   /* DIFFormer-simple, O(n d dv), beta ignored */
    OPK_NORM_SIGMOID = 3   /* DIFFormer-advanced, row-normalized sigmoid */
} opk_norm;

struct opk_csr; /* the sparse operator type of opk_cheb (SPEC 2, 3.3) */

typedef struct opk_attention_opts {
    float beta;         /* score scale: gamma = beta / sqrt(d); default 1 */
    float tau;          /* damping in [0, 1]: O = (1-tau) H + tau (...); 1 */
    opk_norm norm;      /* default OPK_NORM_SOFTMAX */
    int sinkhorn_iters; /* half-steps (>= 1) in sinkhorn mode; default 3 */
    int linear_global_norm; /* linear mode: one Frobenius norm for all of Q
                             * (and of K) instead of row norms (0 or 1) */
    /* Optional graph term G = sum_k c_k T_k(L~) V (SPEC 3.3), mixed in as
     * O = (1-tau) H + tau ((1-lambda_g) A V + lambda_g G); needs n = m. */
    const struct opk_csr *graph; /* n x n operator; NULL: no graph term */
    float lmin, lmax;            /* its spectrum bounds, lmin < lmax */
    const float *cheb_c;         /* cheb_K + 1 coefficients */
    int cheb_K;                  /* polynomial order, >= 0 */
    float lambda_g;              /* graph weight in [0, 1]; ignored without
                                  * a graph (SPEC: lambda_g = 0 then) */
} opk_attention_opts;

/* beta 1, tau 1, softmax, 3 Sinkhorn half-steps, row norms, no graph. */
OPK_API opk_attention_opts opk_attention_opts_default(void);

/* O = (1-tau) H + tau Normalize(Q K^T beta/sqrt(d)) V  [+ graph term].
 * Q n x d, K m x d, V m x dv, H n x dv or NULL (then H = V, needs n = m),
 * O n x dv; opts NULL gives the defaults. O must not overlap any input.
 * Memory beyond O: softmax/sigmoid O((n + m)(d + dv)); sinkhorn the n x m
 * score matrix besides; linear O(m + n + d dv); the graph term three n x dv
 * blocks. A zero row of Q or K in linear mode is an OPK_ERR_INVALID_ARG. */
OPK_API opk_status opk_attention(opk_ctx *ctx, opk_cmat Q, opk_cmat K,
                                 opk_cmat V, const opk_cmat *H,
                                 const opk_attention_opts *opts, opk_mat O);
/* ---- Sinkhorn (SPEC 3.2) ----------------------------------------------- */

typedef struct opk_sinkhorn_opts {
    int max_iter;    /* >= 1; default 1000 */
    float tol;       /* absolute row-marginal L1 error; < 0: 1e-6 * sum(a) */
    int check_every; /* >= 1; the error is checked every so many iterations
                        (and after the last one); default 10 */
} opk_sinkhorn_opts;

typedef struct opk_sinkhorn_info {
    int iterations; /* full iterations done (row update + column update) */
    float err;      /* row-marginal L1 error at the last check */
    int converged;  /* 1 if err <= tol at a check, else 0 (not an error) */
} opk_sinkhorn_info;

/* {max_iter 1000, tol -1 (i.e. 1e-6 * sum(a)), check_every 10}. */
OPK_API opk_sinkhorn_opts opk_sinkhorn_opts_default(void);

/* Log-domain Sinkhorn: potentials f (n) and g (m) such that
 * P_ij = exp(beta*S_ij + f_i + g_j) has row sums a and column sums b.
 *
 * S is n x m; t_ij = beta*S_ij must not be NaN or +inf (-inf forbids the
 * pair). a (n floats) and b (m floats) are finite nonnegative masses with
 * equal sums (relative difference <= 1e-4); NULL means a_i = 1 and
 * b_j = n/m (bistochastic when n = m). opts NULL: opk_sinkhorn_opts_default().
 *
 * Outputs, each optional (NULL: not wanted): f, g; P, an n x m plan
 * P_ij = exp(t_ij + f_i + g_j), which may be S itself (in place, same ld) but
 * must not overlap anything else; info.
 *
 * Errors (nothing is written): OPK_ERR_INVALID_ARG for bad shapes, opts,
 * beta, a NaN/negative/infinite mass or a NaN/+inf t_ij (the message names
 * the index); OPK_ERR_INFEASIBLE when sum(a) and sum(b) differ, or when a row
 * (column) of positive mass has no finite score in a column (row) of positive
 * mass. Not converging within max_iter is not an error: see info.
 * Memory: O(n + threads * m) floats of scratch; S is never copied. */
OPK_API opk_status opk_sinkhorn(opk_ctx *ctx, opk_cmat S, float beta,
                                const float *a, const float *b,
                                const opk_sinkhorn_opts *opts, float *f,
                                float *g, const opk_mat *P,
                                opk_sinkhorn_info *info);

#ifdef __cplusplus
}
#endif
#endif /* OPK_H */
