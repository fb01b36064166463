/* NumPy .npy files of float32, C order, 1-D or 2-D (versions 1.0-3.0).
 * Errors name the problem in err (never a crash on malformed input). */
#ifndef OPK_NPY_H
#define OPK_NPY_H

#include <stddef.h>

typedef struct npy_array {
    float *data; /* rows * cols, malloc'ed */
    size_t rows, cols;
    int ndim; /* 1: shape (cols,), rows == 1; 2: (rows, cols) */
} npy_array;

/* Parses an in-memory .npy image. Returns 0 on success. */
int npy_parse(const unsigned char *buf, size_t len, npy_array *a, char *err,
              size_t errlen);
int npy_read(const char *path, npy_array *a, char *err, size_t errlen);
/* Writes rows x cols (row stride ld) as a version 1.0 file, ndim 1 or 2. */
int npy_write(const char *path, const float *data, size_t rows, size_t cols,
              size_t ld, int ndim, char *err, size_t errlen);
void npy_free(npy_array *a);

#endif
