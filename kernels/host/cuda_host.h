// cuda_host.h: kernels/*.cu as plain host code, for compiled graphs on the cpu device.
//
// gpuflow/runtime/host force-includes this header (g++ -include, -DGPUFLOW_HOST) before a kernel
// file and builds a shared library. Unlike the sim (kernels/sim/cuda_sim.h), there is no CUDA
// execution model here: one host thread runs the whole grid, and common.cuh's grid-stride loop
// becomes one loop over [0, n) that the compiler vectorizes. That is right only for kernels
// whose iterations are independent (element i is read, then written, by iteration i alone):
// the optimizer updates, and only those are built for the host.
#pragma once
#ifndef GPUFLOW_HOST
#define GPUFLOW_HOST 1
#endif

#include <math.h>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __restrict__ __restrict
#define __launch_bounds__(...)

using std::isnan;
using std::isinf;
using std::isfinite;
using std::signbit;

// float and double only: the host build leaves half and bfloat16 to NumPy. common.cuh names the 16-bit
// types and their conversions, so they are declared; nothing built for the host calls them.
struct __half { unsigned short bits; };
struct __nv_bfloat16 { unsigned short bits; };
float __half2float(__half);
float __bfloat162float(__nv_bfloat16);
__half __float2half_rn(float);
__nv_bfloat16 __float2bfloat16_rn(float);

// ---------------------------------------------------------------- calling a kernel from Python
// gpuflow/runtime/host.py appends two extern "C" entries per kernel instance k:
//   gfhost_sig_<k>()        its parameters, one token each: `f4` a float, `i8` a long long, `*f4` a float*
//                           it writes, `*cf4` a const float* (NumPy's dtype kind and size); checked
//                           against each call's arguments;
//   gfhost_many_<k>(packed, count, flush)  the kernel called `count` times, call c reading its j-th argument
//                           from packed + 8 (c P + j), P its parameter count (one call from Python runs a
//                           graph node's kernel over each of its tensors); denormals flushed if `flush`.
namespace gfhost {

template <typename A>
constexpr char cls() {  // NumPy's dtype kind
  return std::is_floating_point<A>::value ? 'f' : std::is_signed<A>::value ? 'i' : 'u';
}

template <typename A>
void describe(char*& at) {
  typedef std::remove_cv_t<std::remove_pointer_t<A>> E;
  static_assert(sizeof(E) < 10 && std::is_arithmetic<E>::value, "host kernels take numbers and pointers to them");
  if (std::is_pointer<A>::value) {
    *at++ = '*';
    if (std::is_const<std::remove_pointer_t<A>>::value) *at++ = 'c';
  }
  *at++ = cls<E>();
  *at++ = char('0' + sizeof(E));
  *at++ = ' ';
}

template <typename... A>
const char* signature(void (*)(A...)) {
  static char text[sizeof...(A) * 5 + 1];
  char* at = text;
  (describe<A>(at), ...);
  *at = 0;
  return text;
}

template <typename A>
A load_arg(const char* packed) {
  A value;
  memcpy((void*)&value, packed, sizeof(A));
  return value;
}

template <typename... A, std::size_t... I>
void call_with(void (*f)(A...), const char* packed, std::index_sequence<I...>) {
  f(load_arg<std::remove_cv_t<A>>(packed + 8 * I)...);
}

// Denormal results and inputs flushed to zero while it lives, as NumPy's optimizer rules run them
// (gpuflow/backend/numpy/_denormals.py: the same control bits); restored on exit. Elsewhere: nothing.
struct FlushDenormals {
#if defined(__x86_64__)
  unsigned saved = _mm_getcsr();
  FlushDenormals() { _mm_setcsr(saved | 0x8040u); }  // FTZ (bit 15) and DAZ (bit 6)
  ~FlushDenormals() { _mm_setcsr(saved); }
#elif defined(__aarch64__)
  unsigned long saved;
  FlushDenormals() {
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(saved));
    __asm__ __volatile__("msr fpcr, %0" : : "r"(saved | (1ul << 24)));  // FZ
  }
  ~FlushDenormals() { __asm__ __volatile__("msr fpcr, %0" : : "r"(saved)); }
#endif
};

template <typename... A>
void calls(void (*f)(A...), const char* packed, long long count) {
  for (long long c = 0; c < count; ++c) call_with(f, packed + 8 * sizeof...(A) * c, std::index_sequence_for<A...>{});
}

template <typename... A>
void many(void (*f)(A...), const char* packed, long long count, int flush_denormals) {
  if (flush_denormals) {
    FlushDenormals flushing;
    calls(f, packed, count);
  } else {
    calls(f, packed, count);
  }
}

}  // namespace gfhost
