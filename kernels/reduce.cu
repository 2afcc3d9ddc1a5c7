// reduce.cu: sum, prod, max, min, logsumexp, argmax, argmin over one collapsed axis layout.
//
// The host (gpuflow/backend/cuda/reduction.py) collapses any set of reduced axes into one of
//   rows:    x[rows, n]           reduce the contiguous trailing n (reduce_rows)
//   columns: x[outer, r, inner]   reduce the middle r (reduce_cols; also rows shorter than 32,
//                                 as inner = 1: a thread per row beats a mostly idle warp)
// (or transposes first when the reduced axes are not adjacent). Long reductions are split in
// `splits` chunks of `chunk` elements; each chunk leaves its state in `partial` (16 bytes a
// state) and reduce_partials combines a row's states in a fixed order: no float atomics, so
// every result is deterministic.
//
// Launch shapes:
//   reduce_rows      block (32, 8): a warp per (row, chunk), or (256, 1): a block per (row, chunk);
//                    any grid (the loop strides over row-chunks)
//   reduce_cols      1-D blocks, a thread per (outer, chunk, inner): consecutive threads read
//                    consecutive addresses, so every load is coalesced; any grid
//   reduce_partials  block (32, 8): a warp per output; any grid
// Dtypes: the operators of reduce.cuh over __half, __nv_bfloat16, float, double, int, long long,
// and (sum, prod, max, min, argmax, argmin) signed char, short, unsigned char, unsigned
// (argmax/argmin output int or long long).
//
// Napkin math (1e8 float32 elements, H100 ~3.3 TB/s copy): one read of 400 MB, rows read with
// 16-byte vector loads; partials are <= 16 B x (outputs x splits), negligible. Bound: ~0.12 ms
// at copy bandwidth, ~1 FLOP/element (logsumexp: one exp/element, still memory-bound).
#include "reduce.cuh"

template <typename Op>
__global__ void reduce_rows(const typename Op::in_t* __restrict__ x, typename Op::out_t* __restrict__ out,
                            typename Op::State* __restrict__ partial, gf::index_t rows, gf::index_t n,
                            gf::index_t splits, gf::index_t chunk) {
  typedef typename Op::State State;
  static_assert(sizeof(State) <= 16, "the host sizes partials at 16 bytes a state");
  gf::index_t tasks = rows * splits;
  // `base` is the same for the whole block, so every thread runs block_reduce's barriers.
  for (gf::index_t base = (gf::index_t)blockIdx.x * blockDim.y; base < tasks;
       base += (gf::index_t)gridDim.x * blockDim.y) {
    gf::index_t task = base + threadIdx.y;
    State s = Op::identity();
    if (task < tasks) {
      gf::index_t lo = (task % splits) * chunk, hi = lo + chunk < n ? lo + chunk : n;
      gf::fold_row<Op>(x + (task / splits) * n, lo, hi, s);
    }
    s = gf::block_reduce<Op>(s);
    if (threadIdx.x == 0 && task < tasks) {
      if (splits == 1) out[task] = Op::finish(s);
      else partial[task] = s;
    }
  }
}

template <typename Op>
__global__ void reduce_cols(const typename Op::in_t* __restrict__ x, typename Op::out_t* __restrict__ out,
                            typename Op::State* __restrict__ partial, gf::index_t outer, gf::index_t r,
                            gf::index_t inner, gf::index_t splits, gf::index_t chunk) {
  typedef typename Op::State State;
  GF_GRID_STRIDE_LOOP(t, outer * splits * inner) {
    gf::index_t i = t % inner, q = t / inner, c = q % splits, o = q / splits;
    gf::index_t lo = c * chunk, hi = lo + chunk < r ? lo + chunk : r;
    const typename Op::in_t* p = x + o * r * inner + i;
    State s = Op::identity();
    for (gf::index_t j = lo; j < hi; ++j) s = Op::combine(s, Op::lift(p[j * inner], j));
    if (splits == 1) out[o * inner + i] = Op::finish(s);
    else partial[(o * inner + i) * splits + c] = s;
  }
}

template <typename Op>
__global__ void reduce_partials(const typename Op::State* __restrict__ partial, typename Op::out_t* __restrict__ out,
                                gf::index_t rows, gf::index_t splits) {
  typedef typename Op::State State;
  for (gf::index_t base = (gf::index_t)blockIdx.x * blockDim.y; base < rows;
       base += (gf::index_t)gridDim.x * blockDim.y) {
    gf::index_t row = base + threadIdx.y;
    State s = Op::identity();
    if (row < rows) {
      for (gf::index_t k = threadIdx.x; k < splits; k += blockDim.x) s = Op::combine(s, partial[row * splits + k]);
    }
    s = gf::block_reduce<Op>(s);
    if (threadIdx.x == 0 && row < rows) out[row] = Op::finish(s);
  }
}
