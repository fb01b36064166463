/* NumPy .npy files of float32, C order, 1-D or 2-D (versions 1.0-3.0).
 * Errors name the problem in err (never a crash on malformed input). */
#ifndef OPK_NPY_H
#define OPK_NPY_H

#include <stddef.h>
#include <stdio.h>

typedef struct npy_array {
    float *data; /* rows * cols, malloc'ed */
    size_t rows, cols;
    int ndim; /* 1: shape (cols,), rows == 1; 2: (rows, cols) */
} npy_array;

/* Parses an in-memory .npy image. Returns 0 on success. */
int npy_parse(const unsigned char *buf, size_t len, npy_array *a, char *err,
              size_t errlen);
int npy_read(const char *path, npy_array *a, char *err, size_t errlen);
/* Writes rows x cols (row stride ld) as a version 1.0 file, ndim 1 or 2
 * (npy_out_open, _put and _commit in one). */
int npy_write(const char *path, const float *data, size_t rows, size_t cols,
              size_t ld, int ndim, char *err, size_t errlen);

/* An output reserved before the work that fills it: a temporary file
 * beside the destination (symbolic links followed), renamed over it by
 * npy_out_commit, removed by npy_out_abort or a failed put, so that a
 * failed run leaves the destination as it was and an unwritable path
 * fails before any work. A destination that exists and is not a regular
 * file (/dev/stdout, a FIFO) is written in place. Each returns 0, or -1
 * with err set; after a failure nothing is left to abort. */
typedef struct npy_out {
    const char *path; /* as given, for messages */
    char *dest, *tmp; /* NULL when written in place */
    FILE *f;          /* open until put */
} npy_out;
int npy_out_open(npy_out *o, const char *path, char *err, size_t errlen);
int npy_out_put(npy_out *o, const float *data, size_t rows, size_t cols,
                size_t ld, int ndim, char *err, size_t errlen);
/* Instead of npy_out_put, for other content written to o->f (the demo's
 * SVG): closes it, reporting any write error. */
int npy_out_close(npy_out *o, char *err, size_t errlen);
int npy_out_commit(npy_out *o, char *err, size_t errlen);
void npy_out_abort(npy_out *o);
void npy_free(npy_array *a);

#endif
