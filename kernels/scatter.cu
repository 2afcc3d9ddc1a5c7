// scatter.cu: N-d index checks and flattening, and deterministic scatter reductions (the
// tensor_scatter_nd_* / scatter_nd / unsorted_segment_* family), without atomics.
//
// Contract (arrays C-contiguous; I is the index dtype, int or long long; T any numeric dtype:
// float, double, __half, __nv_bfloat16, int, long long):
//   ravel_index<I>        idx (m, k) -> out (m) long long: sum_j idx[i, j] * stride_j over the
//                         row-major dims (k of them). A component outside [0, dims[j]) gives
//                         out = 0 (so whatever reads through it stays inside the tensor) and
//                         raises the error flag (below). One thread per index row.
//   check_ids<I>          raises the error flag if some ids[i] >= dim, or < 0 unless
//                         `drop_negative` (the unsorted_segment_* ops drop negative ids, as TF).
//   scatter_sorted<T, K>  out (dim, inner) = base (dim, inner) combined with every update whose id is d:
//                         `order` lists the positions j sorted by (ids[j], j), starts[d] ..
//                         starts[d + 1] is d's run in it (ids outside [0, dim) are in no run).
//                         K = gf::SumKind, gf::MaxKind, gf::MinKind (reduce.cuh: NaN wins, integer
//                         sums wrap), or gf::LastKind: the update of the last (largest) position
//                         replaces base. One thread per output element folds its run in position
//                         order: the same bits every run, whatever the launch shape.
//   Error flag: int flag[2]; a failing kernel stores `seq` in flag[0] if it is still 0 and ORs
//   kIndexError into flag[1]. Plain stores: every failing thread of a launch writes the same
//   values, and launches on one stream run in order, so the first failing launch keeps its seq.
//   The host reads the flag at once on sim, at the next device-to-host read on cuda
//   (gpuflow/backend/numerics.py: the same flag as the NaN checks).
// Napkin math: ravel_index reads 8k bytes and writes 8 per index row; scatter_sorted reads
// base and updates once each plus 8 bytes of `order` per update per inner element (the runs
// are read through `order`, so the update loads gather), and writes the output once:
// (dim * inner + m * inner) * sizeof(T) + m * 8 * inner bytes; the host's sort of m keys comes on top.
#include "reduce.cuh"

namespace gf {

constexpr int kIndexError = 8;  // flag[1] bit: an index out of range (numerics.cu uses 1, 2, 4)

__device__ __forceinline__ void raise_flag(int* flag, int seq) {
  if (flag[0] == 0) flag[0] = seq;
  flag[1] |= kIndexError;
}

// The update with the largest position wins (the run is in position order: its last entry).
struct LastKind {
  template <typename A> __device__ static A apply(A, A b) { return b; }
};

}  // namespace gf

template <typename I>
__global__ void ravel_index(const I* __restrict__ idx, const gf::index_t* __restrict__ dims, gf::index_t* __restrict__ out,
                            gf::index_t m, int k, int* flag, int seq) {
  GF_GRID_STRIDE_LOOP(i, m) {
    gf::index_t flat = 0;
    bool ok = true;
    for (int j = 0; j < k; ++j) {
      const gf::index_t v = (gf::index_t)idx[i * k + j];
      ok = ok && v >= 0 && v < dims[j];
      flat = flat * dims[j] + v;
    }
    if (!ok) {
      flat = 0;
      gf::raise_flag(flag, seq);
    }
    out[i] = flat;
  }
}

template <typename I>
__global__ void check_ids(const I* __restrict__ ids, gf::index_t m, gf::index_t dim, int drop_negative, int* flag,
                          int seq) {
  GF_GRID_STRIDE_LOOP(i, m) {
    const gf::index_t v = (gf::index_t)ids[i];
    if (v >= dim || (v < 0 && !drop_negative)) gf::raise_flag(flag, seq);
  }
}

template <typename T, typename Kind>
__global__ void scatter_sorted(const T* __restrict__ base, const T* __restrict__ updates,
                               const gf::index_t* __restrict__ order, const gf::index_t* __restrict__ starts,
                               T* __restrict__ out, gf::index_t inner, gf::index_t n) {
  GF_GRID_STRIDE_LOOP(i, n) {
    const gf::index_t d = i / inner, k = i - d * inner;
    gf::acc_t<T> acc = gf::load(base[i]);
    for (gf::index_t p = starts[d]; p < starts[d + 1]; ++p)
      acc = Kind::apply(acc, gf::load(updates[order[p] * inner + k]));
    out[i] = gf::store<T>(acc);
  }
}
