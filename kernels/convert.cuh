// convert.cuh: rounding a double once to any gpuflow dtype, the same way the cpu backend does.
//
// float16/bfloat16 have no direct conversion from double on every target (the simulator and
// older toolkits go through float, rounding twice). Rounding the double to float "to odd"
// first (truncate, then set the last bit when inexact) keeps the information a second
// round-to-nearest-even needs, because float carries at least two more bits than half (11)
// or bfloat16 (8): the result is the single correctly rounded value.
// Used by elementwise.cu (cast from float64, int32, int64) and random.cu (normal draws).
#pragma once
#include "common.cuh"

namespace gf {

__device__ __forceinline__ float to_float_odd(double d) {
  float f = (float)d;
  if ((double)f != d && d == d) {
    unsigned u = __float_as_uint(f);
    if (fabs((double)f) > fabs(d)) u -= 1u;  // round-to-nearest went away from zero: step back
    f = __uint_as_float(u | 1u);
  }
  return f;
}

template <typename T> __device__ __forceinline__ T from_double(double d) { return (T)d; }
template <> __device__ __forceinline__ __half from_double<__half>(double d) {
  return __float2half_rn(to_float_odd(d));
}
template <> __device__ __forceinline__ __nv_bfloat16 from_double<__nv_bfloat16>(double d) {
  return __float2bfloat16_rn(to_float_odd(d));
}

}  // namespace gf
