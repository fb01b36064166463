/* opk_rand, opk_fill and opk_hash against values computed independently:
 * published splitmix64 outputs, float rounding via double (exact for one
 * +,- or * of floats), and XXH3 over a buffer built here. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <xxhash.h>

#include "check.h"
#include "opk.h"

static float fill_ref(uint64_t seed, uint64_t k, float lo, float hi)
{
    double u = (double)(opk_rand(seed, k) >> 40) / 16777216.0;
    float w = (float)((double)hi - (double)lo);
    float wu = (float)((double)w * (double)(float)u);
    return (float)((double)lo + (double)wu);
}

int main(void)
{
    /* splitmix64 from state 0: its first outputs are well known. */
    CHECK(opk_rand(0, 0) == UINT64_C(0xe220a8397b1dcdaf), "R(0,0)");
    CHECK(opk_rand(0, 1) == UINT64_C(0x6e789e6aa1b965f4), "R(0,1)");
    CHECK(opk_rand(0, 2) == UINT64_C(0x06c45d188009454f), "R(0,2)");
    /* R(seed, k) is the stream started at seed: R(s, k+1) == R(s + phi, k). */
    CHECK(opk_rand(12345, 7) == opk_rand(12345 + UINT64_C(0x9E3779B97F4A7C15), 6),
          "R stream");

    /* fill: element k of a padded matrix, ld ignored. */
    enum { R = 5, C = 7, LD = 9 };
    float m[R * LD];
    for (int i = 0; i < R * LD; i++)
        m[i] = -1234.5f;
    opk_mat M = {m, R, C, LD};
    CHECK_ST(opk_fill(42, -6.0f, 9.0f, M), OPK_OK);
    int bad = 0;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < LD; j++) {
            float want = j < C ? fill_ref(42, (uint64_t)(i * C + j), -6.0f, 9.0f)
                               : -1234.5f;
            bad += memcmp(&m[i * LD + j], &want, 4) != 0;
        }
    CHECK(bad == 0, "%d fill elements differ", bad);
    float one;
    opk_mat O = {&one, 1, 1, 1};
    opk_fill(7, 0.5f, 1.75f, O);
    CHECK(one >= 0.5f && one < 1.75f, "fill range: %g", one);
    CHECK_ST(opk_fill(1, NAN, 1.0f, O), OPK_ERR_INVALID_ARG);
    CHECK_ST(opk_fill(1, 0.0f, INFINITY, O), OPK_ERR_INVALID_ARG);
    opk_mat Bad = {NULL, 2, 2, 2};
    CHECK_ST(opk_fill(1, 0.0f, 1.0f, Bad), OPK_ERR_INVALID_ARG);
    CHECK(strstr(opk_ctx_last_error(NULL), "NULL") != NULL, "message: %s",
          opk_ctx_last_error(NULL));

    /* hash: XXH3-64 of the little-endian elements, padding skipped, NaN
     * canonical. Put NaNs with odd payloads in. */
    uint32_t odd_nan = 0xffc12345u, neg_nan = 0xff800001u;
    memcpy(&m[1 * LD + 2], &odd_nan, 4);
    memcpy(&m[3 * LD + 6], &neg_nan, 4);
    unsigned char bytes[R * C * 4];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            uint32_t u;
            memcpy(&u, &m[i * LD + j], 4);
            if (isnan(m[i * LD + j]))
                u = 0x7fc00000u;
            for (int b = 0; b < 4; b++)
                bytes[(i * C + j) * 4 + b] = (unsigned char)(u >> (8 * b));
        }
    uint64_t h = 0;
    CHECK_ST(opk_hash((opk_cmat){m, R, C, LD}, &h), OPK_OK);
    CHECK(h == XXH3_64bits(bytes, sizeof bytes), "hash %016llx",
          (unsigned long long)h);
    /* Padding contents do not matter. */
    for (int i = 0; i < R; i++)
        m[i * LD + C] = (float)i;
    uint64_t h2 = 0;
    opk_hash((opk_cmat){m, R, C, LD}, &h2);
    CHECK(h2 == h, "padding changed the hash");
    /* Empty matrix: the hash of zero bytes (known XXH3 value). */
    uint64_t he = 0;
    CHECK_ST(opk_hash((opk_cmat){NULL, 0, 3, 3}, &he), OPK_OK);
    CHECK(he == UINT64_C(0x2d06800538d394c2), "empty hash %016llx",
          (unsigned long long)he);
    /* A larger matrix crosses the internal buffer boundary. */
    size_t big = 3000;
    float *bm = malloc(big * sizeof(float));
    opk_fill(9, -1.0f, 1.0f, (opk_mat){bm, 1, big, big});
    uint64_t hb;
    opk_hash((opk_cmat){bm, 1, big, big}, &hb);
    CHECK(hb == XXH3_64bits(bm, big * 4), "large hash");
    free(bm);
    CHECK_ST(opk_hash((opk_cmat){m, R, C, LD}, NULL), OPK_ERR_INVALID_ARG);
    /* A valid empty matrix of 2^62 rows and 0 columns: answered at once,
     * not by a loop over its rows (fuzz_api's finding: it hung). */
    {
        float one = 5.0f;
        opk_mat E = {&one, SIZE_MAX / 4 + 1, 0, 0};
        CHECK_ST(opk_fill(3, 0.0f, 1.0f, E), OPK_OK);
        uint64_t he = 0, h0 = 1;
        opk_cmat Z = {NULL, 0, 0, 0};
        CHECK_ST(opk_hash(opk_cmat_of(E), &he), OPK_OK);
        CHECK_ST(opk_hash(Z, &h0), OPK_OK);
        CHECK(he == h0 && one == 5.0f, "rows x 0 hashes as empty, writes nothing");
    }
    return check_summary("test_hash_fill");
}
