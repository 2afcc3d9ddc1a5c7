// pool.cu: 2-D max and average pooling over NHWC windows, forward and backward.
//
// Contract (all arrays C-contiguous; windows are pool (kh, kw), strides (sh, sw), explicit pads
// top/left (bottom/right only shrink OH/OW, which the caller computed); a window always holds
// at least one real element because pads < pool size):
//   max_pool2d_fwd<T>  x (N, H, W, C) -> y (N, OH, OW, C), argmax (N, OH, OW, C) int64 =
//                      ((n*H + h)*W + w)*C + c of the first maximum in row-major window order.
//   max_pool2d_bwd<T>  g (N, OH, OW, C), argmax -> dx (N, H, W, C): each input element sums g
//                      over the covering windows whose argmax is itself.
//   avg_pool2d_fwd<T>  y = sum over the window's real elements / their count (tf 'same').
//   avg_pool2d_bwd<T>  dx = sum over covering windows of g / that window's count.
// One thread per output element (forward) or per input element (backward: a gather over the
// <= ceil(kh/sh)*ceil(kw/sw) covering windows in a fixed order, so no atomics and
// deterministic sums). Launch: 1-D blocks of 256, any grid (grid-stride loops).
// Dtypes: float, double, __half, __nv_bfloat16; arithmetic in acc_t<T>.
//
// Napkin math (2x2 pool, stride 2, float32, x of 4e7 B): forward reads x once (neighbouring
// threads read neighbouring channels: coalesced) and writes y (1e7 B) + argmax (2e7 B): ~0.02 ms
// at 3.3 TB/s. Backward reads g + argmax once per covering window and writes dx once.
// <= kh*kw compares or adds per output: memory-bound.
#include "nhwc.cuh"

namespace gf {
// The window row/column range [first, last] of outputs covering input coordinate v (1-D).
__device__ __forceinline__ void covering(index_t v, index_t pad, index_t k, index_t s, index_t out, index_t* first,
                                         index_t* last) {
  const index_t p = v + pad;                      // coordinate in the padded input
  *first = p < k ? 0 : (p - k) / s + 1;           // the first window start o*s with o*s + k > p
  *last = p / s < out - 1 ? p / s : out - 1;      // the last window start o*s <= p
}
}  // namespace gf

template <typename T>
__global__ void max_pool2d_fwd(const T* __restrict__ x, T* __restrict__ y, long long* __restrict__ argmax,
                               gf::index_t n_out, gf::index_t h, gf::index_t w, gf::index_t c, gf::index_t oh,
                               gf::index_t ow, gf::index_t kh, gf::index_t kw, gf::index_t sh, gf::index_t sw,
                               gf::index_t top, gf::index_t left) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(i, n_out) {
    const gf::Pixel o = gf::pixel_of(i, oh, ow, c);
    const gf::index_t n = o.n, row = o.y, col = o.x, ch = o.c;
    A best = 0;
    gf::index_t where = -1;
    for (gf::index_t a = 0; a < kh; ++a) {
      const gf::index_t yy = row * sh - top + a;
      if (yy < 0 || yy >= h) continue;
      for (gf::index_t b = 0; b < kw; ++b) {
        const gf::index_t xx = col * sw - left + b;
        if (xx < 0 || xx >= w) continue;
        const gf::index_t at = ((n * h + yy) * w + xx) * c + ch;
        const A v = gf::load(x[at]);
        if (where < 0 || v > best) {  // strict: ties keep the first maximum, as tf does
          best = v;
          where = at;
        }
      }
    }
    y[i] = gf::store<T>(best);
    argmax[i] = where;
  }
}

template <typename T>
__global__ void max_pool2d_bwd(const T* __restrict__ g, const long long* __restrict__ argmax, T* __restrict__ dx,
                               gf::index_t n_in, gf::index_t h, gf::index_t w, gf::index_t c, gf::index_t oh,
                               gf::index_t ow, gf::index_t kh, gf::index_t kw, gf::index_t sh, gf::index_t sw,
                               gf::index_t top, gf::index_t left) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(i, n_in) {
    const gf::Pixel p = gf::pixel_of(i, h, w, c);
    const gf::index_t n = p.n, yy = p.y, xx = p.x, ch = p.c;
    gf::index_t r0, r1, c0, c1;
    gf::covering(yy, top, kh, sh, oh, &r0, &r1);
    gf::covering(xx, left, kw, sw, ow, &c0, &c1);
    A sum = 0;
    for (gf::index_t row = r0; row <= r1; ++row)
      for (gf::index_t col = c0; col <= c1; ++col) {
        const gf::index_t o = ((n * oh + row) * ow + col) * c + ch;
        if (argmax[o] == i) sum += gf::load(g[o]);
      }
    dx[i] = gf::store<T>(sum);
  }
}

namespace gf {
// Real (unpadded) elements in the window starting at padded coordinate start along one axis.
__device__ __forceinline__ index_t real_extent(index_t start, index_t k, index_t size) {
  const index_t lo = start < 0 ? 0 : start, hi = start + k < size ? start + k : size;
  return hi - lo;
}
}  // namespace gf

template <typename T>
__global__ void avg_pool2d_fwd(const T* __restrict__ x, T* __restrict__ y, gf::index_t n_out, gf::index_t h,
                               gf::index_t w, gf::index_t c, gf::index_t oh, gf::index_t ow, gf::index_t kh,
                               gf::index_t kw, gf::index_t sh, gf::index_t sw, gf::index_t top, gf::index_t left) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(i, n_out) {
    const gf::Pixel o = gf::pixel_of(i, oh, ow, c);
    const gf::index_t n = o.n, row = o.y, col = o.x, ch = o.c;
    const gf::index_t y0 = row * sh - top, x0 = col * sw - left;
    A sum = 0;
    for (gf::index_t a = 0; a < kh; ++a) {
      if (y0 + a < 0 || y0 + a >= h) continue;
      for (gf::index_t b = 0; b < kw; ++b) {
        if (x0 + b < 0 || x0 + b >= w) continue;
        sum += gf::load(x[((n * h + y0 + a) * w + x0 + b) * c + ch]);
      }
    }
    y[i] = gf::store<T>(sum / (A)(gf::real_extent(y0, kh, h) * gf::real_extent(x0, kw, w)));
  }
}

template <typename T>
__global__ void avg_pool2d_bwd(const T* __restrict__ g, T* __restrict__ dx, gf::index_t n_in, gf::index_t h,
                               gf::index_t w, gf::index_t c, gf::index_t oh, gf::index_t ow, gf::index_t kh,
                               gf::index_t kw, gf::index_t sh, gf::index_t sw, gf::index_t top, gf::index_t left) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(i, n_in) {
    const gf::Pixel p = gf::pixel_of(i, h, w, c);
    const gf::index_t n = p.n, yy = p.y, xx = p.x, ch = p.c;
    gf::index_t r0, r1, c0, c1;
    gf::covering(yy, top, kh, sh, oh, &r0, &r1);
    gf::covering(xx, left, kw, sw, ow, &c0, &c1);
    A sum = 0;
    for (gf::index_t row = r0; row <= r1; ++row) {
      const A rows = (A)gf::real_extent(row * sh - top, kh, h);
      for (gf::index_t col = c0; col <= c1; ++col)
        sum += gf::load(g[((n * oh + row) * ow + col) * c + ch]) / (rows * (A)gf::real_extent(col * sw - left, kw, w));
    }
    dx[i] = gf::store<T>(sum);
  }
}
