// cuda_sim.h: the CUDA execution model on a CPU, for the `sim` device.
//
// gpuflow/runtime/sim force-includes this header (g++ -include, -DGPUFLOW_SIM) before a
// kernel source, preprocesses, rewrites shared-memory declarations (see compiler.py) and
// builds a shared library. One .so = one translation unit, so everything here has
// internal linkage (static/inline) and several modules can be loaded side by side.
//
// Model: blocks run one after another on the calling OS thread. Every thread of a block
// is a cooperative fiber with its own small pooled stack; a fiber runs until it exits or
// blocks in __syncthreads() or a warp op, so a kernel without barriers costs one context
// switch in and one out per thread. The order in which runnable fibers are resumed is a
// seeded permutation (GPUFLOW_SIM_SEED) so that missing barriers show up as wrong results.
// Because only one fiber runs at a time, atomics are plain read-modify-writes.
#pragma once
#ifndef GPUFLOW_SIM
#define GPUFLOW_SIM 1
#endif
#if !defined(__x86_64__)
#error "gpuflow sim: the fiber switch is written for x86-64 (see docs/sim.md)"
#endif

#include <math.h>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cassert>
#include <exception>
#include <type_traits>
// No <string>, <tuple>, <limits>: parsing the standard headers is most of a module's build
// time, so the runtime below makes do with a tiny string class.
#include <sys/mman.h>
#include <unistd.h>

// ---------------------------------------------------------------- qualifiers
// __shared__ and __global__ expand to markers that compiler.py rewrites after
// preprocessing: `extern __shared__ T a[];` becomes a pointer to the block's dynamic
// shared memory, other __shared__ variables become static storage in the section
// "gfsim_shared" (one instance per block, since blocks run one at a time), and extern "C"
// __global__ functions are found by name.
#define __shared__ __gfsim_shared__
#define __global__ __gfsim_global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __grid_constant__

#define GFSIM_EXPORT extern "C" __attribute__((visibility("default")))

using std::isnan;
using std::isinf;
using std::isfinite;
using std::signbit;

// ---------------------------------------------------------------- vector types
#define GFSIM_VEC(T, N, A2, A4)                                                      \
  struct __attribute__((aligned(sizeof(T)))) N##1 { T x; };                          \
  struct __attribute__((aligned(A2))) N##2 { T x, y; };                              \
  struct N##3 { T x, y, z; };                                                        \
  struct __attribute__((aligned(A4))) N##4 { T x, y, z, w; };                        \
  static inline N##1 make_##N##1(T x) { return N##1{x}; }                            \
  static inline N##2 make_##N##2(T x, T y) { return N##2{x, y}; }                    \
  static inline N##3 make_##N##3(T x, T y, T z) { return N##3{x, y, z}; }           \
  static inline N##4 make_##N##4(T x, T y, T z, T w) { return N##4{x, y, z, w}; }
GFSIM_VEC(signed char, char, 2, 4)
GFSIM_VEC(unsigned char, uchar, 2, 4)
GFSIM_VEC(short, short, 4, 8)
GFSIM_VEC(unsigned short, ushort, 4, 8)
GFSIM_VEC(int, int, 8, 16)
GFSIM_VEC(unsigned int, uint, 8, 16)
GFSIM_VEC(long, long, 16, 16)
GFSIM_VEC(unsigned long, ulong, 16, 16)
GFSIM_VEC(long long, longlong, 16, 16)
GFSIM_VEC(unsigned long long, ulonglong, 16, 16)
GFSIM_VEC(float, float, 8, 16)
GFSIM_VEC(double, double, 16, 16)
#undef GFSIM_VEC

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

// The built-in variables: written by the scheduler before it resumes a fiber.
static uint3 threadIdx;
static uint3 blockIdx;
static dim3 blockDim;
static dim3 gridDim;
static constexpr int warpSize = 32;

// The rest of the model, in the order each part needs the one before.
#include "sim_fibers.h"
#include "sim_schedule.h"
#include "sim_half.h"
#include "sim_device_functions.h"
