// elementwise_ops.cuh: the scalar semantics of every elementwise op, as functors (gf::Add, gf::Relu...),
// and gf::convert (dtype casts). Shared by elementwise.cu's kernels and by the graph compiler's generated
// fused kernels (gpuflow/graph/fusion.py), so that a fused chain computes bit for bit what the same ops
// compute one launch at a time. The semantics are documented at the top of elementwise.cu.
#pragma once
#include "common.cuh"
#include "convert.cuh"

namespace gf {

// ---- type traits (NVRTC has no <type_traits> by default) -------------------------------
template <typename A, typename B> struct same { static constexpr bool value = false; };
template <typename A> struct same<A, A> { static constexpr bool value = true; };
template <typename T> struct int_traits { static constexpr bool is_int = false; typedef T wrap; };
template <> struct int_traits<int> {
  static constexpr bool is_int = true;
  typedef unsigned wrap;  // integer arithmetic goes through the unsigned twin: wraps, no UB
  static constexpr int lo = -2147483647 - 1, hi = 2147483647;
};
template <> struct int_traits<long long> {
  static constexpr bool is_int = true;
  typedef unsigned long long wrap;
  static constexpr long long lo = -9223372036854775807LL - 1, hi = 9223372036854775807LL;
};
// The storage-only integers: the functors never see them (gf::load widens them to int or long long,
// common.cuh), but gf::convert casts to and from them.
template <> struct int_traits<signed char> {
  static constexpr bool is_int = true;
  typedef unsigned char wrap;
  static constexpr int lo = -128, hi = 127;
};
template <> struct int_traits<short> {
  static constexpr bool is_int = true;
  typedef unsigned short wrap;
  static constexpr int lo = -32768, hi = 32767;
};
template <> struct int_traits<unsigned char> {
  static constexpr bool is_int = true;
  typedef unsigned char wrap;
  static constexpr int lo = 0, hi = 255;
};
template <> struct int_traits<unsigned> {
  static constexpr bool is_int = true;
  typedef unsigned wrap;
  static constexpr unsigned lo = 0, hi = 4294967295u;
};

template <typename T, int V> struct alignas(sizeof(T) * V) Pack { T v[V]; };

// ---- math on float and double by one name ---------------------------------------------
namespace fm {
#define GF_MATH1(NAME, F32, F64)                                          \
  __device__ __forceinline__ float NAME(float x) { return F32(x); }       \
  __device__ __forceinline__ double NAME(double x) { return F64(x); }
GF_MATH1(exp, expf, ::exp)
GF_MATH1(expm1, expm1f, ::expm1)
GF_MATH1(log, logf, ::log)
GF_MATH1(log1p, log1pf, ::log1p)
GF_MATH1(sqrt, sqrtf, ::sqrt)
GF_MATH1(sin, sinf, ::sin)
GF_MATH1(cos, cosf, ::cos)
GF_MATH1(tanh, tanhf, ::tanh)
GF_MATH1(erf, erff, ::erf)
GF_MATH1(erfc, erfcf, ::erfc)
GF_MATH1(tan, tanf, ::tan)
GF_MATH1(asin, asinf, ::asin)
GF_MATH1(acos, acosf, ::acos)
GF_MATH1(atan, atanf, ::atan)
GF_MATH1(sinh, sinhf, ::sinh)
GF_MATH1(cosh, coshf, ::cosh)
GF_MATH1(asinh, asinhf, ::asinh)
GF_MATH1(acosh, acoshf, ::acosh)
GF_MATH1(atanh, atanhf, ::atanh)
GF_MATH1(floor, floorf, ::floor)
GF_MATH1(ceil, ceilf, ::ceil)
GF_MATH1(rint, rintf, ::rint)  // round half to even, as np.round
#undef GF_MATH1
__device__ __forceinline__ float fmod(float a, float b) { return fmodf(a, b); }
__device__ __forceinline__ double fmod(double a, double b) { return ::fmod(a, b); }
__device__ __forceinline__ float pow(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double pow(double a, double b) { return ::pow(a, b); }
__device__ __forceinline__ float atan2(float y, float x) { return atan2f(y, x); }
__device__ __forceinline__ double atan2(double y, double x) { return ::atan2(y, x); }
__device__ __forceinline__ float copysign(float a, float b) { return copysignf(a, b); }
__device__ __forceinline__ double copysign(double a, double b) { return ::copysign(a, b); }
}  // namespace fm

// ---- integer-safe arithmetic -------------------------------------------------------------
template <typename A> __device__ __forceinline__ A wadd(A a, A b) {
  typedef typename int_traits<A>::wrap U;
  return (A)((U)a + (U)b);
}
template <typename A> __device__ __forceinline__ A wsub(A a, A b) {
  typedef typename int_traits<A>::wrap U;
  return (A)((U)a - (U)b);
}
template <typename A> __device__ __forceinline__ A wmul(A a, A b) {
  typedef typename int_traits<A>::wrap U;
  return (A)((U)a * (U)b);
}
template <typename A> __device__ __forceinline__ A wneg(A a) { return -a; }  // floats: -0.0 stays exact
__device__ __forceinline__ int wneg(int a) { return wsub(0, a); }
__device__ __forceinline__ long long wneg(long long a) { return wsub(0LL, a); }
template <typename A> __device__ __forceinline__ bool lt0(A a) { return a < A(0); }
__device__ __forceinline__ bool lt0(bool) { return false; }

// NumPy's npy_divmod for floats: fmod, then fixed up to Python's sign convention.
template <typename A> __device__ A float_floordiv(A a, A b, A* mod_out) {
  A mod = fm::fmod(a, b);
  if (b == A(0)) {
    *mod_out = mod;
    return a / b;
  }
  A div = (a - mod) / b;
  if (mod != A(0)) {
    if ((b < A(0)) != (mod < A(0))) {
      mod += b;
      div -= A(1);
    }
  } else {
    mod = fm::copysign(A(0), b);
  }
  A q;
  if (div != A(0)) {
    q = fm::floor(div);
    if (div - q > A(0.5)) q += A(1);  // (a - mod) / b is within rounding of an integer: snap
  } else {
    q = fm::copysign(A(0), a / b);
  }
  *mod_out = mod;
  return q;
}
template <typename A> __device__ __forceinline__ A floordiv(A a, A b) {
  A mod;
  return float_floordiv(a, b, &mod);
}
template <typename A> __device__ __forceinline__ A pymod(A a, A b) {
  A mod;
  float_floordiv(a, b, &mod);
  return mod;
}
template <typename A> __device__ __forceinline__ A int_floordiv(A a, A b) {
  if (b == 0) return 0;
  if (b == -1) return wneg(a);  // MIN / -1 overflows in C++: wrap to MIN as NumPy does
  A q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}
template <typename A> __device__ __forceinline__ A int_mod(A a, A b) {
  if (b == 0 || b == -1) return 0;  // MIN % -1 traps on x86
  A r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
__device__ __forceinline__ int floordiv(int a, int b) { return int_floordiv(a, b); }
__device__ __forceinline__ long long floordiv(long long a, long long b) { return int_floordiv(a, b); }
__device__ __forceinline__ int pymod(int a, int b) { return int_mod(a, b); }
__device__ __forceinline__ long long pymod(long long a, long long b) { return int_mod(a, b); }

template <typename A> __device__ A int_pow(A base, A e) {
  typedef typename int_traits<A>::wrap U;
  if (e < 0) return base == 1 ? A(1) : base == -1 ? ((e & 1) ? A(-1) : A(1)) : A(0);
  U r = 1, b = (U)base;
  for (; e; e >>= 1) {
    if (e & 1) r *= b;
    b *= b;
  }
  return (A)r;
}
template <typename A> __device__ __forceinline__ A power(A a, A b) { return fm::pow(a, b); }
__device__ __forceinline__ int power(int a, int b) { return int_pow(a, b); }
__device__ __forceinline__ long long power(long long a, long long b) { return int_pow(a, b); }

template <typename A> __device__ __forceinline__ A sigmoid(A x) {
  if (x >= A(0)) return A(1) / (A(1) + fm::exp(-x));
  A e = fm::exp(x);  // x < 0 (or NaN): no overflow in exp
  return e / (A(1) + e);
}

// ---- functors ------------------------------------------------------------------------------
#define GF_UNARY(NAME, OUT, EXPR)                                                            \
  struct NAME {                                                                              \
    template <typename T> using out = OUT;                                                   \
    template <typename A> __device__ __forceinline__ auto operator()(A x, double alpha) const \
    { return EXPR; }                                                                         \
  };
GF_UNARY(Negative, T, wneg(x))
GF_UNARY(Abs, T, lt0(x) ? wneg(x) : x)
GF_UNARY(Sign, T, x > A(0) ? A(1) : x < A(0) ? A(-1) : x)
GF_UNARY(Exp, T, fm::exp(x))
GF_UNARY(Log, T, fm::log(x))
GF_UNARY(Log1p, T, fm::log1p(x))
GF_UNARY(Sqrt, T, fm::sqrt(x))
GF_UNARY(Rsqrt, T, A(1) / fm::sqrt(x))
GF_UNARY(Square, T, wmul(x, x))
GF_UNARY(Reciprocal, T, A(1) / x)
GF_UNARY(Sin, T, fm::sin(x))
GF_UNARY(Cos, T, fm::cos(x))
GF_UNARY(Tanh, T, fm::tanh(x))
GF_UNARY(Sigmoid, T, sigmoid(x))
GF_UNARY(Erf, T, fm::erf(x))
GF_UNARY(Erfc, T, fm::erfc(x))
GF_UNARY(Expm1, T, fm::expm1(x))
GF_UNARY(Tan, T, fm::tan(x))
GF_UNARY(Asin, T, fm::asin(x))
GF_UNARY(Acos, T, fm::acos(x))
GF_UNARY(Atan, T, fm::atan(x))
GF_UNARY(Sinh, T, fm::sinh(x))
GF_UNARY(Cosh, T, fm::cosh(x))
GF_UNARY(Asinh, T, fm::asinh(x))
GF_UNARY(Acosh, T, fm::acosh(x))
GF_UNARY(Atanh, T, fm::atanh(x))
GF_UNARY(Floor, T, fm::floor(x))
GF_UNARY(Ceil, T, fm::ceil(x))
GF_UNARY(Round, T, fm::rint(x))
GF_UNARY(Relu, T, x < A(0) ? A(0) : x)  // NaN passes through, as np.maximum(x, 0)
GF_UNARY(Relu6, T, x < A(0) ? A(0) : x > A(6) ? A(6) : x)
GF_UNARY(LeakyRelu, T, x > A(0) ? x : x * (A)alpha)
GF_UNARY(Elu, T, x > A(0) ? x : (A)alpha * fm::expm1(x))
GF_UNARY(Softplus, T, x > A(0) ? x + fm::log1p(fm::exp(-x)) : fm::log1p(fm::exp(x)))
GF_UNARY(Silu, T, x / (A(1) + fm::exp(-x)))
GF_UNARY(Gelu, T, A(0.5) * x * (A(1) + fm::erf(x * A(0.70710678118654752440))))
GF_UNARY(GeluTanh, T,
         A(0.5) * x * (A(1) + fm::tanh(A(0.79788456080286535588) * (x + A(0.044715) * x * x * x))))
GF_UNARY(LogicalNot, T, !x)
GF_UNARY(IsNan, bool, x != x)
GF_UNARY(IsFinite, bool, x == x && x - x == A(0))  // inf - inf is NaN
#undef GF_UNARY

#define GF_BINARY(NAME, OUT, EXPR)                                                    \
  struct NAME {                                                                       \
    template <typename T> using out = OUT;                                            \
    template <typename A> __device__ __forceinline__ auto operator()(A a, A b) const \
    { return EXPR; }                                                                  \
  };
GF_BINARY(Add, T, wadd(a, b))  // bool: a + b != 0 is logical or
GF_BINARY(Subtract, T, wsub(a, b))
GF_BINARY(Multiply, T, wmul(a, b))
GF_BINARY(Divide, T, a / b)
GF_BINARY(Floordiv, T, floordiv(a, b))
GF_BINARY(Mod, T, pymod(a, b))
GF_BINARY(Pow, T, power(a, b))
GF_BINARY(Atan2, T, fm::atan2(a, b))
GF_BINARY(Maximum, T, a != a ? a : b != b ? b : a > b ? a : b)
GF_BINARY(Minimum, T, a != a ? a : b != b ? b : a < b ? a : b)
GF_BINARY(Equal, bool, a == b)
GF_BINARY(NotEqual, bool, a != b)
GF_BINARY(Less, bool, a < b)
GF_BINARY(LessEqual, bool, a <= b)
GF_BINARY(Greater, bool, a > b)
GF_BINARY(GreaterEqual, bool, a >= b)
GF_BINARY(LogicalAnd, bool, a && b)
GF_BINARY(LogicalOr, bool, a || b)
#undef GF_BINARY

template <typename Op, typename T> using out_t = typename Op::template out<T>;

// Offsets of element i of the output in K operands, from meta = shape[rank], strides[K][rank].
template <int K>
__device__ __forceinline__ void broadcast_offsets(index_t i, const index_t* meta, int rank, index_t* off) {
  for (int k = 0; k < K; ++k) off[k] = 0;
  for (int d = rank - 1; d >= 0; --d) {
    index_t c = i;
    if (d > 0) {
      const index_t q = i / meta[d];
      c = i - q * meta[d];
      i = q;
    }
    for (int k = 0; k < K; ++k) off[k] += c * meta[(k + 1) * rank + d];
  }
}

}  // namespace gf

namespace gf {
template <typename I> __device__ __forceinline__ I saturate(double v) {
  if (v != v) return 0;
  if (v <= (double)int_traits<I>::lo) return int_traits<I>::lo;
  if (v >= (double)int_traits<I>::hi) return int_traits<I>::hi;  // (double)INT64_MAX is 2^63
  return (I)v;
}

template <typename S, typename D> __device__ __forceinline__ D convert(S x) {
  if constexpr (same<D, bool>::value) {
    return load(x) != acc_t<S>(0);
  } else if constexpr (same<S, bool>::value) {
    return store<D>(acc_t<D>(x ? 1 : 0));
  } else if constexpr (int_traits<S>::is_int && int_traits<D>::is_int) {
    return (D)(typename int_traits<D>::wrap)x;  // keep the low bits, as NumPy
  } else if constexpr (int_traits<D>::is_int) {
    return saturate<D>((double)load(x));
  } else if constexpr (int_traits<S>::is_int && same<D, float>::value) {
    return (float)x;  // one rounding, as NumPy's int -> float32
  } else if constexpr (int_traits<S>::is_int || same<S, double>::value) {
    return from_double<D>((double)x);
  } else {
    return store<D>((acc_t<D>)load(x));  // half, bfloat16, float widen exactly, then round once
  }
}
}  // namespace gf
