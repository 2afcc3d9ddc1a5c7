// conv.cu: patch extraction for convolution (NHWC), and its adjoint. The GEMM is cuBLAS's.
//
// Contract (all arrays C-contiguous):
//   im2col<T>  x (N, H, W, C) -> cols (N, OH, OW, KH, KW, C),
//              cols[n,i,j,a,b,c] = x[n, i*sh - top + a*dh, j*sw - left + b*dw, c], 0 in the padding.
//              One thread per cols element (grid-stride): C is innermost in both arrays, so
//              neighbouring threads read and write neighbouring addresses.
//   col2im<T>  cols (N, OH, OW, KH, KW, C) -> x (N, H, W, C), x = the sum of every cols entry
//              that im2col copied from it. One thread per x element *gathers* from the
//              (<= KH*KW) patches covering it, in a fixed tap order: deterministic, no atomics.
// Launch: 1-D blocks of 256, any grid (grid-stride loops). Dtypes: float, double, __half,
// __nv_bfloat16 (col2im sums in acc_t<T>, float for the 16-bit types).
//
// Napkin math (float32, 3x3 kernel, N*H*W*C = 1e7 = a 128x56x56x32 activation): im2col
// writes 9 * 40 MB = 360 MB and reads x ~once through L2 (40 MB): ~0.12 ms at 3.3 TB/s; the
// GEMM that follows (2*M*K*F FLOPs) dominates for F >= 32. col2im is the mirror image: reads
// 360 MB of cols and writes 40 MB. No FLOPs beyond col2im's KH*KW adds per element.
#include "nhwc.cuh"

template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ cols, gf::index_t n_cols, gf::index_t h,
                       gf::index_t w, gf::index_t c, gf::index_t oh, gf::index_t ow, gf::index_t kh, gf::index_t kw,
                       gf::index_t sh, gf::index_t sw, gf::index_t dh, gf::index_t dw, gf::index_t top,
                       gf::index_t left) {
  GF_GRID_STRIDE_LOOP(i, n_cols) {
    gf::index_t r = i;
    const gf::index_t ch = r % c; r /= c;
    const gf::index_t b = r % kw; r /= kw;
    const gf::index_t a = r % kh; r /= kh;
    const gf::index_t j = r % ow; r /= ow;
    const gf::index_t row = r % oh;
    const gf::index_t n = r / oh;
    const gf::index_t y = row * sh - top + a * dh, xx = j * sw - left + b * dw;
    cols[i] = (y >= 0 && y < h && xx >= 0 && xx < w) ? x[((n * h + y) * w + xx) * c + ch] : gf::store<T>(0);
  }
}

template <typename T>
__global__ void col2im(const T* __restrict__ cols, T* __restrict__ x, gf::index_t n_x, gf::index_t h, gf::index_t w,
                       gf::index_t c, gf::index_t oh, gf::index_t ow, gf::index_t kh, gf::index_t kw, gf::index_t sh,
                       gf::index_t sw, gf::index_t dh, gf::index_t dw, gf::index_t top, gf::index_t left) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(i, n_x) {
    const gf::Pixel p = gf::pixel_of(i, h, w, c);
    const gf::index_t n = p.n, y = p.y, xx = p.x, ch = p.c;
    A sum = 0;
    for (gf::index_t a = 0; a < kh; ++a) {
      // Output row `row` reads y through tap a when row*sh = y + top - a*dh.
      const gf::index_t num_r = y + top - a * dh;
      if (num_r < 0 || num_r % sh != 0 || num_r / sh >= oh) continue;
      const gf::index_t row = num_r / sh;
      for (gf::index_t b = 0; b < kw; ++b) {
        const gf::index_t num_c = xx + left - b * dw;
        if (num_c < 0 || num_c % sw != 0 || num_c / sw >= ow) continue;
        const gf::index_t col = num_c / sw;
        sum += gf::load(cols[((((n * oh + row) * ow + col) * kh + a) * kw + b) * c + ch]);
      }
    }
    x[i] = gf::store<T>(sum);
  }
}
