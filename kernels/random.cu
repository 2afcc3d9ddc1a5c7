// random.cu: Philox 4x32-10 draws, bit for bit the streams of gpuflow/backend/numpy/philox.py
// (its docstring is the specification; tests/ops/test_random.py compares cpu and sim bits).
//
// Kernels (key = (k0, k1) by value; offset = a device pointer to one int64, the draw's counter word
// c2 = (unsigned)offset[0], read on the device so a replayed graph or CUDA Graph draws new numbers when
// the host feeds the next offset into that buffer):
//   uniform<T>(out, n, k0, k1, offset)           Philox block b -> elements 4b..4b+3
//   normal<T>(out, n, k0, k1, offset)            element i -> block (i, offset, 0), Box-Muller cos
//   truncated_normal<T>(out, n, k0, k1, offset)  element i -> blocks (i, offset, attempt < 8)
//   dropout<T>(x, y, n, k0, k1, offset, rate)    keep where the float32 uniform >= rate
// Launch: 1-D grid-stride loops over blocks of 4 (uniform, dropout) or elements (normals),
// block 256, grid = backend.grid_for(work).
// Dtypes: T in {__half, __nv_bfloat16, float, double}. Uniforms are exact in T (m random bits
// times 2^-m), normals are computed in double and rounded once to T (convert.cuh).
// Napkin math: one Philox block is 10 rounds of 2 32x32->64 multiplies, ~30 integer ops per
// 4 uniforms; at 1e8 float32 that is ~1e9 integer ops plus 0.4 GB written: bandwidth-bound.
// Normals need double log/sqrt/cos per element: compute-bound on GPUs with slow FP64.
#include "common.cuh"
#include "convert.cuh"

namespace gf {

struct Philox4 { unsigned v[4]; };

__device__ __forceinline__ Philox4 philox(unsigned c0, unsigned c1, unsigned c2, unsigned c3, unsigned k0,
                                          unsigned k1) {
  for (int round = 0; round < 10; ++round) {
    const unsigned long long p0 = 0xD2511F53ull * c0, p1 = 0xCD9E8D57ull * c2;
    const unsigned n0 = (unsigned)(p1 >> 32) ^ c1 ^ k0, n2 = (unsigned)(p0 >> 32) ^ c3 ^ k1;
    c1 = (unsigned)p1;
    c3 = (unsigned)p0;
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// The top m bits of a uniform word as a value in [0, 1), exact in T.
template <typename T> struct Unit {
  static constexpr int m = 24;
  __device__ static T of(unsigned bits) { return store<T>((acc_t<T>)(bits >> (32 - m)) * (acc_t<T>)(1.0f / (1 << m))); }
};
template <> struct Unit<__half> {
  static constexpr int m = 11;
  __device__ static __half of(unsigned bits) { return store<__half>((float)(bits >> (32 - m)) * (1.0f / (1 << m))); }
};
template <> struct Unit<__nv_bfloat16> {
  static constexpr int m = 8;
  __device__ static __nv_bfloat16 of(unsigned bits) {
    return store<__nv_bfloat16>((float)(bits >> (32 - m)) * (1.0f / (1 << m)));
  }
};
template <> struct Unit<double> {
  __device__ static double of(unsigned bits) { return (double)bits * 0x1p-32; }
};

__device__ __forceinline__ void box_muller(unsigned a, unsigned b, double* z_cos, double* z_sin) {
  const double u1 = ((double)a + 1.0) * 0x1p-32;  // in (0, 1]: log is finite
  const double u2 = (double)b * 0x1p-32;
  const double r = sqrt(-2.0 * log(u1));
  const double t = 6.283185307179586 * u2;
  *z_cos = r * cos(t);
  *z_sin = r * sin(t);
}

}  // namespace gf

template <typename T>
__global__ void uniform(T* __restrict__ out, gf::index_t n, unsigned k0, unsigned k1,
                        const long long* __restrict__ offset) {
  const unsigned c2 = (unsigned)offset[0];
  GF_GRID_STRIDE_LOOP(b, (n + 3) / 4) {
    const gf::Philox4 r = gf::philox((unsigned)b, (unsigned)(b >> 32), c2, 0u, k0, k1);
    for (int lane = 0; lane < 4; ++lane) {
      const gf::index_t i = 4 * b + lane;
      if (i < n) out[i] = gf::Unit<T>::of(r.v[lane]);
    }
  }
}

template <typename T>
__global__ void normal(T* __restrict__ out, gf::index_t n, unsigned k0, unsigned k1,
                       const long long* __restrict__ offset) {
  const unsigned c2 = (unsigned)offset[0];
  GF_GRID_STRIDE_LOOP(i, n) {
    const gf::Philox4 r = gf::philox((unsigned)i, (unsigned)(i >> 32), c2, 0u, k0, k1);
    double zc, zs;
    gf::box_muller(r.v[0], r.v[1], &zc, &zs);
    out[i] = gf::from_double<T>(zc);
  }
}

template <typename T>
__global__ void truncated_normal(T* __restrict__ out, gf::index_t n, unsigned k0, unsigned k1,
                                 const long long* __restrict__ offset) {
  const unsigned c2 = (unsigned)offset[0];
  GF_GRID_STRIDE_LOOP(i, n) {
    double found = 0.0;  // after 8 attempts without a hit (probability < 1e-40): 0
    bool hit = false;
    for (unsigned attempt = 0; attempt < 8 && !hit; ++attempt) {
      const gf::Philox4 r = gf::philox((unsigned)i, (unsigned)(i >> 32), c2, attempt, k0, k1);
      double z[4];
      gf::box_muller(r.v[0], r.v[1], &z[0], &z[1]);
      gf::box_muller(r.v[2], r.v[3], &z[2], &z[3]);
      for (int k = 0; k < 4 && !hit; ++k) {
        if (fabs(z[k]) < 2.0) {
          found = z[k];
          hit = true;
        }
      }
    }
    out[i] = gf::from_double<T>(found);
  }
}

template <typename T>
__global__ void dropout(const T* __restrict__ x, T* __restrict__ y, gf::index_t n, unsigned k0, unsigned k1,
                        const long long* __restrict__ offset, double rate) {
  typedef gf::acc_t<T> A;
  const A scale = A(1) / (A(1) - (A)rate);
  const float threshold = (float)rate;
  const unsigned c2 = (unsigned)offset[0];
  GF_GRID_STRIDE_LOOP(b, (n + 3) / 4) {
    const gf::Philox4 r = gf::philox((unsigned)b, (unsigned)(b >> 32), c2, 0u, k0, k1);
    for (int lane = 0; lane < 4; ++lane) {
      const gf::index_t i = 4 * b + lane;
      if (i < n) {
        const bool keep = (float)(r.v[lane] >> 8) * 0x1p-24f >= threshold;
        y[i] = gf::store<T>(keep ? gf::load(x[i]) * scale : A(0));
      }
    }
  }
}
