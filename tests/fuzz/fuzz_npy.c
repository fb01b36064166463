/* libFuzzer harness: the .npy reader (tools/npy.c) on arbitrary bytes. It
 * must either fail with a message or return an array whose shape matches
 * the bytes it was given; never crash, read out of bounds or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes: ASan flags any read past the end. */
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    npy_array a = {0};
    char err[256];
    err[0] = 0;
    if (npy_parse(buf, size, &a, err, sizeof err) == 0) {
        if (a.ndim != 1 && a.ndim != 2)
            abort();
        if (a.ndim == 1 && a.rows != 1)
            abort();
        /* The data came from the buffer: rows*cols floats fit in it. */
        if (a.rows && a.cols && a.cols > size / sizeof(float) / a.rows)
            abort();
        volatile float sink = 0;
        for (size_t i = 0; i < a.rows * a.cols; i++)
            sink += a.data[i]; /* every element readable */
        (void)sink;
        npy_free(&a);
    } else if (!err[0]) {
        abort(); /* a failure must say why */
    }
    free(buf);
    return 0;
}
