/* Canonical random words, canonical inputs and output hashes (SPEC 4). */
#include <string.h>
#include <xxhash.h>

#include "common.h"

uint64_t opk_rand(uint64_t seed, uint64_t k)
{
    uint64_t z = seed + (k + 1) * UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

opk_status opk_fill(uint64_t seed, float lo, float hi, opk_mat M)
{
    opk_span sp;
    opk_status st = opk_check_mat(NULL, "fill: M", M.data, M.rows, M.cols, M.ld, &sp);
    if (st)
        return st;
    if (!(lo == lo && hi == hi) || lo - lo != 0 || hi - hi != 0)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG,
                        "fill: lo (%g) and hi (%g) must be finite", lo, hi);
    const float w = hi - lo; /* one rounding, as the spec writes it */
    uint64_t k = 0;
    /* rows x 0 is valid for any rows (2^62 too): no loop over its rows. */
    for (size_t i = 0; M.cols && i < M.rows; i++)
        for (size_t j = 0; j < M.cols; j++, k++) {
            float u = (float)(opk_rand(seed, k) >> 40) * 0x1p-24f;
            float wu = w * u;
            M.data[i * M.ld + j] = lo + wu;
        }
    return OPK_OK;
}

/* Element bits as hashed: little-endian, NaN canonicalized. */
static uint32_t hash_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        u = 0x7fc00000u;
    return u;
}

opk_status opk_hash(opk_cmat M, uint64_t *hash)
{
    opk_span sp;
    opk_status st = opk_check_mat(NULL, "hash: M", M.data, M.rows, M.cols, M.ld, &sp);
    if (st)
        return st;
    if (!hash)
        return opk_fail(NULL, OPK_ERR_INVALID_ARG, "hash: output is NULL");
    XXH3_state_t *s = XXH3_createState();
    if (!s)
        return opk_fail(NULL, OPK_ERR_NOMEM, "hash: out of memory");
    XXH3_64bits_reset(s);
    unsigned char buf[4096];
    size_t fill = 0;
    for (size_t i = 0; M.cols && i < M.rows; i++) /* rows x 0: nothing */
        for (size_t j = 0; j < M.cols; j++) {
            uint32_t u = hash_bits(M.data[i * M.ld + j]);
            buf[fill++] = (unsigned char)u;
            buf[fill++] = (unsigned char)(u >> 8);
            buf[fill++] = (unsigned char)(u >> 16);
            buf[fill++] = (unsigned char)(u >> 24);
            if (fill == sizeof buf) {
                XXH3_64bits_update(s, buf, fill);
                fill = 0;
            }
        }
    XXH3_64bits_update(s, buf, fill);
    *hash = XXH3_64bits_digest(s);
    XXH3_freeState(s);
    return OPK_OK;
}

const char *opk_status_str(opk_status s)
{
    switch (s) {
    case OPK_OK: return "OPK_OK";
    case OPK_ERR_INVALID_ARG: return "OPK_ERR_INVALID_ARG";
    case OPK_ERR_NOMEM: return "OPK_ERR_NOMEM";
    case OPK_ERR_UNSUPPORTED: return "OPK_ERR_UNSUPPORTED";
    case OPK_ERR_BACKEND: return "OPK_ERR_BACKEND";
    case OPK_ERR_INFEASIBLE: return "OPK_ERR_INFEASIBLE";
    case OPK_ERR_IO: return "OPK_ERR_IO";
    }
    return "OPK_ERR_UNKNOWN";
}

const char *opk_version(void) { return OPK_VERSION_STRING; }
