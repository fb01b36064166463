/* The scalar deterministic math of SPEC 1: E, Lg, Sq (SLEEF finz, purecfma). */
#ifndef OPK_SLEEF1_H
#define OPK_SLEEF1_H

#include <math.h> /* FP_FAST_FMA, which sleef.h wants for purecfma */
#include <sleef.h>

static inline float opk_E(float x) { return Sleef_finz_expf1_u10purecfma(x); }
static inline float opk_Lg(float x) { return Sleef_finz_logf1_u10purecfma(x); }
static inline float opk_Sq(float x) { return Sleef_finz_sqrtf1_u05purecfma(x); }

#endif
