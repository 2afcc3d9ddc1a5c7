// reduce.cuh: reduction operators and the warp/block reduction shared by reduce.cu and softmax.cu.
//
// An operator `Op` describes one reduction by a small state:
//   Op::in_t, Op::out_t       element and result types
//   Op::State                 a POD (<= 16 bytes: the host sizes workspaces at 16 bytes a state)
//   Op::identity()            the state of an empty reduction
//   Op::lift(x, j)            the state of element x at position j of the reduced axis
//   Op::combine(a, b)         associative and commutative (so any tree order and any launch
//                             shape give the same result up to float rounding; argmax's is exact)
//   Op::shfl_xor(s, d)       __shfl_xor_sync of every field
//   Op::finish(s)             the result
// Floats accumulate in float (half/bfloat16/float) or double; int32/int64 in their own type with
// two's-complement wrap-around, as NumPy's results are; int8/int16/uint8 in int and uint32 in long long
// (acc_t), which wraps the same once the result is stored.
#pragma once
#include "common.cuh"

namespace gf {

// Infinity as an overflowing product: INFINITY and the compiler builtins are not defined under
// all of NVRTC, nvcc and g++, IEEE overflow is.
template <typename A> __device__ __forceinline__ A infinity() { A big = A(1e300); return big * big; }
template <> __device__ __forceinline__ float infinity<float>() { float big = 1e30f; return big * big; }

template <typename A> struct Limits;
template <> struct Limits<float> {
  __device__ static float lowest() { return -infinity<float>(); }
  __device__ static float highest() { return infinity<float>(); }
};
template <> struct Limits<double> {
  __device__ static double lowest() { return -infinity<double>(); }
  __device__ static double highest() { return infinity<double>(); }
};
template <> struct Limits<int> {
  __device__ static int lowest() { return (int)0x80000000u; }
  __device__ static int highest() { return 0x7fffffff; }
};
template <> struct Limits<long long> {
  __device__ static long long lowest() { return (long long)0x8000000000000000ull; }
  __device__ static long long highest() { return 0x7fffffffffffffffll; }
};

// The storage-only integers accumulate in a wider type (acc_t, common.cuh): an identity taken from the
// accumulator's limits (max's INT_MIN) is clamped to the element type's, so that an empty max of int8
// gives -128, as in TF and NumPy.
template <typename T> struct Narrow { static constexpr bool value = false; static constexpr int lo = 0, hi = 0; };
template <> struct Narrow<signed char> { static constexpr bool value = true; static constexpr int lo = -128, hi = 127; };
template <> struct Narrow<unsigned char> { static constexpr bool value = true; static constexpr int lo = 0, hi = 255; };
template <> struct Narrow<short> { static constexpr bool value = true; static constexpr int lo = -32768, hi = 32767; };
template <> struct Narrow<unsigned> {
  static constexpr bool value = true;
  static constexpr long long lo = 0, hi = 4294967295ll;
};
template <typename T, typename A> __device__ __forceinline__ A fit(A v) {
  if constexpr (Narrow<T>::value) {
    return v < (A)Narrow<T>::lo ? (A)Narrow<T>::lo : v > (A)Narrow<T>::hi ? (A)Narrow<T>::hi : v;
  } else {
    return v;
  }
}

template <typename A> __device__ __forceinline__ bool is_nan(A v) { return v != v; }
__device__ __forceinline__ float exp_(float v) { return expf(v); }
__device__ __forceinline__ double exp_(double v) { return exp(v); }
__device__ __forceinline__ float log_(float v) { return logf(v); }
__device__ __forceinline__ double log_(double v) { return log(v); }

// Integer + and * through unsigned types: wrap-around is defined there (signed overflow is not).
template <typename A> struct Wrap {
  __device__ static A add(A a, A b) { return a + b; }
  __device__ static A mul(A a, A b) { return a * b; }
};
template <> struct Wrap<int> {
  __device__ static int add(int a, int b) { return (int)((unsigned)a + (unsigned)b); }
  __device__ static int mul(int a, int b) { return (int)((unsigned)a * (unsigned)b); }
};
template <> struct Wrap<long long> {
  typedef unsigned long long U;
  __device__ static long long add(long long a, long long b) { return (long long)((U)a + (U)b); }
  __device__ static long long mul(long long a, long long b) { return (long long)((U)a * (U)b); }
};

// Sum, product, max and min: the state is one accumulator.
template <typename T, typename Kind> struct ScalarOp {
  typedef T in_t;
  typedef T out_t;
  typedef acc_t<T> A;
  struct State { A v; };
  __device__ static State identity() { return State{fit<T>(Kind::template identity<A>())}; }
  __device__ static State lift(T x, index_t) { return State{load(x)}; }
  __device__ static State combine(State a, State b) { return State{Kind::apply(a.v, b.v)}; }
  __device__ static State shfl_xor(State s, int d) { return State{__shfl_xor_sync(0xffffffffu, s.v, d)}; }
  __device__ static T finish(State s) { return store<T>(s.v); }
};

struct SumKind {
  template <typename A> __device__ static A identity() { return A(0); }
  template <typename A> __device__ static A apply(A a, A b) { return Wrap<A>::add(a, b); }
};
struct ProdKind {
  template <typename A> __device__ static A identity() { return A(1); }
  template <typename A> __device__ static A apply(A a, A b) { return Wrap<A>::mul(a, b); }
};
// NaN wins, as in NumPy's max/min.
struct MaxKind {
  template <typename A> __device__ static A identity() { return Limits<A>::lowest(); }
  template <typename A> __device__ static A apply(A a, A b) { return (a > b || is_nan(a)) ? a : b; }
};
struct MinKind {
  template <typename A> __device__ static A identity() { return Limits<A>::highest(); }
  template <typename A> __device__ static A apply(A a, A b) { return (a < b || is_nan(a)) ? a : b; }
};

template <typename T> using SumOp = ScalarOp<T, SumKind>;
template <typename T> using ProdOp = ScalarOp<T, ProdKind>;
template <typename T> using MaxOp = ScalarOp<T, MaxKind>;
template <typename T> using MinOp = ScalarOp<T, MinKind>;

// log(sum(exp(x))) as (m, s) with value m + log(s): the running maximum and the sum of
// exp(x - m), rescaled whenever m grows ("online softmax"), so one pass over the data suffices
// and nothing overflows. Equal maxima (±inf included) scale by exactly 1, so a row of -inf gives
// -inf and a +inf gives +inf; a NaN anywhere gives NaN.
template <typename A> struct LseState { A m, s; };

template <typename A> __device__ __forceinline__ LseState<A> lse_combine(LseState<A> a, LseState<A> b) {
  A m = (a.m > b.m || is_nan(a.m)) ? a.m : b.m;
  A fa = a.m == m ? A(1) : exp_(a.m - m);
  A fb = b.m == m ? A(1) : exp_(b.m - m);
  return LseState<A>{m, a.s * fa + b.s * fb};
}

template <typename T> struct LogSumExpOp {
  typedef T in_t;
  typedef T out_t;
  typedef acc_t<T> A;
  typedef LseState<A> State;
  __device__ static State identity() { return State{Limits<A>::lowest(), A(0)}; }
  __device__ static State lift(T x, index_t) { return State{load(x), A(1)}; }
  __device__ static State combine(State a, State b) { return lse_combine(a, b); }
  __device__ static State shfl_xor(State s, int d) {
    return State{__shfl_xor_sync(0xffffffffu, s.m, d), __shfl_xor_sync(0xffffffffu, s.s, d)};
  }
  __device__ static T finish(State s) { return store<T>(s.m + log_(s.s)); }
};

// argmax/argmin: (value, index) under a total order: NaN first, then the larger (smaller)
// value, then the smaller index. So ties go to the first index and the first NaN wins, as in
// NumPy, whatever order the tree combines in.
template <typename T, typename O, bool kMax> struct ArgOp {
  typedef T in_t;
  typedef O out_t;
  typedef acc_t<T> A;
  struct State { A v; index_t i; };
  __device__ static State identity() {
    return State{kMax ? Limits<A>::lowest() : Limits<A>::highest(), (index_t)0x7fffffffffffffffll};
  }
  __device__ static State lift(T x, index_t j) { return State{load(x), j}; }
  __device__ static State combine(State a, State b) {
    bool an = is_nan(a.v), bn = is_nan(b.v);
    if (an != bn) return an ? a : b;
    if (!an && a.v != b.v) return ((a.v > b.v) == kMax) ? a : b;
    return a.i <= b.i ? a : b;
  }
  __device__ static State shfl_xor(State s, int d) {
    return State{__shfl_xor_sync(0xffffffffu, s.v, d), __shfl_xor_sync(0xffffffffu, s.i, d)};
  }
  __device__ static O finish(State s) { return (O)s.i; }
};
template <typename T, typename O> using ArgMaxOp = ArgOp<T, O, true>;
template <typename T, typename O> using ArgMinOp = ArgOp<T, O, false>;

// Reduce a state over each row of threads (threadIdx.x), for blockDim.x a multiple of 32, and
// return the result to every thread of the row. All threads of the block must call it.
// blockDim.x == 32: a warp per row (any blockDim.y), butterfly shuffles only; combine is
// commutative, so every lane computes the very same value.
// blockDim.x > 32: one row per block (blockDim.y == 1); warps meet in shared memory.
template <typename Op>
__device__ typename Op::State block_reduce(typename Op::State s) {
  typedef typename Op::State State;
  for (int d = 16; d > 0; d >>= 1) s = Op::combine(s, Op::shfl_xor(s, d));
  if (blockDim.x == 32) return s;
  __shared__ State warp_states[32];
  __shared__ State result;
  unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  __syncthreads();  // a previous call's readers of `result` are done before it is overwritten
  if (lane == 0) warp_states[warp] = s;
  __syncthreads();
  if (warp == 0) {
    s = lane < warps ? warp_states[lane] : Op::identity();
    for (int d = 16; d > 0; d >>= 1) s = Op::combine(s, Op::shfl_xor(s, d));
    if (lane == 0) result = s;
  }
  __syncthreads();
  return result;
}

// Fold x[lo, hi) of one row into s, threads of the row striding by blockDim.x, with 16-byte
// vector loads between a scalar head (up to the first aligned address) and a scalar tail.
template <typename Op>
__device__ void fold_row(const typename Op::in_t* row, index_t lo, index_t hi, typename Op::State& s) {
  typedef typename Op::in_t T;
  const int V = 16 / sizeof(T);
  struct alignas(16) Pack { T v[V]; };
  index_t lane = threadIdx.x, step = blockDim.x;
  unsigned long long misalign = ((unsigned long long)(row + lo)) % 16;
  index_t head = lo + (misalign ? (index_t)((16 - misalign) / sizeof(T)) : 0);
  if (head > hi) head = hi;
  for (index_t j = lo + lane; j < head; j += step) s = Op::combine(s, Op::lift(row[j], j));
  index_t packs = (hi - head) / V;
  const Pack* p = reinterpret_cast<const Pack*>(row + head);
  for (index_t k = lane; k < packs; k += step) {
    Pack v = p[k];
    for (int e = 0; e < V; ++e) s = Op::combine(s, Op::lift(v.v[e], head + k * V + e));
  }
  for (index_t j = head + packs * V + lane; j < hi; j += step) s = Op::combine(s, Op::lift(row[j], j));
}

}  // namespace gf
