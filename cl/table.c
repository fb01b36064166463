/* The opencl backend's table: only whole-call entry points of kernels that
 * have an OpenCL port. A kernel without one has NULL entries and the generic
 * layer answers OPK_ERR_UNSUPPORTED ("not ported to opencl"): running host
 * code under the opencl name would make `opk verify` claim device
 * conformance that was never tested. */
#include "../dispatch/backend.h"
#include "runtime.h"

static const opk_ops table = {
    .id = OPK_BACKEND_OPENCL,
    .softmax_call = opk_cl_softmax,
    .sinkhorn_call = opk_cl_sinkhorn,
    .cheb_call = opk_cl_cheb,
};

const opk_ops *opk_ops_opencl(void) { return &table; }
