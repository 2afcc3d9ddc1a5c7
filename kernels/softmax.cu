// softmax.cu: softmax, log_softmax and the two softmax cross-entropies along the last axis.
//
// Each row x[row, 0:n] is read once for its running max and sum of exp (the online-softmax
// state of reduce.cuh: (m, s) rescaled whenever m grows), combined across the row's threads,
// then read again by the write pass:
//   softmax       y = exp(x - m) / s
//   log_softmax   y = (x - m) - log(s)
//   sparse xent   probs = softmax(x), loss = log(s) - (x[label] - m)
//   dense xent    logp = log_softmax(x), loss = -sum(labels * logp)
// and the sparse cross-entropy's backward, d_logits = g[row] * (probs - onehot(label)), one
// elementwise pass (sparse_xent_backward: 1D grid-stride loop, 256 threads; reads 2 values and a
// label per element, writes 1: 12 B/element in float32) instead of the ~6 launches of its composite.
// A row of all -inf gives NaN (as NumPy and TF do); +inf or NaN in a row give NaN where NumPy does.
//
// Launch shape: block (32, 8), a warp per row, for rows up to 1024; (256, 1), a block per row,
// for longer ones. Any grid: blocks stride over rows. Dtypes: __half, __nv_bfloat16 (computed in
// float), float, double; sparse labels int or long long (checked in range on the host).
//
// Napkin math (1e8 float32 elements, rows of 1e4): 2 reads + 1 write = 12 B/element, 1.2 GB;
// the second read of a 40 KB row mostly hits L2, so ~0.8 GB of DRAM traffic, ~0.25 ms on an
// H100. 2 exp/element (one in each pass): memory-bound.
#include "reduce.cuh"

namespace gf {

// The row's (m, s), identical in every thread of the row.
template <typename T>
__device__ LseState<acc_t<T>> row_state(const T* row, index_t n, bool valid) {
  typename LogSumExpOp<T>::State s = LogSumExpOp<T>::identity();
  if (valid) fold_row<LogSumExpOp<T>>(row, 0, n, s);
  return block_reduce<LogSumExpOp<T>>(s);
}

}  // namespace gf

// Softmax (kLog false) or log_softmax (kLog true) of each row.
template <typename T, bool kLog>
__global__ void softmax_rows(const T* __restrict__ x, T* __restrict__ y, gf::index_t rows, gf::index_t n) {
  typedef gf::acc_t<T> A;
  for (gf::index_t base = (gf::index_t)blockIdx.x * blockDim.y; base < rows;
       base += (gf::index_t)gridDim.x * blockDim.y) {
    gf::index_t row = base + threadIdx.y;
    gf::LseState<A> st = gf::row_state(x + row * n, n, row < rows);
    if (row >= rows) continue;
    A log_s = gf::log_(st.s);
    for (gf::index_t j = threadIdx.x; j < n; j += blockDim.x) {
      A shifted = gf::load(x[row * n + j]) - st.m;
      y[row * n + j] = gf::store<T>(kLog ? shifted - log_s : gf::exp_(shifted) / st.s);
    }
  }
}

// Sparse cross-entropy: loss per row and the softmax (which the gradient needs).
template <typename T, typename L>
__global__ void sparse_xent_rows(const T* __restrict__ x, const L* __restrict__ labels, T* __restrict__ loss,
                                 T* __restrict__ probs, gf::index_t rows, gf::index_t n) {
  typedef gf::acc_t<T> A;
  for (gf::index_t base = (gf::index_t)blockIdx.x * blockDim.y; base < rows;
       base += (gf::index_t)gridDim.x * blockDim.y) {
    gf::index_t row = base + threadIdx.y;
    gf::LseState<A> st = gf::row_state(x + row * n, n, row < rows);
    if (row >= rows) continue;
    for (gf::index_t j = threadIdx.x; j < n; j += blockDim.x)
      probs[row * n + j] = gf::store<T>(gf::exp_(gf::load(x[row * n + j]) - st.m) / st.s);
    if (threadIdx.x == 0)
      loss[row] = gf::store<T>(gf::log_(st.s) - (gf::load(x[row * n + (gf::index_t)labels[row]]) - st.m));
  }
}

// Backward of sparse_xent_rows for the loss output: d_logits = g[row] * (probs - onehot(labels[row])).
template <typename T, typename L>
__global__ void sparse_xent_backward(const T* __restrict__ g, const T* __restrict__ probs,
                                     const L* __restrict__ labels, T* __restrict__ out, gf::index_t rows,
                                     gf::index_t n) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(i, rows * n) {
    const gf::index_t row = i / n;
    const A hot = (gf::index_t)labels[row] == i - row * n ? A(1) : A(0);
    out[i] = gf::store<T>(gf::load(g[row]) * (gf::load(probs[i]) - hot));
  }
}

// Dense cross-entropy: loss per row and log_softmax (which both gradients need).
template <typename T>
__global__ void xent_rows(const T* __restrict__ x, const T* __restrict__ labels, T* __restrict__ loss,
                          T* __restrict__ logp, gf::index_t rows, gf::index_t n) {
  typedef gf::acc_t<T> A;
  typedef gf::SumOp<A> Sum;
  for (gf::index_t base = (gf::index_t)blockIdx.x * blockDim.y; base < rows;
       base += (gf::index_t)gridDim.x * blockDim.y) {
    gf::index_t row = base + threadIdx.y;
    bool valid = row < rows;
    gf::LseState<A> st = gf::row_state(x + row * n, n, valid);
    A log_s = gf::log_(st.s);
    typename Sum::State dot = Sum::identity();
    for (gf::index_t j = threadIdx.x; valid && j < n; j += blockDim.x) {
      A lp = (gf::load(x[row * n + j]) - st.m) - log_s;
      logp[row * n + j] = gf::store<T>(lp);
      dot.v += gf::load(labels[row * n + j]) * lp;
    }
    dot = gf::block_reduce<Sum>(dot);  // every thread of the block, valid row or not
    if (valid && threadIdx.x == 0) loss[row] = gf::store<T>(-dot.v);
  }
}
