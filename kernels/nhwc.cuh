// nhwc.cuh: the (batch, row, column, channel) coordinates of a flat index into an NHWC tensor,
// shared by the convolution and pooling kernels (one thread per element of an input or output).
#pragma once
#include "common.cuh"

namespace gf {
struct Pixel { index_t n, y, x, c; };

__device__ __forceinline__ Pixel pixel_of(index_t i, index_t h, index_t w, index_t c) {
  Pixel p;
  p.c = i % c; i /= c;
  p.x = i % w; i /= w;
  p.y = i % h;
  p.n = i / h;
  return p;
}
}  // namespace gf
