// scan.cu: cumulative sum, product and log-sum-exp along one axis (inclusive or exclusive,
// forwards or reversed), as a 3-phase "reduce, scan the totals, scan again" block scan.
//
// Contract (arrays C-contiguous; T in float, double, __half, __nv_bfloat16, int, long long for
// Sum and Prod, the float types for LogAdd; A = gf::acc_t<T>, the type every partial is kept in):
//   Kinds (reduce.cuh): gf::SumKind, gf::ProdKind (integers wrap around, as NumPy's), and
//   gf::LogAddKind here: log(exp(a) + exp(b)), computed as max + log1p(exp(-|a - b|)), so
//   nothing overflows; -inf is its identity, a NaN anywhere gives NaN.
//   Logical position p of a row of n maps to element p (or n - 1 - p when `reverse`); the
//   result at p combines positions 0..p (0..p-1 when `exclusive`, the identity at p = 0).
//   Rows (x viewed as (rows, n), the axis last), in tiles of kTile = 1024 logical positions:
//     reduce_tiles<T, Kind>  totals[row, tile] = the tile's combination, in A. Block 256, one
//                            (row, tile) per block iteration (grid-stride over tiles).
//     scan_tiles<T, Kind>    out = the scan of each tile started from seeds[row, tile] (when
//                            has_seeds; else the identity). Block 256 (8 full warps): a
//                            coalesced load to shared memory, 4 consecutive positions per
//                            thread, warp scans by shuffles, warp totals scanned by warp 0.
//     The host runs scan_tiles alone when a row is one tile; else reduce_tiles, then the
//     exclusive scan of the (rows, tiles) totals (the same kernels on A, recursively), then
//     scan_tiles with those seeds: every element is rounded to T once.
//   Columns (x viewed as (outer, n, inner), inner > 1 or short rows):
//     scan_cols<T, Kind>     a thread per (outer, inner) column walks its n elements in order:
//                            neighbouring threads read neighbouring addresses. Grid-stride.
// Napkin math (float32, n elements): rows of one tile: 4n bytes read + 4n written; longer rows
// read x twice (8n + 4n bytes: 1.5x a copy), totals are 1/1024 of that. ~1 op per element
// (LogAdd: one exp and one log1p). Columns: 4n read + 4n written, but only outer * inner
// threads: fine for wide inner axes, latency-bound for few long columns.
#include "reduce.cuh"

namespace gf {

__device__ __forceinline__ float log1p_(float v) { return log1pf(v); }
__device__ __forceinline__ double log1p_(double v) { return log1p(v); }

struct LogAddKind {
  template <typename A> __device__ static A identity() { return Limits<A>::lowest(); }
  template <typename A> __device__ static A apply(A a, A b) {
    if (is_nan(a) || is_nan(b)) return a + b;
    const A m = a > b ? a : b;
    if (m == Limits<A>::lowest() || m == Limits<A>::highest()) return m;  // exp(-inf) sums and +inf stay
    const A d = a > b ? b - a : a - b;
    return m + log1p_(exp_(d));
  }
};

constexpr int kScanBlock = 256, kScanItems = 4, kScanTile = kScanBlock * kScanItems;

__device__ __forceinline__ index_t scan_element(index_t p, index_t n, int reverse) { return reverse ? n - 1 - p : p; }

}  // namespace gf

template <typename T, typename Kind>
__global__ void reduce_tiles(const T* __restrict__ x, gf::acc_t<T>* __restrict__ totals, gf::index_t rows,
                             gf::index_t n, gf::index_t tiles, int reverse) {
  typedef gf::acc_t<T> A;
  typedef gf::ScalarOp<A, Kind> Op;
  for (gf::index_t t = blockIdx.x; t < rows * tiles; t += gridDim.x) {
    const gf::index_t row = t / tiles, p0 = (t - row * tiles) * gf::kScanTile;
    const gf::index_t len = n - p0 < gf::kScanTile ? n - p0 : gf::kScanTile;
    typename Op::State s = Op::identity();
    for (gf::index_t k = threadIdx.x; k < len; k += blockDim.x)
      s.v = Kind::apply(s.v, (A)gf::load(x[row * n + gf::scan_element(p0 + k, n, reverse)]));
    s = gf::block_reduce<Op>(s);
    if (threadIdx.x == 0) totals[t] = s.v;
  }
}

template <typename T, typename Kind>
__global__ void scan_tiles(const T* __restrict__ x, T* __restrict__ out, const gf::acc_t<T>* __restrict__ seeds,
                           int has_seeds, gf::index_t rows, gf::index_t n, gf::index_t tiles, int exclusive,
                           int reverse) {
  typedef gf::acc_t<T> A;
  __shared__ A buf[gf::kScanTile];
  __shared__ A warp_total[gf::kScanBlock / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const A id = Kind::template identity<A>();
  for (gf::index_t t = blockIdx.x; t < rows * tiles; t += gridDim.x) {
    const gf::index_t row = t / tiles, p0 = (t - row * tiles) * gf::kScanTile;
    const gf::index_t len = n - p0 < gf::kScanTile ? n - p0 : gf::kScanTile;
    const T* src = x + row * n;
    T* dst = out + row * n;
    for (int k = threadIdx.x; k < gf::kScanTile; k += blockDim.x)
      buf[k] = k < len ? (A)gf::load(src[gf::scan_element(p0 + k, n, reverse)]) : id;
    __syncthreads();
    A local = id;
    for (int i = 0; i < gf::kScanItems; ++i) local = Kind::apply(local, buf[threadIdx.x * gf::kScanItems + i]);
    A incl = local;  // inclusive scan of the thread totals within the warp
    for (int d = 1; d < 32; d <<= 1) {
      const A other = __shfl_up_sync(0xffffffffu, incl, d);
      if (lane >= d) incl = Kind::apply(other, incl);
    }
    if (lane == 31) warp_total[warp] = incl;
    __syncthreads();
    if (warp == 0) {
      A w = lane < gf::kScanBlock / 32 ? warp_total[lane] : id;
      for (int d = 1; d < 32; d <<= 1) {
        const A other = __shfl_up_sync(0xffffffffu, w, d);
        if (lane >= d) w = Kind::apply(other, w);
      }
      if (lane < gf::kScanBlock / 32) warp_total[lane] = w;  // now inclusive over warps
    }
    __syncthreads();
    A before = __shfl_up_sync(0xffffffffu, incl, 1);  // this thread's exclusive prefix within its warp
    if (lane == 0) before = id;
    A run = has_seeds ? seeds[t] : id;
    if (warp > 0) run = Kind::apply(run, warp_total[warp - 1]);
    run = Kind::apply(run, before);
    for (int i = 0; i < gf::kScanItems; ++i) {
      const int k = threadIdx.x * gf::kScanItems + i;
      const A v = buf[k];
      if (exclusive) { buf[k] = run; run = Kind::apply(run, v); }
      else { run = Kind::apply(run, v); buf[k] = run; }
    }
    __syncthreads();
    for (int k = threadIdx.x; k < len; k += blockDim.x)
      dst[gf::scan_element(p0 + k, n, reverse)] = gf::store<T>(buf[k]);
    __syncthreads();  // the next tile overwrites buf and warp_total
  }
}

template <typename T, typename Kind>
__global__ void scan_cols(const T* __restrict__ x, T* __restrict__ out, gf::index_t outer, gf::index_t n,
                          gf::index_t inner, int exclusive, int reverse) {
  typedef gf::acc_t<T> A;
  GF_GRID_STRIDE_LOOP(c, outer * inner) {
    const gf::index_t o = c / inner, i = c - o * inner;
    const T* src = x + o * n * inner + i;
    T* dst = out + o * n * inner + i;
    A run = Kind::template identity<A>();
    for (gf::index_t p = 0; p < n; ++p) {
      const gf::index_t j = gf::scan_element(p, n, reverse) * inner;
      const A v = gf::load(src[j]);
      if (exclusive) { dst[j] = gf::store<T>(run); run = Kind::apply(run, v); }
      else { run = Kind::apply(run, v); dst[j] = gf::store<T>(run); }
    }
  }
}
