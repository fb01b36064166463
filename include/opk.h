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
    OPK_ERR_BACKEND = 4,     /* device failure; the context stays usable.
                                Outputs may hold part of a result then (a
                                call in chunks, or a failed copy back; an
                                in-place softmax: part of X): argument
                                errors alone promise them untouched */
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
/* Parses a backend name as accepted by OPK_BACKEND ("avx2", "opencl:0:1");
 * the OpenCL indices are decimal digits, 0:0 when not given. */
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

/* The kernels, for asking which backend implements what. */
typedef enum opk_kernel {
    OPK_KERNEL_SOFTMAX = 0,
    OPK_KERNEL_SINKHORN = 1,
    OPK_KERNEL_CHEB = 2,
    OPK_KERNEL_ATTENTION = 3
} opk_kernel;
#define OPK_KERNEL_COUNT 4

/* "softmax", "sinkhorn", "cheb", "attention"; "?" if out of range. */
OPK_API const char *opk_kernel_name(opk_kernel k);
/* 1 if backend b is usable here and implements kernel k (0 for AUTO: ask
 * about the backend a context picked, opk_ctx_backend); a call of a kernel
 * that the context's backend does not implement returns
 * OPK_ERR_UNSUPPORTED (never a fallback to another backend). */
OPK_API int opk_backend_implements(opk_backend b, opk_kernel k);

/* ---- Contexts ---------------------------------------------------------- */

typedef struct opk_config {
    opk_backend backend; /* OPK_BACKEND_AUTO by default */
    int num_threads;     /* 0: OPK_NUM_THREADS, else all online cores;
                            at most 4096 */
    int cl_platform;     /* OpenCL platform/device index (opencl backend,
                            or AUTO with OPK_BACKEND=opencl; OPK_BACKEND=
                            opencl:P:D overrides them); >= 0 */
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

/* ---- OpenCL devices (SPEC 1, 5, 6) ------------------------------------ */

/* One OpenCL device as the ICD loader reports it. Devices are numbered
 * 0..opk_cl_device_count()-1 across all platforms in platform order; `platform`
 * and `device` are the P:D of OPK_BACKEND=opencl:P:D / opk_config. */
typedef struct opk_cl_device_info {
    int index, platform, device;
    char platform_name[128], platform_version[128];
    char name[128], vendor[128];
    char version[128];        /* CL_DEVICE_VERSION */
    char driver_version[128]; /* CL_DRIVER_VERSION */
    char type[16];            /* "GPU", "CPU", "accelerator", "other" */
    unsigned compute_units;
    uint64_t global_mem, local_mem, max_alloc; /* bytes */
    /* CL_DEVICE_SINGLE_FP_CONFIG */
    int fp_denorm, fp_fma, fp_correctly_rounded_divide_sqrt, fp_inf_nan,
        fp_round_to_nearest;
    /* 1 if the device has denormals, fma and correctly rounded divide/sqrt
     * (SPEC 1): it takes part in bitwise conformance. 0: its results are
     * checked against the error bound only ("tolerance only"). The test
     * hook OPK_CL_ASSUME_NO_DENORM=1 clears fp_denorm (and so bitwise). */
    int bitwise;
} opk_cl_device_info;

/* Number of OpenCL devices on all platforms; 0 when there is none or the
 * opencl backend is not compiled in. Enumerated once per process. */
OPK_API int opk_cl_device_count(void);
/* Number of OpenCL platforms (also those without devices). */
OPK_API int opk_cl_platform_count(void);
/* Describes device `index` (0..count-1): OPK_ERR_INVALID_ARG for another
 * index, OPK_ERR_UNSUPPORTED when OpenCL is not compiled in. */
OPK_API opk_status opk_cl_device_describe(int index, opk_cl_device_info *info);
/* Whether ctx's results claim bitwise conformance: 1 for the CPU backends,
 * the device's `bitwise` for opencl, 0 for a NULL ctx. */
OPK_API int opk_ctx_bitwise(const opk_ctx *ctx);


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
    int sinkhorn_iters; /* half-steps in sinkhorn mode; default 3; >= 1 in
                         * every mode (checked) */
    int linear_global_norm; /* linear mode: one Frobenius norm for all of Q
                             * (and of K) instead of row norms (0 or 1) */
    /* Optional graph term G = sum_k c_k T_k(L~) V (SPEC 3.3), mixed in as
     * O = (1-tau) H + tau ((1-lambda_g) A V + lambda_g G); needs n = m. */
    const struct opk_csr *graph; /* n x n operator; NULL: no graph term */
    float lmin, lmax;            /* its spectrum bounds, lmin < lmax */
    const float *cheb_c;         /* cheb_K + 1 coefficients */
    int cheb_K;                  /* polynomial order, >= 0 */
    float lambda_g;              /* graph weight in [0, 1] (checked even
                                  * without a graph, where it has no effect:
                                  * SPEC: lambda_g = 0 then) */
} opk_attention_opts;

/* beta 1, tau 1, softmax, 3 Sinkhorn half-steps, row norms, no graph. */
OPK_API opk_attention_opts opk_attention_opts_default(void);

/* O = (1-tau) H + tau Normalize(Q K^T beta/sqrt(d)) V  [+ graph term].
 * Q n x d, K m x d, V m x dv, H n x dv or NULL (then H = V, needs n = m),
 * O n x dv; opts NULL gives the defaults. O must not overlap any input.
 * Memory beyond O: softmax/sigmoid O((n + m)(d + dv)); sinkhorn the n x m
 * score matrix besides; linear O(m + n + d dv); the graph term three n x dv
 * blocks. OPK_ERR_INVALID_ARG also for m = 0 or d = 0 with n > 0 (rows of
 * O with no keys or no features to score them, whatever tau) and, in
 * linear mode, for a row of Q or K whose computed norm is zero (every
 * square underflows; SPEC 3.4); a row whose dot(q, q) overflows gets the
 * scale fl(1 / inf) = 0, as SPEC's formula says. */
OPK_API opk_status opk_attention(opk_ctx *ctx, opk_cmat Q, opk_cmat K,
                                 opk_cmat V, const opk_cmat *H,
                                 const opk_attention_opts *opts, opk_mat O);
/* ---- Sinkhorn (SPEC 3.2) ----------------------------------------------- */

typedef struct opk_sinkhorn_opts {
    int max_iter;    /* >= 1; default 1000 */
    float tol;       /* absolute row-marginal L1 error, finite; < 0: 1e-6 * sum(a) */
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
/* ---- Sparse graphs and Chebyshev propagation (SPEC 2, 3.3) ------------- */

/* A CSR view (SPEC 2): row i's entries are q = row_ptr[i] .. row_ptr[i+1]-1
 * with columns col_idx[q] and values val[q]. The stored order is the
 * summation order; columns need not be sorted, duplicates are allowed.
 * Valid: rows, cols, nnz >= 0; row_ptr has rows+1 entries, row_ptr[0] = 0,
 * non-decreasing, row_ptr[rows] = nnz; 0 <= col_idx[q] < cols; the arrays
 * may be NULL only when empty (row_ptr when rows = 0, the others when
 * nnz = 0). Invalid views give OPK_ERR_INVALID_ARG. */
typedef struct opk_csr {
    int64_t rows, cols, nnz;
    const int64_t *row_ptr;
    const int32_t *col_idx;
    const float *val;
} opk_csr;

/* Checks a CSR view as every entry point taking one does (the message
 * names the index at fault). ctx may be NULL. */
OPK_API opk_status opk_csr_check(const opk_ctx *ctx, opk_csr A);

/* Matrices that opk allocates (opk_mtx_read, opk_graph_*, opk_laplacian)
 * own their three arrays; release them with opk_csr_free, which also zeroes
 * the view. Never call it on a view of your own arrays. NULL is a no-op. */
OPK_API void opk_csr_free(opk_csr *A);

/* Matrix Market coordinate files (real, integer, pattern; general,
 * symmetric) into a CSR with ascending columns in each row. A symmetric
 * file lists the lower triangle (an entry above the diagonal is an error);
 * its off-diagonal entries are mirrored. Duplicates are summed in file order
 * (float additions; a sum past the float range is an error), explicit zeros
 * are kept, pattern entries are 1. Errors are OPK_ERR_IO with
 * "path:line: what" in opk_ctx_last_error(NULL) ("path: what" where no line
 * is at fault: a file that cannot be opened, an overflowing sum); *A is
 * untouched then. */
OPK_API opk_status opk_mtx_read(const char *path, opk_csr *A);
/* The same from memory: text[0..len) named `name` in messages. */
OPK_API opk_status opk_mtx_parse(const char *text, size_t len, const char *name,
                                 opk_csr *A);

/* Undirected unit-weight graph on n nodes from m edges (u[e], v[e]) into a
 * symmetric CSR with ascending columns: self-loops skipped, duplicates
 * merged (weight stays 1). 0 <= u[e], v[e] < n <= INT32_MAX. */
OPK_API opk_status opk_graph_from_edges(int64_t n, size_t m, const int32_t *u,
                                        const int32_t *v, opk_csr *A);
/* The canonical grid graph of SPEC 4: rows x cols torus (node r*cols + c)
 * plus `extra` edges (R(seed,2e) mod n, R(seed,2e+1) mod n). */
OPK_API opk_status opk_graph_grid(size_t rows, size_t cols, size_t extra,
                                  uint64_t seed, opk_csr *A);

typedef enum opk_laplacian_kind {
    OPK_LAPLACIAN_COMBINATORIAL = 0, /* D - A */
    OPK_LAPLACIAN_SYMMETRIC = 1,     /* I - D^-1/2 A D^-1/2 */
    OPK_LAPLACIAN_RANDOM_WALK = 2    /* I - D^-1 A */
} opk_laplacian_kind;

/* L from a square, symmetric, nonnegative adjacency A (finite values;
 * unsorted rows and duplicates are summed first). Degrees and entries are
 * computed in double and rounded to float once (an entry past the float
 * range is an error); a self-loop counts once in its degree. Every
 * non-isolated row stores its diagonal and its columns ascending; an
 * isolated node (degree 0) has an empty row, and an entry pointing to one
 * is kept as -0. */
OPK_API opk_status opk_laplacian(opk_csr A, opk_laplacian_kind kind,
                                 opk_csr *L);

/* An upper bound of the spectrum of L (SPEC 3.3). A symmetric L (checked,
 * relative tolerance 1e-6): Lanczos in double from a fixed pseudo-random
 * start, min(n, 100) steps (fully reorthogonalized while the basis fits in
 * 64 MiB), largest Ritz value theta; result theta + 0.01|theta|, but never
 * above the Gershgorin bound max_i (L_ii + sum_j!=i |L_ij|). A non-symmetric
 * L (e.g. random walk): the Gershgorin bound. Rounded up to float; a bound
 * past the float range is OPK_ERR_INVALID_ARG. */
OPK_API opk_status opk_lmax(opk_ctx *ctx, opk_csr L, float *lmax);

typedef enum opk_filter {
    OPK_FILTER_HEAT = 0,   /* h(l) = exp(-param * l) */
    OPK_FILTER_LOWPASS = 1 /* h(l) = 1 below param, 0 above, 1/2 at it */
} opk_filter;

typedef enum opk_damping {
    OPK_DAMPING_NONE = 0,
    OPK_DAMPING_JACKSON = 1, /* KPM Jackson kernel, K+2 in the denominators */
    OPK_DAMPING_LANCZOS = 2  /* Lanczos sigma factors, exponent 1 */
} opk_damping;

/* A user filter h(lambda); user is passed through. */
typedef double (*opk_filter_fn)(double lambda, void *user);

/* c[0..K] (K+1 floats): Chebyshev coefficients of h on [lmin, lmax] by
 * Chebyshev-Gauss quadrature with max(K+1, 64) nodes, in double, times the
 * damping factors, rounded to float; c[0] is already halved, ready for
 * opk_cheb. K <= 2^20. c is untouched on errors. */
OPK_API opk_status opk_cheb_coeffs(opk_filter filter, float param, size_t K,
                                   float lmin, float lmax, opk_damping damping,
                                   float *c);
OPK_API opk_status opk_cheb_coeffs_fn(opk_filter_fn h, void *user, size_t K,
                                      float lmin, float lmax,
                                      opk_damping damping, float *c);

/* Y = sum_{k=0..K} c_k T_k(alpha L + gamma I) X (SPEC 3.3): L square n x n
 * with its spectrum in [lmin, lmax] (lmin < lmax), X and Y n x F, c has K+1
 * entries (finite). Y must not overlap X or L's arrays. Memory: two n x F
 * blocks (T_k overwrites T_{k-2} in place), on transparent huge pages when
 * large. Rows are split across threads by stored entries. Identical bits
 * on every backend and thread count. Performance: every stored entry reads
 * a row of X or T at its column, so a large X is best on huge pages too
 * (madvise(MADV_HUGEPAGE)), and a graph numbered for locality (rows near
 * their neighbours) reads far less memory. */
OPK_API opk_status opk_cheb(opk_ctx *ctx, opk_csr L, float lmin, float lmax,
                            const float *c, size_t K, opk_cmat X, opk_mat Y);

#ifdef __cplusplus
}
#endif
#endif /* OPK_H */
