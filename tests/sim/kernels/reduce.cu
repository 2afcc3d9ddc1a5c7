// Shared-memory tree reductions: one sum per block of blockDim.x (a power of two <= 256).
#include "common.cuh"

template <bool kBarrier>
__device__ void tree_sum(const int* x, int* out) {
  __shared__ int s[256];
  unsigned t = threadIdx.x;
  s[t] = x[blockIdx.x * blockDim.x + t];
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (t < stride) s[t] += s[t + stride];
    if (kBarrier) __syncthreads();  // the planted bug: leave this out
  }
  if (t == 0) out[blockIdx.x] = s[0];
}

extern "C" __global__ void block_sum(const int* x, int* out) { tree_sum<true>(x, out); }
extern "C" __global__ void block_sum_missing_barrier(const int* x, int* out) { tree_sum<false>(x, out); }

// __syncthreads_count / _and / _or over a predicate per thread.
extern "C" __global__ void barrier_votes(const int* pred, int* out) {
  int p = pred[threadIdx.x];
  int c = __syncthreads_count(p);
  int a = __syncthreads_and(p);
  int o = __syncthreads_or(p);
  if (threadIdx.x == 0) { out[0] = c; out[1] = a; out[2] = o; }
}

// Warp-shuffle reduction, then across warps through dynamic shared memory (2-D block).
extern "C" __global__ void warp_block_sum(const float* x, float* out) {
  extern __shared__ float partial[];
  unsigned t = threadIdx.y * blockDim.x + threadIdx.x;
  unsigned n = blockDim.x * blockDim.y;
  float v = x[blockIdx.x * n + t];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  if ((t & 31) == 0) partial[t / 32] = v;
  __syncthreads();
  if (t == 0) {
    float s = 0;
    for (unsigned w = 0; w < (n + 31) / 32; ++w) s += partial[w];
    out[blockIdx.x] = s;
  }
}
