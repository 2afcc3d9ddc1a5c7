// half / bfloat16 conversions and arithmetic, checked bit-for-bit against numpy / ml_dtypes.
#include "common.cuh"

extern "C" __global__ void f32_to_f16(const float* x, unsigned short* bits, int n) {
  GF_GRID_STRIDE_LOOP(i, n) { bits[i] = __half_as_ushort(__float2half_rn(x[i])); }
}
extern "C" __global__ void f16_to_f32(const unsigned short* bits, float* y, int n) {
  GF_GRID_STRIDE_LOOP(i, n) { y[i] = __half2float(__ushort_as_half(bits[i])); }
}
extern "C" __global__ void f32_to_bf16(const float* x, unsigned short* bits, int n) {
  GF_GRID_STRIDE_LOOP(i, n) { bits[i] = __bfloat16_as_ushort(__float2bfloat16_rn(x[i])); }
}
extern "C" __global__ void bf16_to_f32(const unsigned short* bits, float* y, int n) {
  GF_GRID_STRIDE_LOOP(i, n) { y[i] = __bfloat162float(__ushort_as_bfloat16(bits[i])); }
}

// out[4i..4i+3] = a+b, a-b, a*b, a/b computed with the type's own operators.
template <typename T>
__global__ void arith(const T* a, const T* b, T* out, int n) {
  GF_GRID_STRIDE_LOOP(i, n) {
    out[4 * i + 0] = a[i] + b[i];
    out[4 * i + 1] = a[i] - b[i];
    out[4 * i + 2] = a[i] * b[i];
    out[4 * i + 3] = a[i] / b[i];
  }
}

// common.cuh's load/store: y = x * s + 1 accumulated in acc_t<T>.
template <typename T>
__global__ void axpb(const T* x, T* y, float s, int n) {
  GF_GRID_STRIDE_LOOP(i, n) {
    gf::acc_t<T> v = gf::load(x[i]);
    y[i] = gf::store<T>(v * s + 1.0f);
  }
}

// __half2 helpers.
extern "C" __global__ void half2_ops(const float* x, float* y) {
  __half2 h = __floats2half2_rn(x[0], x[1]);
  __half2 g = __halves2half2(__high2half(h), __low2half(h));
  __half2 s = __hadd2(h, g);
  y[0] = __low2float(s); y[1] = __high2float(s);
  y[2] = __half2float(__int2half_rn(2049));
}
