/* Probe for tests/oclgrind.sh: does Oclgrind's --uninitialized shadow
 * memory count a buffer as initialized after each way the OpenCL backend
 * fills one? `oclgrind_shadow write|fill|rect` fills a 16-float buffer with
 * clEnqueueWriteBuffer, clEnqueueFillBuffer or clEnqueueWriteBufferRect,
 * then runs a kernel that reads all of it. Under Oclgrind 21.10 only
 * `write` runs without reports: kernels reading memory set by the other two
 * are flagged whatever they do, so the script keeps such cases out of its
 * strict pass. Exit 0 if every call succeeded. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <string.h>

static const char *src =
    "__kernel void k(__global const float *x, __global float *y)\n"
    "{\n"
    "    __local float l[16];\n"
    "    const uint i = get_local_id(0);\n"
    "    l[i] = x[i];\n"
    "    barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    y[i] = l[15 - i];\n"
    "}\n";

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "write") && strcmp(mode, "fill") && strcmp(mode, "rect")) {
        fprintf(stderr, "usage: oclgrind_shadow write|fill|rect\n");
        return 2;
    }
    cl_platform_id p;
    cl_device_id d;
    cl_int e = clGetPlatformIDs(1, &p, NULL);
    if (e == CL_SUCCESS)
        e = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 1, &d, NULL);
    if (e != CL_SUCCESS)
        return fprintf(stderr, "oclgrind_shadow: no OpenCL device\n"), 1;
    cl_context c = clCreateContext(NULL, 1, &d, NULL, NULL, &e);
    cl_command_queue q = clCreateCommandQueue(c, d, 0, &e);
    cl_program pr = clCreateProgramWithSource(c, 1, &src, NULL, &e);
    e |= clBuildProgram(pr, 1, &d, "", NULL, NULL);
    cl_kernel k = clCreateKernel(pr, "k", &e);
    cl_mem x = clCreateBuffer(c, CL_MEM_READ_WRITE, 64, NULL, &e);
    cl_mem y = clCreateBuffer(c, CL_MEM_READ_WRITE, 64, NULL, &e);
    float h[32] = {0}, zero = 0.0f;
    if (!strcmp(mode, "write")) {
        e = clEnqueueWriteBuffer(q, x, CL_TRUE, 0, 64, h, 0, NULL, NULL);
    } else if (!strcmp(mode, "fill")) {
        e = clEnqueueFillBuffer(q, x, &zero, 4, 0, 64, 0, NULL, NULL);
    } else { /* 4 rows of 4 floats from host rows of 8 */
        size_t o[3] = {0, 0, 0}, r[3] = {16, 4, 1};
        e = clEnqueueWriteBufferRect(q, x, CL_TRUE, o, o, r, 16, 0, 32, 0, h,
                                     0, NULL, NULL);
    }
    size_t g = 16;
    e |= clSetKernelArg(k, 0, sizeof x, &x);
    e |= clSetKernelArg(k, 1, sizeof y, &y);
    e |= clEnqueueNDRangeKernel(q, k, 1, NULL, &g, &g, 0, NULL, NULL);
    e |= clEnqueueReadBuffer(q, y, CL_TRUE, 0, 64, h, 0, NULL, NULL);
    e |= clFinish(q);
    clReleaseMemObject(x);
    clReleaseMemObject(y);
    clReleaseKernel(k);
    clReleaseProgram(pr);
    clReleaseCommandQueue(q);
    clReleaseContext(c);
    if (e != CL_SUCCESS)
        return fprintf(stderr, "oclgrind_shadow %s: OpenCL error\n", mode), 1;
    return 0;
}
