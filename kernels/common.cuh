// common.cuh: the few definitions every gpuflow kernel file shares.
//
// Every kernels/*.cu file includes this first. The same sources are compiled by
//   * NVRTC (through cupy.RawModule) for a real GPU,
//   * NVRTC alone by `python -m gpuflow.kernels check` (sm_80, sm_90),
//   * the host C++ compiler for the `sim` device, which defines GPUFLOW_SIM and
//     force-includes kernels/sim/cuda_sim.h (the CUDA execution model on a CPU).
// Keep this header small: anything that differs between the targets belongs here,
// nowhere else.
#pragma once

#if !defined(GPUFLOW_SIM) && !defined(GPUFLOW_HOST)
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#endif

namespace gf {

typedef long long index_t;  // element counts and offsets: tensors may exceed 2^31 elements

// Arithmetic on half/bfloat16 is done in float (what the hardware does anyway for
// most ops); `acc_t<T>` is the type a kernel accumulates T in.
template <typename T> struct acc { typedef T type; };
template <> struct acc<__half> { typedef float type; };
template <> struct acc<__nv_bfloat16> { typedef float type; };
// The 8/16-bit integers compute in int (C++ promotes them to int anyway) and uint32 in long long,
// where + - * floordiv mod of in-range values are exact; store() keeps the low bits, so results
// wrap around exactly as in the storage type (two's complement, as NumPy and TF).
template <> struct acc<signed char> { typedef int type; };
template <> struct acc<unsigned char> { typedef int type; };
template <> struct acc<short> { typedef int type; };
template <> struct acc<unsigned> { typedef long long type; };
template <typename T> using acc_t = typename acc<T>::type;

template <typename T> __device__ __forceinline__ acc_t<T> load(T v) { return v; }
template <> __device__ __forceinline__ float load<__half>(__half v) { return __half2float(v); }
template <> __device__ __forceinline__ float load<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T store(acc_t<T> v) { return (T)v; }
template <> __device__ __forceinline__ __half store<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 store<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

}  // namespace gf

// A grid-stride loop over [0, n): correct for any launch shape, so the launcher may
// pick few blocks (the simulator does) or one per 256 elements (a GPU does).
#ifdef GPUFLOW_HOST
// The host build (kernels/host/cuda_host.h): one thread runs the grid, as one loop whose iterations are
// independent, so the vectorizer need not prove that an output buffer is not an input (in place, it is).
#define GF_GRID_STRIDE_LOOP(i, n) _Pragma("GCC ivdep") for (gf::index_t i = 0; i < (n); ++i)
#else
#define GF_GRID_STRIDE_LOOP(i, n)                                                    \
  for (gf::index_t i = (gf::index_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
       i += (gf::index_t)blockDim.x * gridDim.x)
#endif
