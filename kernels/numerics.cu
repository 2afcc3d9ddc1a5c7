// numerics.cu: the device side of gf.debugging.enable_check_numerics and gf.debugging.check_numerics.
//
// Kernel:
//   check_finite<T>(x, n, flag, seq)   scans x[0, n) for NaN, +Inf and -Inf. If it finds any:
//       flag[0] = seq     when flag[0] was 0: the first failing check since the host last read the flag
//                         keeps its number (one stream runs kernels in order, so that is the earliest op);
//       flag[1] |= kinds  the kinds that op's output holds: 1 NaN, 2 +Inf, 4 -Inf.
//   The host (gpuflow/backend/numerics.py) numbers every check, keeps what each number was (op,
//   input shapes and dtypes, the user's source line), and reads the 8-byte flag only where a value
//   reaches Python anyway (Backend.to_numpy): a check costs one launch and no host sync.
//   Once flag[0] names another op, a check skips its scan: only the first failure is reported.
// Launch: 1-D grid-stride loop (GF_GRID_STRIDE_LOOP), block 256 (any multiple of 32: each warp ORs its
//   lanes' findings with a full-mask __reduce_or_sync), grid = backend.grid_for(n). Only lane 0 of a
//   warp that saw a non-finite value touches the flag: no atomics at all for a finite tensor, at most
//   grid * 8 otherwise (never one per element, which an all-NaN tensor would turn into a crawl).
// Dtypes: T in {__half, __nv_bfloat16, float, double}. The test is on the bits (exponent all ones; a
//   non-zero mantissa is NaN, else the sign says which infinity), so it holds under any fast-math or
//   flush-to-zero option and reads the 16-bit types without converting them.
// Napkin math (float32, n = 1e8): 400 MB read, 8 bytes written at most, one AND and compare per
//   element: ~0.13 ms at 3 TB/s, bandwidth-bound like a reduction (same cost per op as reading its output).
#include "common.cuh"

namespace gf {

// The bit layout of each float type: exponent mask, mantissa mask, sign bit.
template <typename T> struct float_bits;
template <> struct float_bits<__half> {
  typedef unsigned short U;
  static constexpr U exp = 0x7c00u, man = 0x03ffu, sign = 0x8000u;
  static __device__ __forceinline__ U of(__half v) { return __half_as_ushort(v); }
};
template <> struct float_bits<__nv_bfloat16> {
  typedef unsigned short U;
  static constexpr U exp = 0x7f80u, man = 0x007fu, sign = 0x8000u;
  static __device__ __forceinline__ U of(__nv_bfloat16 v) { return __bfloat16_as_ushort(v); }
};
template <> struct float_bits<float> {
  typedef unsigned U;
  static constexpr U exp = 0x7f800000u, man = 0x007fffffu, sign = 0x80000000u;
  static __device__ __forceinline__ U of(float v) { return __float_as_uint(v); }
};
template <> struct float_bits<double> {
  typedef unsigned long long U;
  static constexpr U exp = 0x7ff0000000000000ull, man = 0x000fffffffffffffull, sign = 0x8000000000000000ull;
  static __device__ __forceinline__ U of(double v) { return (unsigned long long)__double_as_longlong(v); }
};

enum : unsigned { kNaN = 1u, kPosInf = 2u, kNegInf = 4u };

template <typename T> __device__ __forceinline__ unsigned nonfinite_kind(T v) {
  typedef float_bits<T> B;
  typename B::U b = B::of(v);
  if ((b & B::exp) != B::exp) return 0u;
  return (b & B::man) ? kNaN : ((b & B::sign) ? kNegInf : kPosInf);
}

}  // namespace gf

template <typename T>
__global__ void check_finite(const T* __restrict__ x, gf::index_t n, int* flag, int seq) {
  int first = flag[0];
  unsigned kinds = 0;
  if (first == 0 || first == seq) {  // no failure yet, or this very op (another block of it) failed
    GF_GRID_STRIDE_LOOP(i, n) { kinds |= gf::nonfinite_kind(x[i]); }
  }
  kinds = __reduce_or_sync(0xffffffffu, kinds);  // every lane gets here: the skip above only skips the loop
  if (kinds && (threadIdx.x & 31) == 0) {
    int old = atomicCAS(flag, 0, seq);
    if (old == 0 || old == seq) atomicOr(flag + 1, (int)kinds);
  }
}
