/* Shared by the argument-check harnesses (fuzz_args.c, fuzz_attn_cheb.c,
 * fuzz_graph.c): a reader of the fuzz input, matrices placed in one shared
 * arena (so inputs and outputs may overlap), and CSR operands built from
 * the input with SPEC 7's validity restated. Each harness includes it once
 * (static inline functions: a harness uses what it needs), after <math.h>, <stdint.h>, <stdio.h>, <stdlib.h>,
 * <string.h> and "opk.h". */
#ifndef OPK_FUZZ_HARNESS_H
#define OPK_FUZZ_HARNESS_H

#define ARENA 4096 /* floats */

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;

static inline uint64_t take(rd *r, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v = v << 8 | (r->n ? *r->p : 0);
        if (r->n)
            r->p++, r->n--;
    }
    return v;
}

/* A matrix in the arena. The top bits of the shape byte choose a hostile
 * case (huge ld or rows, NULL data). */
typedef struct fmat {
    float *data;
    size_t rows, cols, ld;
    int in_arena; /* 1: every element lies inside the arena */
} fmat;

static inline int span_end(size_t rows, size_t cols, size_t ld, size_t off, size_t *end)
{
    if (rows == 0 || cols == 0) {
        *end = off;
        return 0;
    }
    size_t n;
    if (__builtin_mul_overflow(rows - 1, ld, &n) || __builtin_add_overflow(n, cols, &n) ||
        __builtin_add_overflow(n, off, &n))
        return -1;
    *end = n;
    return 0;
}

/* Sets in_arena from the current shape (again after changing it). */
static inline void settle(fmat *m, const float *arena)
{
    size_t end, off = m->data ? (size_t)(m->data - arena) : 0;
    m->in_arena = m->data && !span_end(m->rows, m->cols, m->ld, off, &end) &&
                  end <= ARENA && m->ld >= m->cols;
    if (m->rows == 0 || m->cols == 0)
        m->in_arena = m->ld >= m->cols;
}

static inline fmat make_mat(rd *r, float *arena)
{
    fmat m;
    uint8_t mode = (uint8_t)take(r, 1);
    m.rows = take(r, 1) % 40;
    m.cols = take(r, 1) % 70;
    m.ld = m.cols + (size_t)(take(r, 1) % 24) - 4; /* may be < cols */
    size_t off = (size_t)take(r, 2) % ARENA;
    m.data = arena + off;
    switch (mode % 16) {
    case 0: m.ld = SIZE_MAX / 2 + take(r, 1); break;       /* overflow */
    case 1: m.rows = SIZE_MAX / 4 + 1; break;              /* overflow */
    case 2: m.data = NULL; break;                          /* NULL */
    case 3: m.ld = m.cols; break;
    default: break;
    }
    settle(&m, arena);
    return m;
}

/* SPEC 7's "must be rejected" for one matrix (independent of the arena). */
static inline int mat_invalid(const fmat *m)
{
    if (m->ld < m->cols)
        return 1;
    if (m->rows == 0 || m->cols == 0)
        return 0;
    if (!m->data)
        return 1;
    size_t n;
    if (__builtin_mul_overflow(m->rows - 1, m->ld, &n) ||
        __builtin_add_overflow(n, m->cols, &n) || __builtin_mul_overflow(n, 4, &n) ||
        (uintptr_t)m->data + n < (uintptr_t)m->data)
        return 1;
    return 0;
}

static inline int overlap(const fmat *a, const fmat *b)
{
    if (!a->rows || !a->cols || !b->rows || !b->cols)
        return 0;
    /* Addresses as integers: the spans may reach past the arena (only
     * called for matrices whose byte counts do not overflow). */
    uintptr_t a0 = (uintptr_t)a->data, b0 = (uintptr_t)b->data;
    uintptr_t a1 = a0 + 4 * ((a->rows - 1) * a->ld + a->cols);
    uintptr_t b1 = b0 + 4 * ((b->rows - 1) * b->ld + b->cols);
    return a0 < b1 && b0 < a1;
}

/* Marks the elements of m (not its padding) as writable. */
static inline void mark(unsigned char *w, const float *arena, const fmat *m)
{
    if (!m->cols)
        return; /* empty: ld may be anything */
    for (size_t i = 0; i < m->rows; i++)
        memset(w + (m->data - arena) + i * m->ld, 1, m->cols);
}

static opk_ctx *ctxs[OPK_BACKEND_COUNT] __attribute__((unused));
static float pristine[ARENA] __attribute__((unused));

/* The arena of one execution: on the first call, allocates *arena and the
 * written-flags *w and fills pristine = fill(seed, lo, hi) with -inf/NaN
 * every `every` floats; on each call, restores the arena from pristine and
 * clears the flags. */
static void __attribute__((unused))
arena_reset(float **arena, unsigned char **w, uint64_t seed, float lo,
            float hi, size_t every)
{
    if (!*arena) {
        *arena = malloc(ARENA * sizeof **arena);
        *w = malloc(ARENA);
        opk_mat P = {pristine, 1, ARENA, ARENA};
        opk_fill(seed, lo, hi, P);
        for (size_t i = 0; i < ARENA; i += every)
            pristine[i] = i % 2 ? -INFINITY : NAN; /* specials */
    }
    memcpy(*arena, pristine, sizeof pristine);
    memset(*w, 0, ARENA);
}

static inline opk_ctx *pick_ctx(rd *r)
{
    int b = 1 + (int)(take(r, 1) % (OPK_BACKEND_COUNT - 1));
    if (b == OPK_BACKEND_OPENCL || !opk_backend_available((opk_backend)b))
        b = OPK_BACKEND_SCALAR; /* CPU backends only: device calls are slow */
    if (!ctxs[b]) {
        opk_config cfg = opk_config_default();
        cfg.backend = (opk_backend)b;
        cfg.num_threads = 1;
        if (opk_ctx_create(&cfg, &ctxs[b]))
            abort();
    }
    return ctxs[b];
}

static inline void fail(const char *what, opk_status st, opk_ctx *ctx)
{
    fprintf(stderr, "fuzz: %s (status %s: %s)\n", what, opk_status_str(st),
            opk_ctx_last_error(ctx));
    abort();
}

/* A vector of n floats in the arena, or NULL (optional arguments). */
static inline float *make_vec(rd *r, float *arena, size_t n, int *in_arena)
{
    size_t off = (size_t)take(r, 2) % ARENA;
    *in_arena = off + n <= ARENA;
    if ((take(r, 1) & 3) == 0) {
        *in_arena = 1;
        return NULL;
    }
    return arena + off;
}

static inline void mark_vec(unsigned char *w, const float *arena, const float *v, size_t n)
{
    if (v)
        memset(w + (v - arena), 1, n);
}


/* A float parameter: mostly a small integer in [-4, 4], else raw bits
 * (NaN, inf, denormals, huge). */
static inline float take_param(rd *r)
{
    uint32_t bb = (uint32_t)take(r, 4);
    float x;
    if (bb >> 30)
        x = (float)(int)(bb % 9) - 4.0f;
    else
        memcpy(&x, &bb, 4);
    return x;
}

/* ---- CSR operands ---- */

#define CSR_CAP 256 /* entries at most (plus a spare for nnz + 1) */

/* A CSR built from the input, its arrays in `own` storage or inside the
 * arena (then a matrix output may overlap them). */
typedef struct fcsr {
    opk_csr A;
    int valid; /* SPEC 7 */
    size_t m;  /* entries in the arrays (nnz unless changed) */
    int64_t rp[64 + 2];
    int32_t ci[CSR_CAP + 1];
    float v[CSR_CAP + 1];
} fcsr;

/* SPEC 7's CSR rules, restated (cf. fuzz_csr.c), for arrays that really
 * hold rows + 1 and nnz entries whenever the sizes are not rejected first. */
static inline int csr_valid(const opk_csr *A)
{
    if (A->rows < 0 || A->cols < 0 || A->nnz < 0 || A->rows == INT64_MAX ||
        (uint64_t)A->rows + 1 > SIZE_MAX / 8 || (uint64_t)A->nnz > SIZE_MAX / 4)
        return 0;
    if (!A->row_ptr)
        return A->rows == 0 && A->nnz == 0;
    if (A->nnz > 0 && (!A->col_idx || !A->val))
        return 0;
    if (A->row_ptr[0] != 0 || A->row_ptr[A->rows] != A->nnz)
        return 0;
    for (int64_t i = 0; i < A->rows; i++)
        if (A->row_ptr[i + 1] < A->row_ptr[i])
            return 0;
    for (int64_t q = 0; q < A->nnz; q++)
        if (A->col_idx[q] < 0 || A->col_idx[q] >= A->cols)
            return 0;
    return 1;
}

/* Moves array p (bytes, `align`-aligned) into the arena at a fuzzed offset
 * when it fits; returns where it now is. */
static inline void *to_arena(rd *r, float *arena, void *p, size_t bytes, size_t align)
{
    size_t off = ((size_t)take(r, 2) % ARENA) * sizeof(float);
    off -= off % align;
    if ((take(r, 1) & 1) || off + bytes > ARENA * sizeof(float))
        return p;
    memcpy((char *)arena + off, p, bytes);
    return (char *)arena + off;
}

/* An n x n CSR (3 times in 4; else any shape up to 39 x 39): entries as
 * (i, j, w) triples, optionally mirrored (symmetric), rows in input order
 * inside each row (unsorted columns, duplicates); then at most one hostile
 * change; then, with arena != NULL, its arrays possibly moved there. */
static inline void make_csr(rd *r, fcsr *c, int64_t n, float *arena)
{
    uint8_t mode = (uint8_t)take(r, 1);
    int64_t rows = n, cols = n; /* mostly n x n, as the kernels want */
    if ((mode & 3) == 3) {
        rows = (int64_t)(take(r, 1) % 40);
        cols = mode & 8 ? rows : (int64_t)(take(r, 1) % 40);
    }
    if (rows > 64)
        rows = cols = 64;
    int sym = (mode & 4) && rows == cols;
    size_t want = (size_t)take(r, 1) % 96, m = 0;
    int32_t ei[CSR_CAP], ej[CSR_CAP];
    float ew[CSR_CAP];
    for (size_t e = 0; e < want && rows > 0 && cols > 0 && m + 2 <= CSR_CAP; e++) {
        int32_t i = (int32_t)(take(r, 1) % (uint64_t)rows);
        int32_t j = (int32_t)(take(r, 1) % (uint64_t)cols);
        uint8_t wb = (uint8_t)take(r, 1);
        float w = wb < 240 ? (float)(wb % 16) * 0.25f
                  : wb < 244 ? -1.0f : wb < 248 ? NAN : wb < 252 ? INFINITY : 1e30f;
        ei[m] = i, ej[m] = j, ew[m] = w, m++;
        if (sym && i != j)
            ei[m] = j, ej[m] = i, ew[m] = w, m++;
    }
    /* Rows in order, entries of a row in input order. */
    memset(c->rp, 0, sizeof c->rp);
    for (size_t e = 0; e < m; e++)
        c->rp[ei[e] + 1]++;
    for (int64_t i = 0; i < rows; i++)
        c->rp[i + 1] += c->rp[i];
    int64_t pos[64 + 1];
    memcpy(pos, c->rp, sizeof pos);
    for (size_t e = 0; e < m; e++) {
        int64_t q = pos[ei[e]]++;
        c->ci[q] = ej[e], c->v[q] = ew[e];
    }
    c->ci[m] = 0, c->v[m] = 0.0f; /* the spare, for nnz + 1 */
    opk_csr A = {rows, cols, (int64_t)m, c->rp, c->ci, c->v};
    uint8_t h = (uint8_t)take(r, 1);
    switch (h % 48) { /* 13 hostile cases of 48 */
    case 0: c->rp[0] = 1; break;
    case 1:
        if (rows > 1)
            c->rp[1 + take(r, 1) % (uint64_t)(rows - 1)] = (int64_t)m + 1;
        break;
    case 2: A.nnz = (int64_t)m + 1; break;
    case 3: A.nnz = (int64_t)m - 1; break;
    case 4:
        if (m)
            c->ci[take(r, 1) % m] = take(r, 1) & 1 ? -1 : (int32_t)cols;
        break;
    case 5: A.rows = -1 - (int64_t)(take(r, 1) & 1) * (INT64_MAX - 1); break;
    case 6: A.rows = INT64_MAX; break; /* rows + 1 overflows */
    case 7: A.nnz = INT64_MAX; break;  /* bytes overflow */
    case 8: A.row_ptr = NULL; break;
    case 9: A.col_idx = NULL; break;
    case 10: A.val = NULL; break;
    case 11: A.cols = -1; break;
    case 12: A.cols = (int64_t)1 << 40; break; /* valid, not square */
    default: break;
    }
    if (arena) {
        if (A.row_ptr && A.rows >= 0 && A.rows < INT64_MAX)
            A.row_ptr = to_arena(r, arena, c->rp, ((size_t)A.rows + 1) * 8, 8);
        if (A.col_idx && m)
            A.col_idx = to_arena(r, arena, c->ci, (m + 1) * 4, 4);
        if (A.val && m)
            A.val = to_arena(r, arena, c->v, (m + 1) * 4, 4);
    }
    c->A = A;
    c->m = m;
    c->valid = csr_valid(&A);
}

/* Whether the bytes [p, p + pn) and [q, q + qn) meet (never when one is
 * NULL or empty). */
static inline int spans_meet(const void *p, size_t pn, const void *q, size_t qn)
{
    if (!p || !q || !pn || !qn)
        return 0;
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)q;
    return a < b + qn && b < a + pn;
}

/* Whether matrix m's element span meets the bytes [q, q + qn). */
static inline int mat_meets(const fmat *m, const void *q, size_t qn)
{
    if (!m->rows || !m->cols)
        return 0;
    return spans_meet(m->data, 4 * ((m->rows - 1) * m->ld + m->cols), q, qn);
}

#endif
