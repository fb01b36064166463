/* The runs of the attention normalizations (attention_run.c), called by
 * opk_attention once the arguments are checked and the job is built. Each
 * writes O only after everything that can fail has passed. */
#ifndef OPK_ATTENTION_RUN_H
#define OPK_ATTENTION_RUN_H

#include "../dispatch/backend.h"

opk_status opk_attn_run_fused(opk_ctx *ctx, opk_attn_job *jb);
opk_status opk_attn_run_sinkhorn(opk_ctx *ctx, opk_attn_job *jb, int iters);
opk_status opk_attn_run_linear(opk_ctx *ctx, opk_attn_job *jb, int global);

#endif
