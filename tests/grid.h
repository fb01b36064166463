/* The Laplacian (of the given kind, owned by opk) of opk_graph_grid(r, c,
 * extra, seed), SPEC 4: for tests that cannot go on without a graph (it
 * exits on error). */
#ifndef OPK_TEST_GRID_H
#define OPK_TEST_GRID_H

#include <stdio.h>
#include <stdlib.h>

#include "opk.h"

static inline opk_csr grid_laplacian(size_t r, size_t c, size_t extra,
                                     uint64_t seed, opk_laplacian_kind kind)
{
    opk_csr A, L;
    if (opk_graph_grid(r, c, extra, seed, &A) || opk_laplacian(A, kind, &L)) {
        fprintf(stderr, "grid: %s\n", opk_ctx_last_error(NULL));
        exit(1);
    }
    opk_csr_free(&A);
    return L;
}

#endif
