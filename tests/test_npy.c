/* The .npy reader and writer: round trips, NumPy-written headers, every
 * malformed form we can think of (each with an error naming the problem),
 * and a deterministic mutation sweep that must never crash. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "npy.h"

static size_t make(unsigned char *buf, int major, const char *header,
                   const void *data, size_t bytes)
{
    size_t hl = strlen(header), off = major == 1 ? 10 : 12;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major, buf[7] = 0;
    buf[8] = (unsigned char)hl, buf[9] = (unsigned char)(hl >> 8);
    if (major != 1)
        buf[10] = buf[11] = 0;
    memcpy(buf + off, header, hl);
    memcpy(buf + off + hl, data, bytes);
    return off + hl + bytes;
}

static void expect_fail(const unsigned char *buf, size_t len, const char *word,
                        const char *what)
{
    npy_array a;
    char err[256] = "";
    int r = npy_parse(buf, len, &a, err, sizeof err);
    CHECK(r != 0, "%s: accepted", what);
    CHECK(strstr(err, word) != NULL, "%s: error '%s' does not say '%s'", what,
          err, word);
    if (!r)
        npy_free(&a);
}

int main(void)
{
    float data[6] = {1, 2, 3, 4, 5, 6};
    unsigned char buf[512];
    npy_array a;
    char err[256];
    /* What numpy.save writes for a (2, 3) float32 array (spaces padding). */
    const char *h23 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
                      "          \n";
    size_t len = make(buf, 1, h23, data, 24);
    CHECK(npy_parse(buf, len, &a, err, sizeof err) == 0, "valid: %s", err);
    CHECK(a.rows == 2 && a.cols == 3 && a.ndim == 2 && a.data[5] == 6.0f,
          "shape/data");
    npy_free(&a);
    len = make(buf, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }\n",
               data, 24);
    CHECK(npy_parse(buf, len, &a, err, sizeof err) == 0, "v2 1-D: %s", err);
    CHECK(a.rows == 1 && a.cols == 6 && a.ndim == 1, "1-D shape");
    npy_free(&a);
    /* A version 1.0 header of 300 bytes: its length needs both bytes. */
    {
        char hl[301];
        const char *d = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        memset(hl, ' ', 299), hl[299] = '\n', hl[300] = 0;
        memcpy(hl, d, strlen(d));
        len = make(buf, 1, hl, data, 24);
        CHECK(npy_parse(buf, len, &a, err, sizeof err) == 0, "300-byte header: %s",
              err);
        CHECK(a.rows == 2 && a.cols == 3 && a.data[5] == 6.0f, "300-byte header data");
        npy_free(&a);
    }
    len = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }\n",
               data, 0);
    CHECK(npy_parse(buf, len, &a, err, sizeof err) == 0, "empty: %s", err);
    npy_free(&a);

    /* Round trip through a file, with a row stride. */
    const char *path = "test_npy_roundtrip.npy";
    float strided[2 * 5] = {1, 2, 3, -9, -9, 4, 5, 6, -9, -9};
    CHECK(npy_write(path, strided, 2, 3, 5, 2, err, sizeof err) == 0, "write: %s", err);
    CHECK(npy_read(path, &a, err, sizeof err) == 0, "read: %s", err);
    CHECK(a.rows == 2 && a.cols == 3 && !memcmp(a.data, data, 24), "round trip");
    npy_free(&a);
    CHECK(npy_read("no/such/file.npy", &a, err, sizeof err) != 0 &&
              strstr(err, "no/such/file.npy"),
          "missing file: %s", err);
    /* Trailing bytes through the reader, which stops one byte past the
     * data; and an endless non-.npy stream, which fails on its first bytes. */
    FILE *tf = fopen(path, "ab");
    CHECK(tf && fwrite("xyz", 1, 3, tf) == 3 && fclose(tf) == 0, "append");
    CHECK(npy_read(path, &a, err, sizeof err) != 0 &&
              strstr(err, "bytes after the data of shape 2x3"),
          "trailing bytes: %s", err);
    CHECK(npy_read("/dev/zero", &a, err, sizeof err) != 0 && strstr(err, "magic"),
          "/dev/zero: %s", err);
    remove(path);

    expect_fail((const unsigned char *)"hello world, not npy", 20, "magic", "magic");
    expect_fail(buf, 8, "magic", "too short");
    len = make(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", data, 24);
    expect_fail(buf, len, "'<f8', not float32", "float64");
    len = make(buf, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }\n", data, 24);
    expect_fail(buf, len, "not float32", "int32");
    len = make(buf, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }\n", data, 24);
    expect_fail(buf, len, "big-endian", "big-endian");
    len = make(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", data, 24);
    expect_fail(buf, len, "Fortran", "fortran order");
    len = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }\n", data, 24);
    expect_fail(buf, len, "3 dimensions", "3-D");
    len = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", data, 4);
    expect_fail(buf, len, "0-dimensional", "scalar");
    len = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", data, 20);
    expect_fail(buf, len, "truncated", "short data");
    len = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", data, 24);
    expect_fail(buf, len, "after the data", "extra data");
    len = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }\n", data, 24);
    expect_fail(buf, len, "too large", "huge shape");
    len = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }\n", data, 24);
    expect_fail(buf, len, "shape", "bad shape");
    len = make(buf, 1, "{'fortran_order': False, 'shape': (2, 3), }\n", data, 24);
    expect_fail(buf, len, "descr", "no descr");
    len = make(buf, 1, "{'descr': '<f4', 'shape': (2, 3), }\n", data, 24);
    expect_fail(buf, len, "fortran_order", "no fortran_order");
    len = make(buf, 7, "{}", data, 0);
    expect_fail(buf, len, "version", "version 7");
    /* What a Python dict literal is not. */
    len = make(buf, 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }\n",
               data, 24);
    expect_fail(buf, len, "structured type", "structured dtype");
    len = make(buf, 1, "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (6,), }\n", data, 24);
    expect_fail(buf, len, "neither True nor False", "Falsey");
    len = make(buf, 1, "{'descr': '<f4\", 'fortran_order': False, 'shape': (6,), }\n", data, 24);
    expect_fail(buf, len, "'descr' is not a string", "mismatched quotes");
    len = make(buf, 1, "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, "
                       "'shape': (6,), }\n", data, 24);
    expect_fail(buf, len, "'descr' twice", "duplicate key");
    len = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)x, }\n", data, 24);
    expect_fail(buf, len, "shape", "shape with trailing text");
    len = make(buf, 1, h23, data, 24);
    buf[8] = 0xff, buf[9] = 0x7f; /* header length past the end */
    expect_fail(buf, len, "header", "header length");
    len = make(buf, 1, h23, data, 24);
    buf[20] = 0;
    expect_fail(buf, len, "NUL", "NUL in header");

    /* Mutations of a valid file: any answer but a crash is fine; an accepted
     * file must have a consistent shape. */
    unsigned char orig[512], mut[512];
    size_t olen = make(orig, 1, h23, data, 24);
    int accepted = 0;
    for (uint64_t k = 0; k < 20000; k++) {
        memcpy(mut, orig, olen);
        uint64_t r = k * 0x9E3779B97F4A7C15u;
        for (int f = 0; f < 1 + (int)(k % 3); f++, r = r * 6364136223846793005u + 1)
            mut[(r >> 33) % olen] = (unsigned char)(r >> 17);
        size_t l = olen - (k % 7 == 0 ? (r >> 40) % olen : 0);
        if (npy_parse(mut, l, &a, err, sizeof err) == 0) {
            accepted++;
            CHECK(a.rows * a.cols * 4 <= l, "accepted inconsistent shape");
            npy_free(&a);
        }
    }
    printf("mutations accepted: %d of 20000\n", accepted);
    return check_summary("test_npy");
}
