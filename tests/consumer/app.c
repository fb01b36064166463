/* Links against an installed opk and runs one softmax. */
#include <opk.h>
#include <stdio.h>

int main(void)
{
    opk_ctx *ctx;
    if (opk_ctx_create(NULL, &ctx))
        return 1;
    float x[4] = {0, 0, 0, 0};
    opk_status st = opk_softmax(ctx, (opk_cmat){x, 1, 4, 4},
                                (opk_mat){x, 1, 4, 4}, 1.0f, OPK_ROWS, 0);
    printf("%s %s %g\n", opk_version(), opk_status_str(st), x[0]);
    opk_ctx_destroy(ctx);
    return st != OPK_OK || x[0] != 0.25f;
}
