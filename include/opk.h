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
 * (float additions), explicit zeros are kept, pattern entries are 1. Errors
 * are OPK_ERR_IO with "path:line: what" in opk_ctx_last_error(NULL); *A is
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
 * computed in double and rounded to float once; a self-loop counts once in
 * its degree. Every non-isolated row stores its diagonal and its columns
 * ascending; an isolated node (degree 0) has an empty row, and an entry
 * pointing to one is kept as -0. */
OPK_API opk_status opk_laplacian(opk_csr A, opk_laplacian_kind kind,
                                 opk_csr *L);

/* An upper bound of the spectrum of L (SPEC 3.3). A symmetric L (checked,
 * relative tolerance 1e-6): Lanczos in double from a fixed pseudo-random
 * start, min(n, 100) steps (fully reorthogonalized while the basis fits in
 * 64 MiB), largest Ritz value theta; result theta + 0.01|theta|, but never
 * above the Gershgorin bound max_i (L_ii + sum_j!=i |L_ij|). A non-symmetric
 * L (e.g. random walk): the Gershgorin bound. Rounded up to float. */
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
 * opk_cheb. c is untouched on errors. */
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
