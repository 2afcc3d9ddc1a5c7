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

// Template kernel for name-expression tests (float, __half, long long).
template <typename T>
__global__ void fill(T* y, T v, int n) {
  GF_GRID_STRIDE_LOOP(i, n) { y[i] = v; }
}

// Vectorised copy through float4 (needs CUDA's 16-byte alignment of float4).
extern "C" __global__ void copy4(const float4* x, float4* y, int n4) {
  GF_GRID_STRIDE_LOOP(i, n4) { y[i] = x[i]; }
}

// Scalars of every size arrive by value; writes them back as doubles.
struct Pair { int a; float b; };
extern "C" __global__ void scalars(double* out, signed char c, short s, int i, long long l, unsigned u,
                                   float f, double d, bool b, Pair p) {
  out[0] = c; out[1] = s; out[2] = i; out[3] = (double)l; out[4] = u; out[5] = f; out[6] = d; out[7] = b;
  out[8] = p.a; out[9] = p.b;
}

// printf from device code goes to the host's stdout.
extern "C" __global__ void hello(int v) {
  if (threadIdx.x == 0) printf("hello from the sim %d\n", v);
}
