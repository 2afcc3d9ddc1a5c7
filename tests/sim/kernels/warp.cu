// One kernel driving every warp op, so the tests can compare with a NumPy model.
#include "common.cuh"

enum { SHFL = 0, UP = 1, DOWN = 2, XOR = 3, BALLOT = 4, ANY = 5, ALL = 6, SYNCWARP = 7, MATCH_ANY = 8 };

// Threads whose lane is in `mask` take part (with that mask); the others write -1.
extern "C" __global__ void warp_ops(const int* in, const int* arg, int* out, int op, unsigned mask, int width) {
  unsigned t = threadIdx.x;
  unsigned lane = t % warpSize;
  if (!(mask >> lane & 1u)) { out[t] = -1; return; }
  int v = in[t], a = arg[t], r = 0;
  switch (op) {
    case SHFL: r = __shfl_sync(mask, v, a, width); break;
    case UP: r = __shfl_up_sync(mask, v, (unsigned)a, width); break;
    case DOWN: r = __shfl_down_sync(mask, v, (unsigned)a, width); break;
    case XOR: r = __shfl_xor_sync(mask, v, a, width); break;
    case BALLOT: r = (int)__ballot_sync(mask, v & 1); break;
    case ANY: r = __any_sync(mask, v & 1); break;
    case ALL: r = __all_sync(mask, v & 1); break;
    case SYNCWARP: r = (int)__activemask(); __syncwarp(mask); break;  // no lane can exit before all arrive
    case MATCH_ANY: r = (int)__match_any_sync(mask, v); break;
  }
  out[t] = r;
}

// Shuffles of 64-bit and 16-bit types move whole values.
extern "C" __global__ void shfl_types(const double* d, const __half* h, double* od, __half* oh) {
  unsigned t = threadIdx.x;
  od[t] = __shfl_xor_sync(0xffffffffu, d[t], 1);
  oh[t] = __shfl_sync(0xffffffffu, h[t], 31 - (int)(t % 32));
}
