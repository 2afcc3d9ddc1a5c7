// elementwise.cu: unary maps, binary maps with NumPy broadcasting, select, cast, fill.
//
// Kernels (the op is a functor type, so one template serves a whole family):
//   unary<T, Op, V>(x, y, n, alpha)              y[i] = Op(x[i]); alpha for leaky_relu/elu
//   binary_flat<T, Op, V>(x, y, z, n, xs, ys)    same-shape operands, or one of size 1 (xs/ys = 1:
//                                                read element 0 for every i)
//   binary_bcast<T, Op>(x, y, z, n, meta, rank)  general broadcasting
//   select_bcast<T>(c, x, y, z, n, meta, rank)   z = c ? x : y, broadcasting all three
//   cast<S, D>(x, y, n)                          dtype conversion, rules below
//   fill<T>(y, n, value)                         y[i] = value (zeros/ones/fill made on the device)
// Launch: 1-D grid-stride loops (GF_GRID_STRIDE_LOOP), block 256, grid = backend.grid_for(work).
// V = elements per 16-byte pack: the host picks V = 16/sizeof(T) when every non-scalar pointer
// is 16-byte aligned (output: V*sizeof(out) bytes), else V = 1; the n % V tail runs element-wise.
// meta (int64, on the device): the output shape after collapsing adjacent dims that broadcast
// alike, then each operand's element strides (0 where broadcast), rank <= 8. The last dim's
// coordinate is what is left of i, so a collapsed rank-1 launch does no division at all.
// Dtypes: T in {__half, __nv_bfloat16, float, double, signed char, short, int, long long,
// unsigned char, unsigned, bool} as the op accepts; half/bfloat16 compute in float, the 8/16-bit
// integers in int and unsigned in long long (gf::load/store, common.cuh). Comparisons, logical
// ops, is_nan and is_finite write bool (Op::out<T>).
// Semantics shared with gpuflow/backend/numpy/elementwise.py, bit for bit where NumPy is exact:
//   integer +, -, *, negative, abs, square wrap around (two's complement, as NumPy), in the
//   storage type (an int8 -128 * -1 is -128, a uint8 0 - 1 is 255);
//   integer floordiv/mod by 0 give 0, MIN // -1 = MIN; float floordiv/mod follow NumPy's divmod
//   (Python signs); integer pow by squaring, wrapping; a negative exponent gives 1 for base 1,
//   +-1 for base -1, else 0; maximum/minimum return NaN when either input is NaN;
//   cast float->int truncates, saturates, NaN->0; ->bool is x != 0; float64/int->half/bfloat16
//   round once (convert.cuh); int->int wraps.
// Napkin math (float32, n = 1e8): unary 0.8 GB moved (~0.3 ms at 3 TB/s), binary 1.2 GB,
// a few FLOPs per element: bandwidth-bound, so the flat paths use 16-byte loads and no div/mod.
#include "elementwise_ops.cuh"

template <typename T, typename Op, int V>
__global__ void unary(const T* __restrict__ x, gf::out_t<Op, T>* __restrict__ y, gf::index_t n, double alpha) {
  typedef gf::out_t<Op, T> O;
  const Op op;
  const gf::index_t packs = n / V;
  GF_GRID_STRIDE_LOOP(p, packs) {
    const gf::Pack<T, V> a = reinterpret_cast<const gf::Pack<T, V>*>(x)[p];
    gf::Pack<O, V> b;
#pragma unroll
    for (int k = 0; k < V; ++k) b.v[k] = gf::store<O>(op(gf::load(a.v[k]), alpha));
    reinterpret_cast<gf::Pack<O, V>*>(y)[p] = b;
  }
  const gf::index_t done = packs * V;
  GF_GRID_STRIDE_LOOP(i, n - done) y[done + i] = gf::store<O>(op(gf::load(x[done + i]), alpha));
}

template <typename T, typename Op, int V>
__global__ void binary_flat(const T* __restrict__ x, const T* __restrict__ y, gf::out_t<Op, T>* __restrict__ z,
                            gf::index_t n, int x_scalar, int y_scalar) {
  typedef gf::out_t<Op, T> O;
  typedef gf::Pack<T, V> P;
  const Op op;
  const gf::index_t packs = n / V;
  GF_GRID_STRIDE_LOOP(p, packs) {
    P a, b;
    if (x_scalar) {
      for (int k = 0; k < V; ++k) a.v[k] = x[0];
    } else {
      a = reinterpret_cast<const P*>(x)[p];
    }
    if (y_scalar) {
      for (int k = 0; k < V; ++k) b.v[k] = y[0];
    } else {
      b = reinterpret_cast<const P*>(y)[p];
    }
    gf::Pack<O, V> c;
#pragma unroll
    for (int k = 0; k < V; ++k) c.v[k] = gf::store<O>(op(gf::load(a.v[k]), gf::load(b.v[k])));
    reinterpret_cast<gf::Pack<O, V>*>(z)[p] = c;
  }
  const gf::index_t done = packs * V;
  GF_GRID_STRIDE_LOOP(t, n - done) {
    const gf::index_t i = done + t;
    z[i] = gf::store<O>(op(gf::load(x[x_scalar ? 0 : i]), gf::load(y[y_scalar ? 0 : i])));
  }
}

template <typename T, typename Op>
__global__ void binary_bcast(const T* __restrict__ x, const T* __restrict__ y, gf::out_t<Op, T>* __restrict__ z,
                             gf::index_t n, const gf::index_t* __restrict__ meta, int rank) {
  typedef gf::out_t<Op, T> O;
  const Op op;
  GF_GRID_STRIDE_LOOP(i, n) {
    gf::index_t off[2];
    gf::broadcast_offsets<2>(i, meta, rank, off);
    z[i] = gf::store<O>(op(gf::load(x[off[0]]), gf::load(y[off[1]])));
  }
}

// Copies bits: no arithmetic, so no load/store conversion.
template <typename T>
__global__ void select_bcast(const bool* __restrict__ c, const T* __restrict__ x, const T* __restrict__ y,
                       T* __restrict__ z, gf::index_t n, const gf::index_t* __restrict__ meta, int rank) {
  GF_GRID_STRIDE_LOOP(i, n) {
    gf::index_t off[3];
    gf::broadcast_offsets<3>(i, meta, rank, off);
    z[i] = c[off[0]] ? x[off[1]] : y[off[2]];
  }
}


template <typename S, typename D>
__global__ void cast(const S* __restrict__ x, D* __restrict__ y, gf::index_t n) {
  GF_GRID_STRIDE_LOOP(i, n) y[i] = gf::convert<S, D>(x[i]);
}

// The value comes as a kernel argument (already converted to T on the host, as NumPy's astype would):
// a fill writes n elements and reads nothing, so no host array of the full size and no transfer.
template <typename T>
__global__ void fill(T* __restrict__ y, gf::index_t n, T value) {
  GF_GRID_STRIDE_LOOP(i, n) y[i] = value;
}
