// sim_device_functions.h: warp intrinsics, atomics, math functions and intrinsics, conversions.
// The device-side library kernels call; single-threaded execution makes atomics plain read-modify-writes.
// Part of the simulator's CUDA model; included by cuda_sim.h in order, never on its own.
#pragma once

// ---------------------------------------------------------------- warp intrinsics
namespace gfsim {
template <class T> static inline uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "warp ops take values of at most 8 bytes");
  uint64_t u = 0;
  memcpy(&u, &v, sizeof(T));
  return u;
}
template <class T> static inline T from_bits(uint64_t u) {
  T v;
  memcpy((void*)&v, &u, sizeof(T));
  return v;
}
}  // namespace gfsim
template <class T> static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  return gfsim::from_bits<T>(gfsim::warp_op(gfsim::OP_SHFL, mask, gfsim::to_bits(v), src, width));
}
template <class T> static inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return gfsim::from_bits<T>(gfsim::warp_op(gfsim::OP_SHFL_UP, mask, gfsim::to_bits(v), (int)delta, width));
}
template <class T> static inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return gfsim::from_bits<T>(gfsim::warp_op(gfsim::OP_SHFL_DOWN, mask, gfsim::to_bits(v), (int)delta, width));
}
template <class T> static inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  return gfsim::from_bits<T>(gfsim::warp_op(gfsim::OP_SHFL_XOR, mask, gfsim::to_bits(v), lane_mask, width));
}
static inline unsigned __ballot_sync(unsigned mask, int p) { return (unsigned)gfsim::warp_op(gfsim::OP_BALLOT, mask, p != 0); }
static inline int __any_sync(unsigned mask, int p) { return (int)gfsim::warp_op(gfsim::OP_ANY, mask, p != 0); }
static inline int __all_sync(unsigned mask, int p) { return (int)gfsim::warp_op(gfsim::OP_ALL, mask, p != 0); }
template <class T> static inline unsigned __match_any_sync(unsigned mask, T v) {
  return (unsigned)gfsim::warp_op(gfsim::OP_MATCH_ANY, mask, gfsim::to_bits(v));
}
template <class T> static inline unsigned __match_all_sync(unsigned mask, T v, int* pred) {
  unsigned r = (unsigned)gfsim::warp_op(gfsim::OP_MATCH_ALL, mask, gfsim::to_bits(v));
  *pred = r != 0;
  return r;
}
static inline int __reduce_add_sync(unsigned m, int v) { return (int)gfsim::warp_op(gfsim::OP_REDUCE_ADD, m, (uint32_t)v, 1); }
static inline unsigned __reduce_add_sync(unsigned m, unsigned v) { return (unsigned)gfsim::warp_op(gfsim::OP_REDUCE_ADD, m, v, 0); }
static inline int __reduce_min_sync(unsigned m, int v) { return (int)gfsim::warp_op(gfsim::OP_REDUCE_MIN, m, (uint32_t)v, 1); }
static inline unsigned __reduce_min_sync(unsigned m, unsigned v) { return (unsigned)gfsim::warp_op(gfsim::OP_REDUCE_MIN, m, v, 0); }
static inline int __reduce_max_sync(unsigned m, int v) { return (int)gfsim::warp_op(gfsim::OP_REDUCE_MAX, m, (uint32_t)v, 1); }
static inline unsigned __reduce_max_sync(unsigned m, unsigned v) { return (unsigned)gfsim::warp_op(gfsim::OP_REDUCE_MAX, m, v, 0); }
static inline unsigned __reduce_and_sync(unsigned m, unsigned v) { return (unsigned)gfsim::warp_op(gfsim::OP_REDUCE_AND, m, v, 0); }
static inline unsigned __reduce_or_sync(unsigned m, unsigned v) { return (unsigned)gfsim::warp_op(gfsim::OP_REDUCE_OR, m, v, 0); }
static inline unsigned __reduce_xor_sync(unsigned m, unsigned v) { return (unsigned)gfsim::warp_op(gfsim::OP_REDUCE_XOR, m, v, 0); }

// ---------------------------------------------------------------- atomics
// Only one simulated thread runs at a time, so a plain read-modify-write is atomic.
namespace gfsim { template <class T> struct ident { typedef T type; }; }
#define GFSIM_ATOMIC(NAME, EXPR)                                                               \
  template <class T> static inline T NAME(T* p, typename gfsim::ident<T>::type v) {            \
    T old = *p;                                                                                \
    *p = EXPR;                                                                                 \
    return old;                                                                                \
  }                                                                                            \
  template <class T> static inline T NAME##_block(T* p, typename gfsim::ident<T>::type v) { return NAME(p, v); } \
  template <class T> static inline T NAME##_system(T* p, typename gfsim::ident<T>::type v) { return NAME(p, v); }
GFSIM_ATOMIC(atomicAdd, T(old + v))
GFSIM_ATOMIC(atomicSub, T(old - v))
GFSIM_ATOMIC(atomicExch, v)
GFSIM_ATOMIC(atomicMax, (v > old ? v : old))
GFSIM_ATOMIC(atomicMin, (v < old ? v : old))
GFSIM_ATOMIC(atomicAnd, T(old & v))
GFSIM_ATOMIC(atomicOr, T(old | v))
GFSIM_ATOMIC(atomicXor, T(old ^ v))
GFSIM_ATOMIC(atomicInc, T((old >= v) ? 0 : old + 1))
GFSIM_ATOMIC(atomicDec, T((old == 0 || old > v) ? v : old - 1))
#undef GFSIM_ATOMIC
namespace gfsim {
// A failed CAS can only mean a spin lock held by another thread (between a load and a CAS
// nothing else runs): let the other threads run, as a GPU's independent scheduling would.
static inline void spin_yield() {
  if (S.n == 0 || S.th == nullptr) return;
  yield_to_scheduler();
}
}  // namespace gfsim
template <class T> static inline T atomicCAS(T* p, typename gfsim::ident<T>::type cmp, typename gfsim::ident<T>::type v) {
  T old = *p;
  if (memcmp(&old, &cmp, sizeof(T)) == 0) *p = v;
  else gfsim::spin_yield();
  return old;
}
template <class T> static inline T atomicCAS_block(T* p, T cmp, T v) { return atomicCAS(p, cmp, v); }

// ---------------------------------------------------------------- math
template <class A, class B, class = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
static inline std::common_type_t<A, B> min(A a, B b) {
  typedef std::common_type_t<A, B> C;
  return (C)b < (C)a ? (C)b : (C)a;
}
template <class A, class B, class = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
static inline std::common_type_t<A, B> max(A a, B b) {
  typedef std::common_type_t<A, B> C;
  return (C)a < (C)b ? (C)b : (C)a;
}
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
static inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
static inline double rcbrt(double x) { return 1.0 / cbrt(x); }
// glibc already declares __expf, __logf, ... as its own internal functions, so these
// intrinsics are macros.
#define __expf(x) expf(x)
#define __exp10f(x) exp10f(x)
#define __logf(x) logf(x)
#define __log2f(x) log2f(x)
#define __log10f(x) log10f(x)
#define __sinf(x) sinf(x)
#define __cosf(x) cosf(x)
#define __tanf(x) tanf(x)
#define __sincosf(x, s, c) sincosf((x), (s), (c))
#define __powf(a, b) powf((a), (b))
static inline float __fdividef(float a, float b) { return a / b; }
static inline float fdividef(float a, float b) { return a / b; }
static inline float __saturatef(float x) { return isnan(x) ? 0.0f : (x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x)); }
static inline float sinpif(float x) { return sinf((float)M_PI * x); }
static inline float cospif(float x) { return cosf((float)M_PI * x); }
static inline double sinpi(double x) { return sin(M_PI * x); }
static inline double cospi(double x) { return cos(M_PI * x); }
static inline float normcdff(float x) { return 0.5f * erfcf(-x * (float)M_SQRT1_2); }
static inline double normcdf(double x) { return 0.5 * erfc(-x * M_SQRT1_2); }
static inline double erfinv(double y) {
  // Giles' approximation, then two Newton steps on erf(x) - y.
  if (y <= -1.0) return y == -1.0 ? -INFINITY : NAN;
  if (y >= 1.0) return y == 1.0 ? INFINITY : NAN;
  double w = -log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    x = 2.81022636e-08; x = 3.43273939e-07 + x * w; x = -3.5233877e-06 + x * w; x = -4.39150654e-06 + x * w;
    x = 0.00021858087 + x * w; x = -0.00125372503 + x * w; x = -0.00417768164 + x * w; x = 0.246640727 + x * w;
    x = 1.50140941 + x * w;
  } else {
    w = sqrt(w) - 3.0;
    x = -0.000200214257; x = 0.000100950558 + x * w; x = 0.00134934322 + x * w; x = -0.00367342844 + x * w;
    x = 0.00573950773 + x * w; x = -0.0076224613 + x * w; x = 0.00943887047 + x * w; x = 1.00167406 + x * w;
    x = 2.83297682 + x * w;
  }
  x *= y;
  for (int i = 0; i < 2; ++i) x -= (erf(x) - y) / (2.0 / sqrt(M_PI) * exp(-x * x));
  return x;
}
static inline float erfinvf(float y) { return (float)erfinv((double)y); }
static inline float erfcinvf(float y) { return (float)erfinv(1.0 - (double)y); }
static inline double erfcinv(double y) { return erfinv(1.0 - y); }
#define GFSIM_RN(NAME, T, OP) \
  static inline T NAME##_rn(T a, T b) { return a OP b; } static inline T NAME##_rz(T a, T b) { return a OP b; } \
  static inline T NAME##_ru(T a, T b) { return a OP b; } static inline T NAME##_rd(T a, T b) { return a OP b; }
GFSIM_RN(__fadd, float, +)
GFSIM_RN(__fsub, float, -)
GFSIM_RN(__fmul, float, *)
GFSIM_RN(__fdiv, float, /)
GFSIM_RN(__dadd, double, +)
GFSIM_RN(__dsub, double, -)
GFSIM_RN(__dmul, double, *)
GFSIM_RN(__ddiv, double, /)
#undef GFSIM_RN
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
static inline float __frcp_rn(float a) { return 1.0f / a; }
static inline float __fsqrt_rn(float a) { return sqrtf(a); }
static inline float __frsqrt_rn(float a) { return 1.0f / sqrtf(a); }
static inline double __drcp_rn(double a) { return 1.0 / a; }
static inline double __dsqrt_rn(double a) { return sqrt(a); }

static inline int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline unsigned __float_as_uint(float f) { unsigned i; memcpy(&i, &f, 4); return i; }
static inline float __uint_as_float(unsigned i) { float f; memcpy(&f, &i, 4); return f; }
static inline long long __double_as_longlong(double d) { long long i; memcpy(&i, &d, 8); return i; }
static inline double __longlong_as_double(long long i) { double d; memcpy(&d, &i, 8); return d; }
static inline int __double2hiint(double d) { return (int)(__double_as_longlong(d) >> 32); }
static inline int __double2loint(double d) { return (int)__double_as_longlong(d); }
static inline double __hiloint2double(int hi, int lo) {
  return __longlong_as_double((long long)(((unsigned long long)(unsigned)hi << 32) | (unsigned)lo));
}

// Conversions. Out-of-range float -> int saturates as on the GPU (NaN -> 0).
namespace gfsim {
template <class I> static inline I sat(double v) {
  constexpr bool is_signed = I(-1) < I(0);
  constexpr unsigned long long top = 1ull << (sizeof(I) * 8 - 1);
  constexpr double hi = is_signed ? (double)top : 2.0 * (double)top;  // first value out of range
  constexpr double lo = is_signed ? -(double)top : 0.0;
  if (v != v) return 0;
  if (v >= hi) return is_signed ? (I)(top - 1) : (I)~0ull;
  if (v <= lo) return is_signed ? (I)top : (I)0;  // (I)top is the signed minimum
  return (I)v;
}
}  // namespace gfsim
#define GFSIM_CVT(NAME, FT, IT)                                                               \
  static inline IT NAME##_rn(FT x) { return gfsim::sat<IT>(nearbyint((double)x)); }          \
  static inline IT NAME##_rz(FT x) { return gfsim::sat<IT>(trunc((double)x)); }              \
  static inline IT NAME##_ru(FT x) { return gfsim::sat<IT>(ceil((double)x)); }               \
  static inline IT NAME##_rd(FT x) { return gfsim::sat<IT>(floor((double)x)); }
GFSIM_CVT(__float2int, float, int)
GFSIM_CVT(__float2uint, float, unsigned)
GFSIM_CVT(__float2ll, float, long long)
GFSIM_CVT(__float2ull, float, unsigned long long)
GFSIM_CVT(__double2int, double, int)
GFSIM_CVT(__double2uint, double, unsigned)
GFSIM_CVT(__double2ll, double, long long)
GFSIM_CVT(__double2ull, double, unsigned long long)
#undef GFSIM_CVT
static inline float __int2float_rn(int i) { return (float)i; }
static inline float __uint2float_rn(unsigned i) { return (float)i; }
static inline float __ll2float_rn(long long i) { return (float)i; }
static inline double __int2double_rn(int i) { return (double)i; }
static inline double __ll2double_rn(long long i) { return (double)i; }
static inline float __double2float_rn(double d) { return (float)d; }

static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x ? __builtin_clz((unsigned)x) : 32; }
static inline int __clzll(long long x) { return x ? __builtin_clzll((unsigned long long)x) : 64; }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned __brev(unsigned x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
  return (x >> 16) | (x << 16);
}
static inline unsigned long long __brevll(unsigned long long x) {
  return ((unsigned long long)__brev((unsigned)x) << 32) | __brev((unsigned)(x >> 32));
}
static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
static inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
static inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
static inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
static inline int __mul24(int a, int b) { return (int)((long long)((a << 8) >> 8) * ((b << 8) >> 8)); }
static inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xffffffu) * (b & 0xffffffu); }
static inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
  unsigned long long v = ((unsigned long long)y << 32) | x;
  unsigned r = 0;
  for (int i = 0; i < 4; ++i) r |= (unsigned)((v >> (8 * ((s >> (4 * i)) & 7))) & 0xff) << (8 * i);
  return r;
}
static inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned s) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)((v << (s & 31)) >> 32);
}
static inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned s) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)(v >> (s & 31));
}
template <class T> static inline T __ldg(const T* p) { return *p; }
template <class T> static inline T __ldcg(const T* p) { return *p; }
template <class T> static inline T __ldca(const T* p) { return *p; }
template <class T> static inline T __ldcs(const T* p) { return *p; }
template <class T> static inline T __ldlu(const T* p) { return *p; }
template <class T> static inline T __ldcv(const T* p) { return *p; }
template <class T> static inline void __stcg(T* p, T v) { *p = v; }
template <class T> static inline void __stcs(T* p, T v) { *p = v; }
template <class T> static inline void __stwb(T* p, T v) { *p = v; }
template <class T> static inline void __stwt(T* p, T v) { *p = v; }

#define CUDART_INF_F INFINITY
#define CUDART_NAN_F NAN
#define CUDART_INF ((double)INFINITY)
#define CUDART_NAN ((double)NAN)
#define CUDART_PI_F 3.141592654f
#define CUDART_PI 3.1415926535897931e+0
