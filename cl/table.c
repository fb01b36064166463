/* The opencl backend's table: a copy of the scalar table (range functions
 * for kernels that have no OpenCL port yet run on the host, so the table
 * never holds NULL where the CPU tables do not) with the whole-call entry
 * points of the ported kernels. */
#include <pthread.h>

#include "../dispatch/backend.h"
#include "runtime.h"

static opk_ops table;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void fill(void)
{
    table = opk_ops_scalar;
    table.id = OPK_BACKEND_OPENCL;
    table.softmax_call = opk_cl_softmax;
}

const opk_ops *opk_ops_opencl(void)
{
    pthread_once(&once, fill);
    return &table;
}
