// Small kernels exercising indexing, shared memory and templates on the sim device.
#include "common.cuh"

extern "C" __global__ void affine(const float* x, float* y, gf::index_t n, float a, float b) {
  GF_GRID_STRIDE_LOOP(i, n) { y[i] = x[i] * a + b; }
}

// Writes the global linear id and the thread/block coordinates of every thread of a 3D launch.
extern "C" __global__ void coords(int* out) {
  unsigned bid = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  unsigned tid = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  unsigned nthreads = blockDim.x * blockDim.y * blockDim.z;
  int* o = out + 6 * (bid * nthreads + tid);
  o[0] = threadIdx.x; o[1] = threadIdx.y; o[2] = threadIdx.z;
  o[3] = blockIdx.x; o[4] = blockIdx.y; o[5] = blockIdx.z;
}

template <typename T>
__global__ void scale(const T* x, T* y, gf::index_t n, float s) {
  GF_GRID_STRIDE_LOOP(i, n) { y[i] = gf::store<T>(gf::load(x[i]) * s); }
}

// Static shared memory reversal within each block (needs the barrier).
extern "C" __global__ void reverse_static(const float* x, float* y) {
  __shared__ float buf[128];
  unsigned t = threadIdx.x, base = blockIdx.x * blockDim.x;
  buf[t] = x[base + t];
  __syncthreads();
  y[base + t] = buf[blockDim.x - 1 - t];
}

// The same with dynamic shared memory sized at launch.
extern "C" __global__ void reverse_dynamic(const float* x, float* y) {
  extern __shared__ __align__(16) float dbuf[];
  unsigned t = threadIdx.x, base = blockIdx.x * blockDim.x;
  dbuf[t] = x[base + t];
  __syncthreads();
  y[base + t] = dbuf[blockDim.x - 1 - t];
}
