// Kernels with planted bugs the simulator must report.
#include "common.cuh"

// Launched with more threads than n, and no bounds check: writes past the end of y.
extern "C" __global__ void oob_write(float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  y[i] = 1.0f;
}

// Writes before the start of y.
extern "C" __global__ void oob_before(float* y, const float* x) { y[(int)threadIdx.x - 3] = x[0]; }

// Half the block returns early, the other half waits at the barrier.
extern "C" __global__ void early_exit_barrier(float* y) {
  if (threadIdx.x >= 16) return;
  __syncthreads();
  y[threadIdx.x] = 1.0f;
}

// Lanes 0-15 of warp 0 shuffle with a full mask while the rest of the block is at a barrier.
extern "C" __global__ void barrier_vs_warp(int* y) {
  if (threadIdx.x < 16) {
    y[threadIdx.x] = __shfl_sync(0xffffffffu, (int)threadIdx.x, 0);
  } else {
    __syncthreads();
  }
}

// A full-mask shuffle after lanes 8-31 have exited.
extern "C" __global__ void warp_op_exited(int* y) {
  if ((threadIdx.x & 31) >= 8) return;
  y[threadIdx.x] = __shfl_sync(0xffffffffu, (int)threadIdx.x, 0);
}

extern "C" __global__ void failing_assert(const int* x) { assert(x[threadIdx.x] >= 0); }

// Only the first 32 threads fill the shared buffer, all 64 read it.
extern "C" __global__ void uninit_static(const float* x, float* y) {
  __shared__ float s[64];
  if (threadIdx.x < 32) s[threadIdx.x] = x[threadIdx.x];
  __syncthreads();
  y[threadIdx.x] = s[threadIdx.x];
}
extern "C" __global__ void uninit_dynamic(const float* x, float* y) {
  extern __shared__ float d[];
  if (threadIdx.x < 32) d[threadIdx.x] = x[threadIdx.x];
  __syncthreads();
  y[threadIdx.x] = d[threadIdx.x] + d[63 - threadIdx.x];
}
// The correct version: every element written before it is read.
extern "C" __global__ void init_ok(const float* x, float* y) {
  __shared__ float s[64];
  s[threadIdx.x] = x[threadIdx.x];
  s[threadIdx.x] += 1.0f;
  __syncthreads();
  y[threadIdx.x] = s[63 - threadIdx.x];
}

// Lanes 0-15 shuffle, lanes 16-31 vote, both with the full mask: neither op can complete.
extern "C" __global__ void mismatched_warp_ops(int* y) {
  unsigned t = threadIdx.x;
  if (t < 16) y[t] = __shfl_sync(0xffffffffu, (int)t, 0);
  else y[t] = (int)__ballot_sync(0xffffffffu, 1);
}

// Each thread takes a ticket: the order in which the simulator ran the block's threads.
extern "C" __global__ void tickets(int* counter, int* order) {
  order[threadIdx.x] = atomicAdd(counter, 1);
}
