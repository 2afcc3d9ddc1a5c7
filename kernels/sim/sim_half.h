// sim_half.h: __half and __nv_bfloat16 with CUDA's conversions and round-to-nearest-even arithmetic.
// Bit-exact with cuda_fp16.h / cuda_bf16.h for the conversions (tested over all 65,536 values).
// Part of the simulator's CUDA model; included by cuda_sim.h in order, never on its own.
#pragma once

// ---------------------------------------------------------------- half and bfloat16
namespace gfsim {
static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// float -> binary16, round to nearest even (F. Giesen's float_to_half_fast3_rtne).
static inline uint16_t f2h(float f) {
  uint32_t x = f2u(f);
  uint32_t sign = x & 0x80000000u;
  x ^= sign;
  uint16_t o;
  if (x >= (143u << 23)) {  // >= 65536: inf, or NaN (keeps the top payload bits, made quiet)
    o = x > 0x7f800000u ? (uint16_t)(0x7e00u | ((x >> 13) & 0x3ffu)) : (uint16_t)0x7c00u;
  } else if (x < (113u << 23)) {  // result is subnormal or zero: let the FPU round
    const uint32_t magic = ((127 - 15) + (23 - 10) + 1) << 23;
    o = (uint16_t)(f2u(u2f(x) + u2f(magic)) - magic);
  } else {
    uint32_t odd = (x >> 13) & 1u;
    x += ((uint32_t)(15 - 127) << 23) + 0xfffu + odd;
    o = (uint16_t)(x >> 13);
  }
  return (uint16_t)(o | (sign >> 16));
}
static inline float h2f(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1f) return u2f(sign | 0x7f800000u | (m << 13));
  if (e == 0) return u2f(sign | f2u((float)m * 5.9604644775390625e-8f));  // m * 2^-24, exact
  return u2f(sign | ((e + 112) << 23) | (m << 13));
}
static inline uint16_t f2h_rz(float f) {
  uint32_t x = f2u(f), sign = (x >> 16) & 0x8000u;
  if (std::isnan(f)) return f2h(f);
  float a = std::fabs(f);
  if (a >= 65520.0f) return (uint16_t)(sign | (std::isinf(f) ? 0x7c00u : 0x7bffu));
  uint16_t r = f2h(a);
  if (h2f(r) > a) --r;  // rounded up: step back toward zero
  return (uint16_t)(sign | r);
}
static inline uint16_t f2bf(float f) {
  uint32_t x = f2u(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}
static inline float bf2f(uint16_t b) { return u2f((uint32_t)b << 16); }
}  // namespace gfsim

struct __half_raw { unsigned short x; };
struct __nv_bfloat16_raw { unsigned short x; };

#define GFSIM_HALF_TYPE(H, TO16, FROM16)                                                        \
  struct H {                                                                                    \
    unsigned short __x;                                                                         \
    H() = default;                                                                              \
    constexpr H(const H##_raw& r) : __x(r.x) {}                                                 \
    H(float f) : __x(TO16(f)) {}                                                                \
    H(double d) : __x(TO16((float)d)) {}                                                        \
    H(int i) : __x(TO16((float)i)) {}                                                           \
    H(unsigned int i) : __x(TO16((float)i)) {}                                                  \
    H(short i) : __x(TO16((float)i)) {}                                                         \
    H(unsigned short i) : __x(TO16((float)i)) {}                                                \
    H(long long i) : __x(TO16((float)i)) {}                                                     \
    H(unsigned long long i) : __x(TO16((float)i)) {}                                            \
    operator float() const { return FROM16(__x); }                                              \
    operator H##_raw() const { return H##_raw{__x}; }                                           \
    H& operator=(const H##_raw& r) { __x = r.x; return *this; }                                 \
    H& operator+=(const H& o) { __x = TO16(FROM16(__x) + FROM16(o.__x)); return *this; }        \
    H& operator-=(const H& o) { __x = TO16(FROM16(__x) - FROM16(o.__x)); return *this; }        \
    H& operator*=(const H& o) { __x = TO16(FROM16(__x) * FROM16(o.__x)); return *this; }        \
    H& operator/=(const H& o) { __x = TO16(FROM16(__x) / FROM16(o.__x)); return *this; }        \
    H& operator++() { return *this += H(1.0f); }                                                \
    H& operator--() { return *this -= H(1.0f); }                                                \
  };                                                                                            \
  static inline H operator+(const H& a, const H& b) { return H(float(a) + float(b)); }          \
  static inline H operator-(const H& a, const H& b) { return H(float(a) - float(b)); }          \
  static inline H operator*(const H& a, const H& b) { return H(float(a) * float(b)); }          \
  static inline H operator/(const H& a, const H& b) { return H(float(a) / float(b)); }          \
  static inline H operator-(const H& a) { H r; r.__x = (unsigned short)(a.__x ^ 0x8000u); return r; } \
  static inline H operator+(const H& a) { return a; }                                           \
  static inline bool operator==(const H& a, const H& b) { return float(a) == float(b); }        \
  static inline bool operator!=(const H& a, const H& b) { return float(a) != float(b); }        \
  static inline bool operator<(const H& a, const H& b) { return float(a) < float(b); }          \
  static inline bool operator<=(const H& a, const H& b) { return float(a) <= float(b); }        \
  static inline bool operator>(const H& a, const H& b) { return float(a) > float(b); }          \
  static inline bool operator>=(const H& a, const H& b) { return float(a) >= float(b); }
GFSIM_HALF_TYPE(__half, gfsim::f2h, gfsim::h2f)
GFSIM_HALF_TYPE(__nv_bfloat16, gfsim::f2bf, gfsim::bf2f)
#undef GFSIM_HALF_TYPE
typedef __half half;
typedef __nv_bfloat16 nv_bfloat16;
namespace gfsim {
template <> struct is_half_like<__half> : std::true_type {};
template <> struct is_half_like<__nv_bfloat16> : std::true_type {};
}  // namespace gfsim

struct __attribute__((aligned(4))) __half2 {
  __half x, y;
  __half2() = default;
  __half2(const __half& a, const __half& b) : x(a), y(b) {}
};
struct __attribute__((aligned(4))) __nv_bfloat162 {
  __nv_bfloat16 x, y;
  __nv_bfloat162() = default;
  __nv_bfloat162(const __nv_bfloat16& a, const __nv_bfloat16& b) : x(a), y(b) {}
};
typedef __half2 half2;
typedef __nv_bfloat162 nv_bfloat162;

static inline __half __float2half(float f) { return __half(f); }
static inline __half __float2half_rn(float f) { return __half(f); }
static inline __half __float2half_rz(float f) { return __half_raw{gfsim::f2h_rz(f)}; }
static inline __half __double2half(double d) { return __half(d); }
static inline float __half2float(__half h) { return float(h); }
static inline __half __int2half_rn(int i) { return __half((float)i); }
static inline __half __uint2half_rn(unsigned i) { return __half((float)i); }
static inline int __half2int_rz(__half h) { return (int)float(h); }
static inline int __half2int_rn(__half h) { return (int)nearbyintf(float(h)); }
static inline unsigned short __half_as_ushort(__half h) { return h.__x; }
static inline short __half_as_short(__half h) { return (short)h.__x; }
static inline __half __ushort_as_half(unsigned short u) { return __half_raw{u}; }
static inline __half __short_as_half(short s) { return __half_raw{(unsigned short)s}; }
static inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
static inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
static inline __nv_bfloat16 __double2bfloat16(double d) { return __nv_bfloat16((float)d); }
static inline float __bfloat162float(__nv_bfloat16 b) { return float(b); }
static inline __nv_bfloat16 __int2bfloat16_rn(int i) { return __nv_bfloat16((float)i); }
static inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b) { return b.__x; }
static inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short u) { return __nv_bfloat16_raw{u}; }
static inline __half __halves2half2_lo(__half2 h) { return h.x; }
static inline __half2 __halves2half2(__half a, __half b) { return __half2(a, b); }
static inline __half2 __half2half2(__half a) { return __half2(a, a); }
static inline __half __low2half(__half2 h) { return h.x; }
static inline __half __high2half(__half2 h) { return h.y; }
static inline float __low2float(__half2 h) { return float(h.x); }
static inline float __high2float(__half2 h) { return float(h.y); }
static inline __half2 __floats2half2_rn(float a, float b) { return __half2(__half(a), __half(b)); }
static inline __half2 __float2half2_rn(float a) { return __half2(__half(a), __half(a)); }
static inline float2 __half22float2(__half2 h) { return float2{float(h.x), float(h.y)}; }
static inline __half2 __float22half2_rn(float2 f) { return __floats2half2_rn(f.x, f.y); }
static inline __nv_bfloat162 __halves2bfloat162(__nv_bfloat16 a, __nv_bfloat16 b) { return __nv_bfloat162(a, b); }
static inline __nv_bfloat16 __low2bfloat16(__nv_bfloat162 h) { return h.x; }
static inline __nv_bfloat16 __high2bfloat16(__nv_bfloat162 h) { return h.y; }
static inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) { return __nv_bfloat162(__nv_bfloat16(a), __nv_bfloat16(b)); }
static inline float2 __bfloat1622float2(__nv_bfloat162 h) { return float2{float(h.x), float(h.y)}; }
static inline __half2 __hadd2(__half2 a, __half2 b) { return __half2(a.x + b.x, a.y + b.y); }
static inline __half2 __hmul2(__half2 a, __half2 b) { return __half2(a.x * b.x, a.y * b.y); }
static inline __half2 __hsub2(__half2 a, __half2 b) { return __half2(a.x - b.x, a.y - b.y); }

#define GFSIM_HALF_FUNCS(H)                                                                        \
  static inline H __hadd(H a, H b) { return a + b; }                                               \
  static inline H __hsub(H a, H b) { return a - b; }                                               \
  static inline H __hmul(H a, H b) { return a * b; }                                               \
  static inline H __hdiv(H a, H b) { return a / b; }                                               \
  static inline H __hfma(H a, H b, H c) { return H(fmaf(float(a), float(b), float(c))); }          \
  static inline H __hneg(H a) { return -a; }                                                       \
  static inline H __habs(H a) { H r; r.__x = (unsigned short)(a.__x & 0x7fffu); return r; }       \
  static inline H __hmax(H a, H b) { return H(fmaxf(float(a), float(b))); }                        \
  static inline H __hmin(H a, H b) { return H(fminf(float(a), float(b))); }                        \
  static inline bool __heq(H a, H b) { return a == b; }                                            \
  static inline bool __hne(H a, H b) { return a != b; }                                            \
  static inline bool __hlt(H a, H b) { return a < b; }                                             \
  static inline bool __hle(H a, H b) { return a <= b; }                                            \
  static inline bool __hgt(H a, H b) { return a > b; }                                             \
  static inline bool __hge(H a, H b) { return a >= b; }                                            \
  static inline bool __hisnan(H a) { return std::isnan(float(a)); }                               \
  static inline int __hisinf(H a) { float f = float(a); return std::isinf(f) ? (f > 0 ? 1 : -1) : 0; } \
  static inline H hexp(H a) { return H(expf(float(a))); }                                          \
  static inline H hlog(H a) { return H(logf(float(a))); }                                          \
  static inline H hsqrt(H a) { return H(sqrtf(float(a))); }                                        \
  static inline H hrsqrt(H a) { return H(1.0f / sqrtf(float(a))); }                                \
  static inline H htanh(H a) { return H(tanhf(float(a))); }                                        \
  static inline H hfloor(H a) { return H(floorf(float(a))); }                                      \
  static inline H hceil(H a) { return H(ceilf(float(a))); }
GFSIM_HALF_FUNCS(__half)
GFSIM_HALF_FUNCS(__nv_bfloat16)
#undef GFSIM_HALF_FUNCS

