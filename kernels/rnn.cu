// rnn.cu: fused pointwise math of the LSTM and GRU cells (Keras gate orders), forward and backward.
// The matmuls x@W and h@U run before, on cuBLAS; these kernels do everything after them in one pass.
//
// Contract (all arrays C-contiguous, one thread per (row n, unit u) of N*U, 1-D blocks of 256,
// any grid; gate k of unit u is column k*U + u of the pre-activations):
//   lstm_cell_fwd<T>  z (N, 4U) [i f g o], c_prev (N, U) -> h, c (N, U):
//                     i,f,o = sigmoid, g = tanh; c = f*c_prev + i*g; h = o*tanh(c)
//   lstm_cell_bwd<T>  z, c_prev, c, dh, dc -> dz (N, 4U), dc_prev (N, U); the gates are
//                     recomputed from z (cheaper than storing them: 4 transcendentals per unit)
//   gru_cell_fwd<T>   zx, zh (N, 3U) [z r h], h_prev (N, U) -> h (N, U) (reset_after=True):
//                     z = sig(zx_z + zh_z), r = sig(zx_r + zh_r), hh = tanh(zx_h + r*zh_h),
//                     h = z*h_prev + (1 - z)*hh
//   gru_cell_bwd<T>   zx, zh, h_prev, dh -> dzx, dzh (N, 3U), dh_prev (N, U)
// Dtypes: float, double, __half, __nv_bfloat16 (arithmetic in acc_t<T>).
//
// Napkin math (float32, N*U = 1e6): lstm forward reads 4+1 and writes 2 values per unit:
// 28 MB, ~9 us at 3.3 TB/s; backward reads 8 and writes 5: 52 MB. ~30 FLOPs + 5 exp/tanh per
// unit: memory-bound. Gate reads are strided by U across k but coalesced across u.
#include "common.cuh"

namespace gf {
template <typename A> __device__ __forceinline__ A sigmoid(A v) { return (A)1 / ((A)1 + exp(-v)); }

// The activated gates of one unit, computed the same way by the forward kernels and by the
// backward kernels that recompute them. `z` (and `zh`) point at the unit's first gate column.
template <typename A> struct LstmGates { A i, f, g, o; };
template <typename T>
__device__ __forceinline__ LstmGates<acc_t<T>> lstm_gates(const T* z, index_t units) {
  return {sigmoid(load(z[0])), sigmoid(load(z[units])), tanh(load(z[2 * units])), sigmoid(load(z[3 * units]))};
}

// hh is the recurrent candidate term zh_h (reset_after=True applies r to it after the matmul).
template <typename A> struct GruGates { A z, r, hh, cand; };
template <typename T>
__device__ __forceinline__ GruGates<acc_t<T>> gru_gates(const T* zx, const T* zh, index_t units) {
  typedef acc_t<T> A;
  const A z = sigmoid(load(zx[0]) + load(zh[0]));
  const A r = sigmoid(load(zx[units]) + load(zh[units]));
  const A hh = load(zh[2 * units]);
  return {z, r, hh, tanh(load(zx[2 * units]) + r * hh)};
}
}  // namespace gf

template <typename T>
__global__ void lstm_cell_fwd(const T* __restrict__ z, const T* __restrict__ c_prev, T* __restrict__ h,
                              T* __restrict__ c, gf::index_t n_units, gf::index_t units) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(k, n_units) {
    const gf::LstmGates<A> q = gf::lstm_gates(z + (k / units) * 4 * units + k % units, units);
    const A cn = q.f * gf::load(c_prev[k]) + q.i * q.g;
    c[k] = gf::store<T>(cn);
    h[k] = gf::store<T>(q.o * tanh(cn));
  }
}

template <typename T>
__global__ void lstm_cell_bwd(const T* __restrict__ z, const T* __restrict__ c_prev, const T* __restrict__ c,
                              const T* __restrict__ dh, const T* __restrict__ dc, T* __restrict__ dz,
                              T* __restrict__ dc_prev, gf::index_t n_units, gf::index_t units) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(k, n_units) {
    const gf::index_t at = (k / units) * 4 * units + k % units;
    T* dzr = dz + at;
    const gf::LstmGates<A> q = gf::lstm_gates(z + at, units);
    const A i = q.i, f = q.f, g = q.g, o = q.o;
    const A tc = tanh(gf::load(c[k])), dhk = gf::load(dh[k]);
    const A dct = gf::load(dc[k]) + dhk * o * ((A)1 - tc * tc);
    dzr[0] = gf::store<T>(dct * g * i * ((A)1 - i));
    dzr[units] = gf::store<T>(dct * gf::load(c_prev[k]) * f * ((A)1 - f));
    dzr[2 * units] = gf::store<T>(dct * i * ((A)1 - g * g));
    dzr[3 * units] = gf::store<T>(dhk * tc * o * ((A)1 - o));
    dc_prev[k] = gf::store<T>(dct * f);
  }
}

template <typename T>
__global__ void gru_cell_fwd(const T* __restrict__ zx, const T* __restrict__ zh, const T* __restrict__ h_prev,
                             T* __restrict__ h, gf::index_t n_units, gf::index_t units) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(k, n_units) {
    const gf::index_t at = (k / units) * 3 * units + k % units;
    const gf::GruGates<A> q = gf::gru_gates(zx + at, zh + at, units);
    h[k] = gf::store<T>(q.z * gf::load(h_prev[k]) + ((A)1 - q.z) * q.cand);
  }
}

template <typename T>
__global__ void gru_cell_bwd(const T* __restrict__ zx, const T* __restrict__ zh, const T* __restrict__ h_prev,
                             const T* __restrict__ dh, T* __restrict__ dzx, T* __restrict__ dzh,
                             T* __restrict__ dh_prev, gf::index_t n_units, gf::index_t units) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(k, n_units) {
    const gf::index_t at = (k / units) * 3 * units + k % units;
    const gf::GruGates<A> q = gf::gru_gates(zx + at, zh + at, units);
    const A zg = q.z, rg = q.r, hh = q.hh, cand = q.cand;
    const A dhk = gf::load(dh[k]);
    const A da_z = dhk * (gf::load(h_prev[k]) - cand) * zg * ((A)1 - zg);
    const A da_h = dhk * ((A)1 - zg) * ((A)1 - cand * cand);
    const A da_r = da_h * hh * rg * ((A)1 - rg);
    dzx[at] = gf::store<T>(da_z);
    dzx[at + units] = gf::store<T>(da_r);
    dzx[at + 2 * units] = gf::store<T>(da_h);
    dzh[at] = gf::store<T>(da_z);
    dzh[at + units] = gf::store<T>(da_r);
    dzh[at + 2 * units] = gf::store<T>(da_h * rg);
    dh_prev[k] = gf::store<T>(dhk * zg);
  }
}
