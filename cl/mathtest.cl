/* E, Lg and Sq over an array, for the bit-exact comparison with SLEEF
 * (tests/test_cl_math.c through opk_cl_math). */
__kernel void opk_math_E(__global const float *x, __global float *y, uint n)
{
    uint i = get_global_id(0);
    if (i < n)
        y[i] = opk_E(x[i]);
}

__kernel void opk_math_Lg(__global const float *x, __global float *y, uint n)
{
    uint i = get_global_id(0);
    if (i < n)
        y[i] = opk_Lg(x[i]);
}

__kernel void opk_math_Sq(__global const float *x, __global float *y, uint n)
{
    uint i = get_global_id(0);
    if (i < n)
        y[i] = opk_Sq(x[i]);
}
