/* The middle of SPEC 1's E (SLEEF 3.5.1 xexpf, as cl/sleef_expf.cl spells it
 * out): from d and qf = rint(d / ln 2), the reduced argument
 * s = d - qf ln 2 (ln 2 in two parts) and u = 1 + (s + s^2 P(s)), which the
 * caller scales by 2^qf. One definition for every vector ISA:
 * OPK_EXP_POLY(name, vector type, fma(a, b, c) = a * b + c, mul, add, set1)
 * defines `static inline T name(T d, T qf)`. */
#ifndef OPK_SIMD_EXP_POLY_H
#define OPK_SIMD_EXP_POLY_H

#define OPK_EXP_POLY(name, T, fma, mul, add, set1)                          \
    static inline T name(T d, T qf)                                         \
    {                                                                       \
        T s = fma(qf, set1(-0x1.62e4p-1f), d);                              \
        s = fma(qf, set1(-0x1.7f7d1cp-20f), s);                             \
        T u = set1(0x1.a057b4p-13f);                                        \
        u = fma(u, s, set1(0x1.6d2d92p-10f));                               \
        u = fma(u, s, set1(0x1.11114cp-7f));                                \
        u = fma(u, s, set1(0x1.5554f4p-5f));                                \
        u = fma(u, s, set1(0x1.555556p-3f));                                \
        u = fma(u, s, set1(0x1p-1f));                                       \
        return add(fma(mul(s, s), u, s), set1(1.0f));                       \
    }

#endif
