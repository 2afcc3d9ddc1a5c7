// image.cu: gf.image.resize's resampling along one axis, and the projective transform behind Keras'
// RandomRotation, RandomZoom and RandomTranslation (TF's ImageProjectiveTransformV3).
//
// Contract (arrays C-contiguous; T in float, double, __half, __nv_bfloat16; A = gf::acc_t<T>, the
// type each output is computed in; launch: 256 threads, grid-stride, any grid):
//   resample<T>   x (outer, n_src, inner) -> out (outer, n_dst, inner):
//                 out[o, d, i] = sum_{k < taps} w[d, k] * x[o, idx[d, k], i], the taps summed in
//                 order from 0. idx (int) and w (A) are the (n_dst, taps) table the host builds
//                 (gpuflow/backend/resample.py): bilinear, antialiased triangle, or the transpose
//                 of either (the gradient). A thread per output element: neighbouring threads
//                 take neighbouring i, so loads and stores are coalesced along `inner` (the
//                 channels, or a row of pixels when resizing the height).
//   projective_transform<T>
//                 images (n, h, w, c), transforms (1 or n, 8) float -> out (n, out_h, out_w, c).
//                 Output pixel (x, y) reads the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y +
//                 b2) / k), k = c0 x + c1 y + 1 (k == 0: fill_value), each coordinate mapped
//                 by fill_mode (0 reflect, 1 wrap, 2 constant, 3 nearest) as TF's MapCoordinate
//                 (wrap a true modulo), then read nearest (roundf) or bilinear (4 taps); reads
//                 outside the image give fill_value. Coordinates in float, as TF's kernel.
//                 A thread per output element (channels innermost).
// Napkin math: resample moves (taps + 1) * sizeof(T) bytes per output (taps 2 for bilinear
// upsampling, ~2 * in/out + 1 when antialiasing a downsample; the extra loads mostly hit cache)
// and 2 * taps FLOPs; resizing H then W costs two passes. The transform reads up to 4 pixels per
// output and does ~30 FLOPs of coordinate math, recomputed per channel (c is small for images).
#include "common.cuh"

namespace gf {

__device__ __forceinline__ float map_coordinate(float c, index_t len, int mode) {
  if (mode == 2) return c;  // constant: reads outside the image give fill_value
  const float last = (float)(len - 1);
  if (len <= 1) return 0.0f;
  if (mode == 0) {  // reflect [abcd] -> dcba|abcd|dcba
    const float sz2 = (float)(2 * len);
    if (c < 0) {
      c = sz2 * truncf(-c / sz2) + c;
      c = c < -(float)len ? c + sz2 : -c - 1.0f;
    } else if (c > last) {
      c = c - sz2 * truncf(c / sz2);
      if (c >= (float)len) c = sz2 - c - 1.0f;
    }
  } else if (mode == 1) {  // wrap [abcd] -> abcd|abcd|abcd
    if (c < 0 || c > last) c = c - (float)len * floorf(c / (float)len);
  }
  return c < 0 ? 0.0f : (c > last ? last : c);  // NaN passes through (and then reads fill_value)
}

template <typename T>
__device__ __forceinline__ acc_t<T> read_or_fill(const T* image, index_t h, index_t w, index_t c, float y,
                                                 float x, index_t channel, acc_t<T> fill) {
  if (!(y >= 0 && y < (float)h && x >= 0 && x < (float)w)) return fill;
  return load(image[(((index_t)y) * w + (index_t)x) * c + channel]);
}

}  // namespace gf

template <typename T>
__global__ void resample(const T* __restrict__ x, T* __restrict__ out, const int* __restrict__ idx,
                         const gf::acc_t<T>* __restrict__ w, gf::index_t outer, gf::index_t n_src,
                         gf::index_t n_dst, gf::index_t inner, int taps) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(i, outer * n_dst * inner) {
    const gf::index_t in = i % inner, rest = i / inner;
    const gf::index_t d = rest % n_dst, o = rest / n_dst;
    const T* src = x + o * n_src * inner + in;
    A acc = 0;
    for (int k = 0; k < taps; ++k) acc += w[d * taps + k] * gf::load(src[(gf::index_t)idx[d * taps + k] * inner]);
    out[i] = gf::store<T>(acc);
  }
}

template <typename T>
__global__ void projective_transform(const T* __restrict__ images, const float* __restrict__ transforms,
                                     T* __restrict__ out, gf::index_t n, gf::index_t h, gf::index_t w,
                                     gf::index_t c, gf::index_t out_h, gf::index_t out_w, int per_image,
                                     int bilinear, int fill_mode, float fill_value) {
  typedef gf::acc_t<T> A;
  const A fill = (A)fill_value;
  GF_GRID_STRIDE_LOOP(i, n * out_h * out_w * c) {
    const gf::index_t channel = i % c, pixel = i / c;
    const gf::index_t ox = pixel % out_w, rows = pixel / out_w;
    const gf::index_t oy = rows % out_h, b = rows / out_h;
    const float* t = transforms + (per_image ? b * 8 : 0);
    const float fx = (float)ox, fy = (float)oy;
    const float projection = t[6] * fx + t[7] * fy + 1.0f;
    A value = fill;
    if (projection != 0) {
      const float x = gf::map_coordinate((t[0] * fx + t[1] * fy + t[2]) / projection, w, fill_mode);
      const float y = gf::map_coordinate((t[3] * fx + t[4] * fy + t[5]) / projection, h, fill_mode);
      const T* image = images + b * h * w * c;
      if (!bilinear) {
        value = gf::read_or_fill(image, h, w, c, roundf(y), roundf(x), channel, fill);
      } else {
        const float y0 = floorf(y), x0 = floorf(x), y1 = y0 + 1.0f, x1 = x0 + 1.0f;
        const A wx0 = (A)(x1 - x), wx1 = (A)(x - x0);
        const A top = wx0 * gf::read_or_fill(image, h, w, c, y0, x0, channel, fill) +
                      wx1 * gf::read_or_fill(image, h, w, c, y0, x1, channel, fill);
        const A bottom = wx0 * gf::read_or_fill(image, h, w, c, y1, x0, channel, fill) +
                         wx1 * gf::read_or_fill(image, h, w, c, y1, x1, channel, fill);
        value = (A)(y1 - y) * top + (A)(y - y0) * bottom;
      }
    }
    out[i] = gf::store<T>(value);
  }
}
