// norm.cu: layer norm and batch norm forward, statistics and normalisation fused in one kernel.
//
//   layer_norm_fwd<T>: x[rows, n] -> y = (x - mean) * rstd * gamma[n] + beta[n] per row,
//                      mean[rows], rstd[rows] = 1 / sqrt(var + eps) (biased variance)
//   batch_norm_fwd<T>: x[rows, c] -> y = (x - mean) * rstd * gamma[c] + beta[c] per column,
//                      mean[c], var[c] (biased; the moving averages are updated from it)
// Statistics take two passes (mean, then squared deviations): the one-pass E[x²] - E[x]²
// cancels catastrophically when |mean| >> std. All arithmetic is in acc_t<T> (float for
// half/bfloat16, double for double); the statistics are stored rounded to T.
//
// Launch shapes:
//   layer_norm_fwd  1-D blocks, blockDim.x a multiple of 32 (<= 1024); a block per row, any grid
//                   (the loop strides over rows)
//   batch_norm_fwd  block (32, k), k <= 32: threadIdx.x picks a channel of a 32-channel tile
//                   (consecutive threads read consecutive addresses), threadIdx.y strides over
//                   rows; a block per tile, any grid
// Dtypes: __half, __nv_bfloat16, float, double. eps is passed as double for every T.
//
// Napkin math (x of N elements of B bytes): both read x three times and write y once; layer
// norm rows (n*B <= a few tens of KB) stay in L1/L2 between passes, so DRAM sees ~2*N*B bytes:
// 1e8 float32 elements = 800 MB, ~0.25 ms on an H100 (~3.3 TB/s). Batch norm's column tiles
// span all rows, so for large rows*32*B the re-reads come from L2 or DRAM (<= 4*N*B).
// ~8 FLOPs/element: memory-bound.
#include "common.cuh"

namespace gf {

// Sum of v over the block, the same value in every thread, in a fixed order (deterministic).
template <typename A>
__device__ A block_sum(A v) {
  __shared__ A warp_sums[32];
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  A total = 0;
  for (unsigned w = 0; w < warps; ++w) total += warp_sums[w];
  __syncthreads();  // every thread has read warp_sums before the next call overwrites it
  return total;
}

// Sum of v over threadIdx.y for each threadIdx.x (a 32-wide column of the block), fixed order.
template <typename A>
__device__ A column_sum(A v) {
  __shared__ A partial[1024];
  partial[threadIdx.y * 32 + threadIdx.x] = v;
  __syncthreads();
  A total = 0;
  for (unsigned k = 0; k < blockDim.y; ++k) total += partial[k * 32 + threadIdx.x];
  __syncthreads();
  return total;
}

}  // namespace gf

template <typename T>
__global__ void layer_norm_fwd(const T* x, const T* gamma, const T* beta, T* y, T* mean_out, T* rstd_out,
                               gf::index_t rows, gf::index_t n, double eps) {
  typedef gf::acc_t<T> A;
  for (gf::index_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    A sum = 0;
    for (gf::index_t j = threadIdx.x; j < n; j += blockDim.x) sum += gf::load(xr[j]);
    A mean = gf::block_sum(sum) / (A)n;
    A sq = 0;
    for (gf::index_t j = threadIdx.x; j < n; j += blockDim.x) {
      A d = gf::load(xr[j]) - mean;
      sq += d * d;
    }
    A rstd = (A)1 / sqrt(gf::block_sum(sq) / (A)n + (A)eps);
    for (gf::index_t j = threadIdx.x; j < n; j += blockDim.x)
      yr[j] = gf::store<T>((gf::load(xr[j]) - mean) * rstd * gf::load(gamma[j]) + gf::load(beta[j]));
    if (threadIdx.x == 0) {
      mean_out[r] = gf::store<T>(mean);
      rstd_out[r] = gf::store<T>(rstd);
    }
  }
}

template <typename T>
__global__ void batch_norm_fwd(const T* x, const T* gamma, const T* beta, T* y, T* mean_out, T* var_out,
                               gf::index_t rows, gf::index_t c, double eps) {
  typedef gf::acc_t<T> A;
  gf::index_t tiles = (c + 31) / 32;
  for (gf::index_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    gf::index_t ch = tile * 32 + threadIdx.x;
    bool live = ch < c;  // dead lanes of the last tile still take part in the barriers
    A sum = 0;
    if (live)
      for (gf::index_t r = threadIdx.y; r < rows; r += blockDim.y) sum += gf::load(x[r * c + ch]);
    A mean = gf::column_sum(sum) / (A)rows;
    A sq = 0;
    if (live)
      for (gf::index_t r = threadIdx.y; r < rows; r += blockDim.y) {
        A d = gf::load(x[r * c + ch]) - mean;
        sq += d * d;
      }
    A var = gf::column_sum(sq) / (A)rows;
    if (!live) continue;
    A rstd = (A)1 / sqrt(var + (A)eps);
    A g = gf::load(gamma[ch]), b = gf::load(beta[ch]);
    for (gf::index_t r = threadIdx.y; r < rows; r += blockDim.y)
      y[r * c + ch] = gf::store<T>((gf::load(x[r * c + ch]) - mean) * rstd * g + b);
    if (threadIdx.y == 0) {
      mean_out[ch] = gf::store<T>(mean);
      var_out[ch] = gf::store<T>(var);
    }
  }
}
