// sort.cu: stable sorting of rows (values and their positions) and binary search in sorted rows.
//
// Contract (all arrays C-contiguous, x viewed as (rows, n) with the sorted axis last; positions
// are int, as TensorFlow's int32 indices; T in float, double, __half, __nv_bfloat16, int, long long):
//   Order: NaN after every number (NumPy's), -0.0 == 0.0; `descending` reverses the value order
//   but not the tie-break: equal values keep increasing positions, so the sort is stable both
//   ways and top_k's ties go to the lower index. Every (value, position) pair is distinct, so
//   every kernel below computes one exact permutation whatever the launch shape.
//   sort_tiles<T>     sorts each tile of `tile` elements (a power of two) of every row by a
//                     bitonic network in shared memory: vals/idx get the tile sorted, idx the
//                     positions in the row. A tile past the row's end is padded with "after
//                     everything" entries. Block: tile/2 threads (<= 512), one (row, tile) per
//                     block iteration (grid-stride over tiles); dynamic shared memory
//                     tile * (4 + sizeof(T)) bytes (+ alignment).
//   merge_runs<T>     one pass of a merge sort: sorted runs of `width` become runs of 2 * width.
//                     Each element finds its place by a binary search in the other run (merge
//                     by ranking): out position = own rank in its run + its rank in the other.
//                     One thread per element (grid-stride), no shared memory, no atomics.
//   searchsorted<T,O> out (rows, m) = for each value, the number of entries of its row of
//                     seq (rows, n) before which it goes: left = count(seq < v), right =
//                     count(seq <= v), in the order above. One thread per value.
// Napkin math: rows of n <= tile: one read and one write of n * (sizeof(T) + 4) bytes, and
// log2(tile)^2 / 2 compare-exchange steps in shared memory. Longer rows: log2(n / tile) merge
// passes, each reading and writing n * (sizeof(T) + 4) bytes plus log2(width) reads per element
// for its search (mostly cached), so O(n log^2 n) work; a radix sort would be O(n) passes of
// bytes and is the next step for long rows on a GPU. searchsorted: m * log2(n) reads.
#include "common.cuh"

namespace gf {

// a < b with NaN after every number.
template <typename A> __device__ __forceinline__ bool key_less(A a, A b) { return a < b || (b != b && a == a); }

// Whether (a, ia) comes before (b, ib) in the sort order; positions break ties.
template <typename A>
__device__ __forceinline__ bool precedes(A a, int ia, A b, int ib, int descending) {
  if (descending ? key_less(b, a) : key_less(a, b)) return true;
  if (descending ? key_less(a, b) : key_less(b, a)) return false;
  return ia < ib;
}

}  // namespace gf

template <typename T>
__global__ void sort_tiles(const T* __restrict__ x, T* __restrict__ vals, int* __restrict__ idx, gf::index_t rows,
                           gf::index_t n, int tile, int descending) {
  extern __shared__ __align__(16) unsigned char smem[];
  int* si = reinterpret_cast<int*>(smem);
  T* sk = reinterpret_cast<T*>(smem + ((tile * sizeof(int) + 15) / 16) * 16);
  const gf::index_t per_row = (n + tile - 1) / tile, ntiles = rows * per_row;
  for (gf::index_t t = blockIdx.x; t < ntiles; t += gridDim.x) {
    const gf::index_t row = t / per_row, start = (t - row * per_row) * tile;
    const int len = (int)(n - start < tile ? n - start : tile);
    const T* src = x + row * n + start;
    for (int p = threadIdx.x; p < tile; p += blockDim.x) {
      if (p < len) sk[p] = src[p];
      si[p] = (int)start + p;  // a position >= n marks padding
    }
    __syncthreads();
    for (int size = 2; size <= tile; size <<= 1) {
      for (int stride = size >> 1; stride > 0; stride >>= 1) {
        for (int p = threadIdx.x; p < tile / 2; p += blockDim.x) {
          const int lo = 2 * p - (p & (stride - 1)), hi = lo + stride;
          const bool lo_pad = si[lo] >= n, hi_pad = si[hi] >= n;
          // "hi goes first": padding goes last, two pads by position
          bool hi_first;
          if (lo_pad || hi_pad) hi_first = lo_pad && (!hi_pad || si[hi] < si[lo]);
          else hi_first = gf::precedes(gf::load(sk[hi]), si[hi], gf::load(sk[lo]), si[lo], descending);
          // bitonic: this pair's block sorts upwards when bit `size` of lo is clear
          if (hi_first == ((lo & size) == 0)) {
            const int ti = si[lo]; si[lo] = si[hi]; si[hi] = ti;
            if (!lo_pad || !hi_pad) { const T tk = sk[lo]; sk[lo] = sk[hi]; sk[hi] = tk; }
          }
        }
        __syncthreads();
      }
    }
    for (int p = threadIdx.x; p < len; p += blockDim.x) {
      vals[row * n + start + p] = sk[p];
      idx[row * n + start + p] = si[p];
    }
    __syncthreads();  // the next tile reuses the shared arrays
  }
}

template <typename T>
__global__ void merge_runs(const T* __restrict__ kin, const int* __restrict__ iin, T* __restrict__ kout,
                           int* __restrict__ iout, gf::index_t rows, gf::index_t n, gf::index_t width,
                           int descending) {
  GF_GRID_STRIDE_LOOP(e, rows * n) {
    const gf::index_t row = e / n, i = e - row * n;
    const gf::index_t a0 = (i / (2 * width)) * 2 * width;
    const gf::index_t a1 = a0 + width < n ? a0 + width : n, b1 = a0 + 2 * width < n ? a0 + 2 * width : n;
    const T* rk = kin + row * n;
    const int* ri = iin + row * n;
    const gf::acc_t<T> key = gf::load(rk[i]);
    const int id = ri[i];
    const bool in_a = i < a1;
    // rank in the other run: how many of its entries come before (key, id)
    gf::index_t lo = in_a ? a1 : a0, hi = in_a ? b1 : a1;
    const gf::index_t other0 = lo;
    while (lo < hi) {
      const gf::index_t mid = lo + (hi - lo) / 2;
      if (gf::precedes(gf::load(rk[mid]), ri[mid], key, id, descending)) lo = mid + 1;
      else hi = mid;
    }
    const gf::index_t pos = a0 + (i - (in_a ? a0 : a1)) + (lo - other0);
    kout[row * n + pos] = rk[i];
    iout[row * n + pos] = id;
  }
}

template <typename T, typename O>
__global__ void searchsorted(const T* __restrict__ seq, const T* __restrict__ values, O* __restrict__ out,
                             gf::index_t rows, gf::index_t n, gf::index_t m, int right) {
  GF_GRID_STRIDE_LOOP(e, rows * m) {
    const gf::index_t row = e / m;
    const T* s = seq + row * n;
    const gf::acc_t<T> v = gf::load(values[e]);
    gf::index_t lo = 0, hi = n;
    while (lo < hi) {
      const gf::index_t mid = lo + (hi - lo) / 2;
      const gf::acc_t<T> here = gf::load(s[mid]);
      // left: go right past entries < v; right: past entries <= v (i.e. not > v)
      if (right ? !gf::key_less(v, here) : gf::key_less(here, v)) lo = mid + 1;
      else hi = mid;
    }
    out[e] = (O)lo;
  }
}
