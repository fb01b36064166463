/* libFuzzer harness: the Matrix Market reader (opk_mtx_parse, the in-memory
 * form of opk_mtx_read) on arbitrary text. It must fail with a message, or
 * return a CSR that passes opk_csr_check; never crash, read past the text,
 * write the output when it fails, or leak (the result is freed with
 * opk_csr_free). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exact size, not terminated */
    if (!text)
        return 0;
    memcpy(text, data, size);
    opk_csr A, before;
    memset(&A, 0xa5, sizeof A); /* a failing call must leave it so */
    memcpy(&before, &A, sizeof A);
    opk_status st = opk_mtx_parse(text, size, "fuzz.mtx", &A);
    if (st == OPK_OK) {
        if (opk_csr_check(NULL, A) != OPK_OK)
            abort(); /* the reader returned an invalid matrix */
        opk_csr_free(&A);
    } else if (!*opk_ctx_last_error(NULL) || memcmp(&A, &before, sizeof A)) {
        abort(); /* a failure must say why, and write nothing */
    }
    free(text);
    return 0;
}
