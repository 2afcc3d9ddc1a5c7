// movement.cu: data movement without arithmetic (transpose, strided copies, concat, pad,
// mirrored pad, gather, deterministic scatter-add, one_hot).
//
// Contract (all arrays C-contiguous; T is any gpuflow dtype: float, double, __half,
// __nv_bfloat16, int, long long, bool; I is the index dtype, int or long long):
//   transpose_tiled<T>   in (batch, rows, cols) -> out (batch, cols, rows). Block (32, 8),
//                        one 32x32 tile per block iteration (tile loop strides by gridDim.x),
//                        staged in shared memory (33 columns: no bank conflicts) so both the
//                        global loads and the stores run along contiguous rows.
//   strided_gather<T>    out[i] = in[base + sum_k idx_k(i) * strides[k]], idx over `shape`:
//                        general N-d transpose, broadcast_to (stride 0), strided_slice
//                        (negative strides), tile. Stores are coalesced, loads follow strides.
//   strided_scatter<T>   the inverse placement: out[base + sum_k idx_k(i) * strides[k]] = in[i]
//                        (strided_slice_grad; the positions are distinct, so no races).
//   copy_columns<T>      out (rows, out_cols)[:, col0:col0+in_cols] = in (rows, in_cols):
//                        one launch per concat input, loads and stores both contiguous.
//   pad_constant<T>      out[i] = in[i - lo] inside the input's box, *value outside.
//   pad_mirror<T>        out[i] = in[mirror(i - lo)]: per axis an index before the box or past
//                        it is mirrored back in, about the edge element (REFLECT, symmetric=0)
//                        or about the edge itself (SYMMETRIC, symmetric=1). The host guarantees
//                        paddings <= dim - 1 + symmetric, so one mirror always lands inside.
//   gather<T, I>         params (outer, dim, inner), idx (m) -> out (outer, m, inner).
//   scatter_add_sorted<T> out (outer, dim, inner) = sum over j with idx[j] == d of
//                        updates (outer, m, inner); `order` lists j sorted by (idx[j], j) and
//                        `starts[d]..starts[d+1]` is d's segment: one thread per output element
//                        sums its segment in a fixed order, so floats are deterministic
//                        (no atomics) and the work is O(outputs + updates).
//   one_hot<T, I>        idx (outer, inner) -> out (outer, depth, inner) = on_off[0] where
//                        idx == d else on_off[1] (out-of-range indices give all off values).
// Napkin math: every kernel moves each output element once and each input element about
// once: bytes = (in + out) * sizeof(T) (+ 8 bytes per element of index traffic for the
// strided kernels' shape/stride tables, which stay in L1). No FLOPs beyond scatter_add's
// one add per update element. Launch: grid-stride loops, 256 threads, any grid size.
#include "common.cuh"

namespace gf {
constexpr int kTile = 32;  // transpose tile edge: one warp per tile row
}

template <typename T>
__global__ void transpose_tiled(const T* __restrict__ in, T* __restrict__ out, gf::index_t batch,
                                gf::index_t rows, gf::index_t cols) {
  __shared__ T tile[gf::kTile][gf::kTile + 1];
  const gf::index_t tiles_r = (rows + gf::kTile - 1) / gf::kTile;
  const gf::index_t tiles_c = (cols + gf::kTile - 1) / gf::kTile;
  const gf::index_t per_matrix = tiles_r * tiles_c, ntiles = batch * per_matrix;
  for (gf::index_t t = blockIdx.x; t < ntiles; t += gridDim.x) {
    const gf::index_t b = t / per_matrix, rem = t - b * per_matrix;
    const gf::index_t r0 = (rem / tiles_c) * gf::kTile, c0 = (rem % tiles_c) * gf::kTile;
    const T* src = in + b * rows * cols;
    T* dst = out + b * rows * cols;
    for (int k = threadIdx.y; k < gf::kTile; k += blockDim.y) {
      const gf::index_t r = r0 + k, c = c0 + threadIdx.x;
      if (r < rows && c < cols) tile[k][threadIdx.x] = src[r * cols + c];
    }
    __syncthreads();
    for (int k = threadIdx.y; k < gf::kTile; k += blockDim.y) {
      const gf::index_t c = c0 + k, r = r0 + threadIdx.x;
      if (r < rows && c < cols) dst[c * rows + r] = tile[threadIdx.x][k];
    }
    __syncthreads();  // the next tile overwrites `tile`
  }
}

// The source offset of element i of a row-major `shape` walked with `strides`.
__device__ __forceinline__ gf::index_t strided_offset(gf::index_t i, const gf::index_t* shape,
                                                      const gf::index_t* strides, int ndim, gf::index_t base) {
  gf::index_t off = base;
  for (int k = ndim - 1; k >= 0; --k) {
    const gf::index_t q = i / shape[k];
    off += (i - q * shape[k]) * strides[k];
    i = q;
  }
  return off;
}

template <typename T>
__global__ void strided_gather(const T* __restrict__ in, T* __restrict__ out, const gf::index_t* __restrict__ shape,
                               const gf::index_t* __restrict__ strides, int ndim, gf::index_t base, gf::index_t n) {
  GF_GRID_STRIDE_LOOP(i, n) { out[i] = in[strided_offset(i, shape, strides, ndim, base)]; }
}

template <typename T>
__global__ void strided_scatter(const T* __restrict__ in, T* __restrict__ out, const gf::index_t* __restrict__ shape,
                                const gf::index_t* __restrict__ strides, int ndim, gf::index_t base, gf::index_t n) {
  GF_GRID_STRIDE_LOOP(i, n) { out[strided_offset(i, shape, strides, ndim, base)] = in[i]; }
}

template <typename T>
__global__ void copy_columns(const T* __restrict__ in, T* __restrict__ out, gf::index_t rows, gf::index_t in_cols,
                             gf::index_t out_cols, gf::index_t col0) {
  const gf::index_t n = rows * in_cols;
  GF_GRID_STRIDE_LOOP(i, n) {
    const gf::index_t r = i / in_cols;
    out[r * out_cols + col0 + (i - r * in_cols)] = in[i];
  }
}

template <typename T>
__global__ void pad_constant(const T* __restrict__ in, T* __restrict__ out, const gf::index_t* __restrict__ out_shape,
                             const gf::index_t* __restrict__ in_shape, const gf::index_t* __restrict__ lo, int ndim,
                             const T* __restrict__ value, gf::index_t n) {
  GF_GRID_STRIDE_LOOP(i, n) {
    gf::index_t rem = i, src = 0, stride = 1;
    bool inside = true;
    for (int k = ndim - 1; k >= 0; --k) {
      const gf::index_t q = rem / out_shape[k];
      const gf::index_t j = rem - q * out_shape[k] - lo[k];
      inside = inside && j >= 0 && j < in_shape[k];
      src += j * stride;
      stride *= in_shape[k];
      rem = q;
    }
    out[i] = inside ? in[src] : *value;
  }
}

// Where output coordinate j (already shifted by -lo) reads along an axis of size d. REFLECT
// (s = 0): -1 -> 1, d -> d - 2; SYMMETRIC (s = 1): -1 -> 0, d -> d - 1.
__device__ __forceinline__ gf::index_t mirror_index(gf::index_t j, gf::index_t d, gf::index_t s) {
  if (j < 0) return -j - s;
  if (j >= d) return 2 * d - 2 + s - j;
  return j;
}

template <typename T>
__global__ void pad_mirror(const T* __restrict__ in, T* __restrict__ out, const gf::index_t* __restrict__ out_shape,
                           const gf::index_t* __restrict__ in_shape, const gf::index_t* __restrict__ lo, int ndim,
                           int symmetric, gf::index_t n) {
  GF_GRID_STRIDE_LOOP(i, n) {
    gf::index_t rem = i, src = 0, stride = 1;
    for (int k = ndim - 1; k >= 0; --k) {
      const gf::index_t q = rem / out_shape[k];
      src += mirror_index(rem - q * out_shape[k] - lo[k], in_shape[k], symmetric) * stride;
      stride *= in_shape[k];
      rem = q;
    }
    out[i] = in[src];
  }
}

template <typename T, typename I>
__global__ void gather(const T* __restrict__ params, const I* __restrict__ idx, T* __restrict__ out, gf::index_t m,
                       gf::index_t dim, gf::index_t inner, gf::index_t n) {
  GF_GRID_STRIDE_LOOP(i, n) {
    const gf::index_t t = i / inner, k = i - t * inner;
    const gf::index_t o = t / m, j = t - o * m;
    out[i] = params[(o * dim + (gf::index_t)idx[j]) * inner + k];
  }
}

template <typename T>
__global__ void scatter_add_sorted(const T* __restrict__ updates, const gf::index_t* __restrict__ order,
                                   const gf::index_t* __restrict__ starts, T* __restrict__ out, gf::index_t m,
                                   gf::index_t dim, gf::index_t inner, gf::index_t n) {
  GF_GRID_STRIDE_LOOP(i, n) {
    const gf::index_t t = i / inner, k = i - t * inner;
    const gf::index_t o = t / dim, d = t - o * dim;
    gf::acc_t<T> sum = 0;
    for (gf::index_t p = starts[d]; p < starts[d + 1]; ++p) sum += gf::load(updates[(o * m + order[p]) * inner + k]);
    out[i] = gf::store<T>(sum);
  }
}

template <typename T, typename I>
__global__ void one_hot(const I* __restrict__ idx, const T* __restrict__ on_off, T* __restrict__ out,
                        gf::index_t depth, gf::index_t inner, gf::index_t n) {
  GF_GRID_STRIDE_LOOP(i, n) {
    const gf::index_t t = i / inner, k = i - t * inner;
    const gf::index_t o = t / depth, d = t - o * depth;
    out[i] = (gf::index_t)idx[o * inner + k] == d ? on_off[0] : on_off[1];
  }
}
