// norm.cu: layer norm and batch norm forward: statistics and normalisation fused.
//
//   layer_norm_fwd<T>: x[rows, n] -> y = (x - mean) * rstd * gamma[n] + beta[n] per row,
//                      mean[rows], rstd[rows] = 1 / sqrt(var + eps) (biased variance)
//   batch norm, x[rows, c] -> y = (x - mean) * rstd * gamma[c] + beta[c] per column, mean[c], var[c]
//   (biased; the moving averages are updated from it), in three launches so that few channels
//   with many rows still fill the GPU:
//     batch_norm_partials<T>  (count, mean, M2) of each chunk of rows, per channel -> partial[splits, c, 3]
//     batch_norm_finalize<T>  merges a channel's chunks (exact parallel formula, no E[x²] - E[x]²),
//                             writes mean/var as T and (mean, gamma * rstd) in acc_t<T> to stats[2, c]
//     batch_norm_apply<T>     y = (x - mean) * scale + beta, elementwise
// Statistics take two passes (mean, then squared deviations): the one-pass E[x²] - E[x]²
// cancels catastrophically when |mean| >> std. All arithmetic is in acc_t<T> (float for
// half/bfloat16, double for double); the statistics are stored rounded to T.
//
// Launch shapes:
//   layer_norm_fwd  1-D blocks, blockDim.x a multiple of 32 (<= 1024); a block per row, any grid
//                   (the loop strides over rows)
//   batch_norm_partials  block (32, k), k <= 32: threadIdx.x picks a channel of a 32-channel tile
//                        (consecutive threads read consecutive addresses), threadIdx.y strides over
//                        the chunk's rows; a block per (tile, chunk), any grid
//   batch_norm_finalize, batch_norm_apply  1-D grid-stride loops, any launch shape
// Dtypes: __half, __nv_bfloat16, float, double. eps is passed as double for every T.
//
// Napkin math (x of N elements of B bytes): layer norm reads a row three times and writes it
// once; rows (n*B <= a few tens of KB) stay in L1/L2 between passes, so DRAM sees ~2*N*B bytes:
// 1e8 float32 elements = 800 MB, ~0.25 ms on an H100 (~3.3 TB/s). Batch norm reads each chunk
// twice (the second read hits L2: a chunk is >= 64 rows x 32 channels, small) and x once more to
// apply: ~2*N*B bytes from DRAM plus the write; partials are 12-24 bytes per (chunk, channel).
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
__global__ void batch_norm_partials(const T* x, gf::acc_t<T>* partial, gf::index_t rows, gf::index_t c,
                                    gf::index_t chunk, gf::index_t splits) {
  typedef gf::acc_t<T> A;
  gf::index_t tiles = (c + 31) / 32;
  for (gf::index_t work = blockIdx.x; work < tiles * splits; work += gridDim.x) {
    gf::index_t tile = work % tiles, split = work / tiles;
    gf::index_t ch = tile * 32 + threadIdx.x;
    gf::index_t r0 = split * chunk, r1 = r0 + chunk < rows ? r0 + chunk : rows;
    bool live = ch < c;  // dead lanes of the last tile still take part in the barriers
    A sum = 0;
    if (live)
      for (gf::index_t r = r0 + threadIdx.y; r < r1; r += blockDim.y) sum += gf::load(x[r * c + ch]);
    A count = (A)(r1 - r0);
    A mean = gf::column_sum(sum) / count;
    A sq = 0;
    if (live)
      for (gf::index_t r = r0 + threadIdx.y; r < r1; r += blockDim.y) {
        A d = gf::load(x[r * c + ch]) - mean;
        sq += d * d;
      }
    A m2 = gf::column_sum(sq);
    if (live && threadIdx.y == 0) {
      A* p = partial + (split * c + ch) * 3;
      p[0] = count;
      p[1] = mean;
      p[2] = m2;
    }
  }
}

template <typename T>
__global__ void batch_norm_finalize(const gf::acc_t<T>* partial, const T* gamma, T* mean_out, T* var_out,
                                    gf::acc_t<T>* stats, gf::index_t splits, gf::index_t c, double eps) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(ch, c) {
    A n = 0, weighted = 0;
    for (gf::index_t s = 0; s < splits; ++s) {
      const A* p = partial + (s * c + ch) * 3;
      n += p[0];
      weighted += p[0] * p[1];
    }
    A mean = weighted / n;  // no rows: 0 / 0 = NaN, as NumPy
    A m2 = 0;
    for (gf::index_t s = 0; s < splits; ++s) {
      const A* p = partial + (s * c + ch) * 3;
      A d = p[1] - mean;
      m2 += p[2] + p[0] * d * d;
    }
    A var = m2 / n;
    mean_out[ch] = gf::store<T>(mean);
    var_out[ch] = gf::store<T>(var);
    stats[ch] = mean;
    stats[c + ch] = gf::load(gamma[ch]) / sqrt(var + (A)eps);
  }
}

template <typename T>
__global__ void batch_norm_apply(const T* x, const gf::acc_t<T>* stats, const T* beta, T* y, gf::index_t total,
                                 gf::index_t c) {
  GF_GRID_STRIDE_LOOP(i, total) {
    gf::index_t ch = i % c;
    y[i] = gf::store<T>((gf::load(x[i]) - stats[ch]) * stats[c + ch] + gf::load(beta[ch]));
  }
}
