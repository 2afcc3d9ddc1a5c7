// cuda_sim.h: the CUDA execution model on a CPU, for the `sim` device.
//
// gpuflow/runtime/sim force-includes this header (g++ -include, -DGPUFLOW_SIM) before a
// kernel source, preprocesses, rewrites shared-memory declarations (see compiler.py) and
// builds a shared library. One .so = one translation unit, so everything here has
// internal linkage (static/inline) and several modules can be loaded side by side.
//
// Model: blocks run one after another on the calling OS thread. Every thread of a block
// is a cooperative fiber with its own small pooled stack; a fiber runs until it exits or
// blocks in __syncthreads() or a warp op, so a kernel without barriers costs one context
// switch in and one out per thread. The order in which runnable fibers are resumed is a
// seeded permutation (GPUFLOW_SIM_SEED) so that missing barriers show up as wrong results.
// Because only one fiber runs at a time, atomics are plain read-modify-writes.
#pragma once
#ifndef GPUFLOW_SIM
#define GPUFLOW_SIM 1
#endif
#if !defined(__x86_64__)
#error "gpuflow sim: the fiber switch is written for x86-64 (see docs/sim.md)"
#endif

#include <math.h>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cassert>
#include <exception>
#include <type_traits>
// No <string>, <tuple>, <limits>: parsing the standard headers is most of a module's build
// time, so the runtime below makes do with a tiny string class.
#include <sys/mman.h>
#include <unistd.h>

// ---------------------------------------------------------------- qualifiers
// __shared__ and __global__ expand to markers that compiler.py rewrites after
// preprocessing: `extern __shared__ T a[];` becomes a pointer to the block's dynamic
// shared memory, other __shared__ variables become static storage in the section
// "gfsim_shared" (one instance per block, since blocks run one at a time), and extern "C"
// __global__ functions are found by name.
#define __shared__ __gfsim_shared__
#define __global__ __gfsim_global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __grid_constant__

#define GFSIM_EXPORT extern "C" __attribute__((visibility("default")))

using std::isnan;
using std::isinf;
using std::isfinite;
using std::signbit;

// ---------------------------------------------------------------- vector types
#define GFSIM_VEC(T, N, A2, A4)                                                      \
  struct __attribute__((aligned(sizeof(T)))) N##1 { T x; };                          \
  struct __attribute__((aligned(A2))) N##2 { T x, y; };                              \
  struct N##3 { T x, y, z; };                                                        \
  struct __attribute__((aligned(A4))) N##4 { T x, y, z, w; };                        \
  static inline N##1 make_##N##1(T x) { return N##1{x}; }                            \
  static inline N##2 make_##N##2(T x, T y) { return N##2{x, y}; }                    \
  static inline N##3 make_##N##3(T x, T y, T z) { return N##3{x, y, z}; }           \
  static inline N##4 make_##N##4(T x, T y, T z, T w) { return N##4{x, y, z, w}; }
GFSIM_VEC(signed char, char, 2, 4)
GFSIM_VEC(unsigned char, uchar, 2, 4)
GFSIM_VEC(short, short, 4, 8)
GFSIM_VEC(unsigned short, ushort, 4, 8)
GFSIM_VEC(int, int, 8, 16)
GFSIM_VEC(unsigned int, uint, 8, 16)
GFSIM_VEC(long, long, 16, 16)
GFSIM_VEC(unsigned long, ulong, 16, 16)
GFSIM_VEC(long long, longlong, 16, 16)
GFSIM_VEC(unsigned long long, ulonglong, 16, 16)
GFSIM_VEC(float, float, 8, 16)
GFSIM_VEC(double, double, 16, 16)
#undef GFSIM_VEC

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

// The built-in variables: written by the scheduler before it resumes a fiber.
static uint3 threadIdx;
static uint3 blockIdx;
static dim3 blockDim;
static dim3 gridDim;
static constexpr int warpSize = 32;

// ---------------------------------------------------------------- runtime core
namespace gfsim {

// A minimal growable string for error messages and signatures.
struct Str {
  char* p = nullptr;
  size_t n = 0, cap = 0;
  Str() {}
  Str(const char* s) { append(s, strlen(s)); }
  Str(const Str& o) { append(o.c_str(), o.n); }
  Str& operator=(const Str& o) {
    if (this != &o) { clear(); append(o.c_str(), o.n); }
    return *this;
  }
  ~Str() { free(p); }
  void append(const char* s, size_t m) {
    if (n + m + 1 > cap) {
      cap = (n + m + 1) * 2;
      p = (char*)realloc(p, cap);
    }
    memcpy(p + n, s, m);
    n += m;
    p[n] = 0;
  }
  Str& operator+=(const char* s) { append(s, strlen(s)); return *this; }
  Str& operator+=(const Str& s) { append(s.c_str(), s.n); return *this; }
  Str& operator+=(char c) { append(&c, 1); return *this; }
  const char* c_str() const { return p ? p : ""; }
  void clear() { n = 0; if (p) p[0] = 0; }
};
static inline Str operator+(Str a, const char* b) { a += b; return a; }
static inline Str operator+(Str a, const Str& b) { a += b; return a; }
static inline Str operator+(Str a, char b) { a += b; return a; }
static inline Str operator+(const char* a, const Str& b) { Str s(a); s += b; return s; }
static inline Str num(unsigned long long v) { char b[32]; snprintf(b, sizeof b, "%llu", v); return b; }
static inline Str num(long long v) { char b[32]; snprintf(b, sizeof b, "%lld", v); return b; }
static inline Str num(unsigned v) { return num((unsigned long long)v); }
static inline Str num(int v) { return num((long long)v); }
static inline Str num(unsigned long v) { return num((unsigned long long)v); }


struct SimError {  // thrown inside a simulated thread; caught by the fiber's entry
  Str msg;
};
[[noreturn]] static inline void fail(const Str& m) { throw SimError{m}; }

// FRESH: not started, needs no stack yet. RUNNABLE: started (or running) and not blocked.
enum : uint8_t { RUNNABLE = 0, AT_BARRIER = 1, AT_WARP = 2, EXITED = 3, FRESH = 4 };
enum : int { OP_SYNCWARP, OP_SHFL, OP_SHFL_UP, OP_SHFL_DOWN, OP_SHFL_XOR, OP_BALLOT, OP_ANY, OP_ALL,
             OP_MATCH_ANY, OP_MATCH_ALL, OP_REDUCE_ADD, OP_REDUCE_MIN, OP_REDUCE_MAX,
             OP_REDUCE_AND, OP_REDUCE_OR, OP_REDUCE_XOR };
static const char* const op_names[] = {"__syncwarp", "__shfl_sync", "__shfl_up_sync", "__shfl_down_sync",
                                       "__shfl_xor_sync", "__ballot_sync", "__any_sync", "__all_sync",
                                       "__match_any_sync", "__match_all_sync", "__reduce_add_sync",
                                       "__reduce_min_sync", "__reduce_max_sync", "__reduce_and_sync",
                                       "__reduce_or_sync", "__reduce_xor_sync"};

struct Thread {
  void* sp;          // saved stack pointer while suspended
  uint3 tid;
  uint8_t state;
  int op, arg, width;
  unsigned mask;
  uint64_t val, result;
};
struct Warp {
  unsigned existing;  // lanes that exist (a partial last warp has fewer)
  unsigned waiting;   // lanes suspended in a warp op
  unsigned exited;
};

struct Sched {
  void (*body)(void*) = nullptr;
  void* ctx = nullptr;
  const char* kernel = "";
  unsigned n = 0;  // threads per block
  Thread* th = nullptr;
  Warp* warps = nullptr;
  unsigned* perm = nullptr;
  unsigned* free_stacks = nullptr;  // stack slots not held by a started, unfinished thread
  unsigned nfree = 0;
  unsigned k = 0, rot = 0;          // the scheduler's position in this pass: perm[(k + rot) % n]
  unsigned start_stack = 0;         // the stack slot a fiber being started runs on
  unsigned cap = 0;  // fibers allocated
  char* stacks = nullptr;
  void* sched_sp = nullptr;
  unsigned cur = 0;
  unsigned exited = 0;
  unsigned bar_count = 0, bar_pred = 0, bar_result = 0;
  bool error = false;
  Str msg;
};
static Sched S;

static constexpr size_t kStack = 128 * 1024;  // stack per fiber (up to 16 KiB of it lost to colouring)
static constexpr size_t kGuard = 4096;        // PROT_NONE page below each stack
static constexpr unsigned kMaxThreads = 1024;
static constexpr size_t kMaxDynSmem = 227 * 1024;  // H100's opt-in maximum

alignas(256) static unsigned char dyn_smem[kMaxDynSmem];
static size_t dyn_smem_bytes = 0;

// `extern __shared__ T a[];` is rewritten to `T* const a = ::gfsim::DynSmem{};`.
struct DynSmem {
  template <class T> operator T*() const { return reinterpret_cast<T*>(dyn_smem); }
};

}  // namespace gfsim

// Static __shared__ variables live in this section; the linker defines its bounds.
extern "C" char __start_gfsim_shared[] __attribute__((weak, visibility("hidden")));
extern "C" char __stop_gfsim_shared[] __attribute__((weak, visibility("hidden")));

// Context switch: save callee-saved registers on the current stack, store the stack
// pointer in *save, load `to`, restore and return into the other fiber. About ten
// instructions; glibc swapcontext makes a sigprocmask syscall per switch.
extern "C" void gfsim_switch_ctx(void** save, void* to) __attribute__((visibility("hidden")));
extern "C" void gfsim_fiber_start() __attribute__((visibility("hidden")));
extern "C" __attribute__((visibility("hidden"), used)) void gfsim_fiber_main();
asm(R"(
    .text
    .p2align 4
    .type gfsim_switch_ctx,@function
    .hidden gfsim_switch_ctx
gfsim_switch_ctx:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size gfsim_switch_ctx,.-gfsim_switch_ctx
    .p2align 4
    .type gfsim_fiber_start,@function
    .hidden gfsim_fiber_start
gfsim_fiber_start:
    andq $-16, %rsp
    call gfsim_fiber_main
    ud2
    .size gfsim_fiber_start,.-gfsim_fiber_start
)");

namespace gfsim {

static inline void yield_to_scheduler() {
  Thread& t = S.th[S.cur];
  gfsim_switch_ctx(&t.sp, S.sched_sp);
}

static inline Str fmt_tid(const uint3& t) {
  char b[48];
  snprintf(b, sizeof b, "(%u,%u,%u)", t.x, t.y, t.z);
  return b;
}
static inline Str fmt_threads(uint8_t state) {
  Str s;
  unsigned shown = 0, total = 0;
  for (unsigned i = 0; i < S.n; ++i) {
    if (S.th[i].state != state) continue;
    ++total;
    if (shown < 8) { s += (shown ? " " : "") + fmt_tid(S.th[i].tid); ++shown; }
  }
  if (total > shown) s += " ... (" + num(total) + " in all)";
  return s;
}
static inline Str where() {
  char b[160];
  snprintf(b, sizeof b, "block (%u,%u,%u), thread (%u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z,
           threadIdx.x, threadIdx.y, threadIdx.z);
  return b;
}
static inline Str hex(unsigned m) {
  char b[16];
  snprintf(b, sizeof b, "0x%08x", m);
  return b;
}


// ---- initcheck (opt-in: GPUFLOW_SIM_INITCHECK=1 or the option --sim-initcheck)
// One shadow byte per byte of shared memory says whether a thread of the current block
// wrote it. compiler.py routes `extern __shared__ T a[]` and one-dimensional
// `__shared__ T a[N]` through checked<T>, whose element proxy marks on write and checks
// on read. Other shared accesses (scalars, 2-D arrays, raw pointers taken from them) are
// not checked.
static unsigned char* shadow_static = nullptr;
static unsigned char shadow_dyn[kMaxDynSmem];

static inline unsigned char* shadow_of(const void* p, size_t n, const char** region, size_t* off) {
  const char* c = (const char*)p;
  if (c >= (const char*)dyn_smem && c + n <= (const char*)dyn_smem + kMaxDynSmem) {
    *region = "dynamic shared memory"; *off = (size_t)(c - (const char*)dyn_smem);
    return shadow_dyn + *off;
  }
  if (shadow_static && c >= __start_gfsim_shared && c + n <= __stop_gfsim_shared) {
    *region = "static shared memory"; *off = (size_t)(c - __start_gfsim_shared);
    return shadow_static + *off;
  }
  return nullptr;
}
static inline void mark_written(const void* p, size_t n) {
  const char* r; size_t off;
  if (unsigned char* s = shadow_of(p, n, &r, &off)) memset(s, 1, n);
}
static inline void check_read(const void* p, size_t n, const char* var) {
  const char* r; size_t off;
  unsigned char* s = shadow_of(p, n, &r, &off);
  if (!s) return;
  for (size_t i = 0; i < n; ++i)
    if (!s[i]) {
      fail(Str("initcheck: read of uninitialised shared memory `") + var + "` (" + r + " byte offset " +
           num(off + i) + "): no thread of the block wrote it since the block began; at " + where());
    }
}

template <class T> struct checked_ref {
  typedef std::remove_cv_t<T> V;
  T* p;
  const char* var;
  operator V() const { check_read(p, sizeof(T), var); return *p; }
  const checked_ref& operator=(const V& v) const { mark_written(p, sizeof(T)); *p = v; return *this; }
  const checked_ref& operator=(const checked_ref& o) const { return *this = (V)o; }
  T* operator&() const { return p; }
#define GFSIM_CREF_OP(OP) \
  template <class U> const checked_ref& operator OP##=(const U& u) const { return *this = (V)((V)*this OP u); }
  GFSIM_CREF_OP(+) GFSIM_CREF_OP(-) GFSIM_CREF_OP(*) GFSIM_CREF_OP(/) GFSIM_CREF_OP(%)
  GFSIM_CREF_OP(&) GFSIM_CREF_OP(|) GFSIM_CREF_OP(^) GFSIM_CREF_OP(<<) GFSIM_CREF_OP(>>)
#undef GFSIM_CREF_OP
  const checked_ref& operator++() const { return *this = (V)((V)*this + 1); }
  const checked_ref& operator--() const { return *this = (V)((V)*this - 1); }
  V operator++(int) const { V o = *this; *this = (V)(o + 1); return o; }
  V operator--(int) const { V o = *this; *this = (V)(o - 1); return o; }
};
template <class T> struct checked {
  T* p;
  const char* var;
  checked(T* q, const char* name) : p(q), var(name) {}
  checked(DynSmem d, const char* name) : p(d), var(name) {}
  template <class I> checked_ref<T> operator[](I i) const { return checked_ref<T>{p + i, var}; }
  operator T*() const { return p; }
};
}  // namespace gfsim

// A fiber runs one simulated thread and, when that thread finishes without blocking, goes on
// with the next not-yet-started thread of the scheduler's order on the same stack. So a
// kernel without barriers costs two context switches per block, not per thread, and the
// order of threads is still the seeded one.
extern "C" void gfsim_fiber_main() {
  using namespace gfsim;
  unsigned stack = S.start_stack;
  for (;;) {
    unsigned me = S.cur;
    try {
      S.body(S.ctx);
    } catch (const SimError& e) {
      if (!S.error) { S.error = true; S.msg = e.msg; }
    } catch (const std::exception& e) {
      if (!S.error) { S.error = true; S.msg = Str("C++ exception in kernel: ") + e.what() + " at " + where(); }
    } catch (...) {
      if (!S.error) { S.error = true; S.msg = "unknown C++ exception in kernel at " + where(); }
    }
    S.th[me].state = EXITED;
    S.warps[me >> 5].exited |= 1u << (me & 31);
    ++S.exited;
    if (S.error) break;
    unsigned nk = S.k + 1;
    if (nk >= S.n) break;
    unsigned idx = S.rot + nk;
    if (idx >= S.n) idx -= S.n;
    unsigned j = S.perm[idx];
    if (S.th[j].state != FRESH) break;  // the scheduler resumes blocked-then-released threads
    S.k = nk;
    S.cur = j;
    S.th[j].state = RUNNABLE;
    threadIdx = S.th[j].tid;
  }
  S.free_stacks[S.nfree++] = stack;  // nobody runs on it until this fiber has switched away
  void* dummy;
  gfsim_switch_ctx(&dummy, S.sched_sp);
  __builtin_unreachable();
}

namespace gfsim {

// ---- barriers
static inline unsigned barrier(int pred) {
  ++S.bar_count;
  S.bar_pred += pred != 0;
  if (S.bar_count == S.n) {  // last arriver releases everyone and carries on
    S.bar_result = S.bar_pred;
    S.bar_count = S.bar_pred = 0;
    for (unsigned i = 0; i < S.n; ++i)
      if (S.th[i].state == AT_BARRIER) S.th[i].state = RUNNABLE;
    return S.bar_result;
  }
  S.th[S.cur].state = AT_BARRIER;
  yield_to_scheduler();
  return S.bar_result;  // read before this thread can arrive at the next barrier
}

// ---- warp ops: a rendezvous of the lanes named in the mask
static inline uint64_t lane_result(unsigned warp, unsigned lane, unsigned mask) {
  Thread* base = S.th + warp * 32;
  Thread& t = base[lane];
  auto from = [&](unsigned j) -> uint64_t {  // a lane outside the mask gives nothing defined
    return (mask >> j & 1u) ? base[j].val : t.val;
  };
  // Lane arithmetic as in PTX shfl.sync: segments of `width` lanes, out-of-range reads
  // return the caller's own value.
  unsigned width = (unsigned)t.width;
  unsigned segmask = (32u - width) & 31u;
  unsigned minLane = lane & segmask;
  unsigned b = (unsigned)t.arg;
  switch (t.op) {
    case OP_SHFL: {
      unsigned maxLane = minLane | (31u & ~segmask);
      unsigned j = minLane | (b & 31u & ~segmask);
      return j <= maxLane ? from(j) : t.val;
    }
    case OP_SHFL_UP: {
      int j = (int)lane - (int)b;
      return j >= (int)minLane ? from((unsigned)j) : t.val;
    }
    case OP_SHFL_DOWN: {
      unsigned maxLane = minLane | (31u & ~segmask);
      unsigned j = lane + b;
      return j <= maxLane ? from(j) : t.val;
    }
    case OP_SHFL_XOR: {
      unsigned maxLane = minLane | (31u & ~segmask);
      unsigned j = lane ^ (b & 31u);
      return j <= maxLane ? from(j) : t.val;
    }
    case OP_BALLOT: case OP_ANY: case OP_ALL: {
      unsigned bal = 0;
      for (unsigned j = 0; j < 32; ++j)
        if ((mask >> j & 1u) && base[j].val) bal |= 1u << j;
      if (t.op == OP_BALLOT) return bal;
      if (t.op == OP_ANY) return bal != 0;
      return bal == mask;
    }
    case OP_MATCH_ANY: {
      unsigned m = 0;
      for (unsigned j = 0; j < 32; ++j)
        if ((mask >> j & 1u) && base[j].val == t.val) m |= 1u << j;
      return m;
    }
    case OP_MATCH_ALL: {
      for (unsigned j = 0; j < 32; ++j)
        if ((mask >> j & 1u) && base[j].val != t.val) return 0;
      return mask;
    }
    case OP_REDUCE_ADD: case OP_REDUCE_MIN: case OP_REDUCE_MAX:
    case OP_REDUCE_AND: case OP_REDUCE_OR: case OP_REDUCE_XOR: {
      bool is_signed = t.arg != 0;
      uint64_t acc = 0;
      bool first = true;
      for (unsigned j = 0; j < 32; ++j) {
        if (!(mask >> j & 1u)) continue;
        uint32_t v = (uint32_t)base[j].val;
        uint32_t a = (uint32_t)acc;
        if (first) { acc = v; first = false; continue; }
        switch (t.op) {
          case OP_REDUCE_ADD: acc = (uint32_t)(a + v); break;
          case OP_REDUCE_MIN: acc = is_signed ? (uint32_t)((int32_t)a < (int32_t)v ? a : v) : (a < v ? a : v); break;
          case OP_REDUCE_MAX: acc = is_signed ? (uint32_t)((int32_t)a > (int32_t)v ? a : v) : (a > v ? a : v); break;
          case OP_REDUCE_AND: acc = a & v; break;
          case OP_REDUCE_OR: acc = a | v; break;
          default: acc = a ^ v; break;
        }
      }
      return acc;
    }
    default:
      return 0;
  }
}

static inline uint64_t warp_op(int op, unsigned mask, uint64_t val, int arg = 0, int width = 32) {
  unsigned me = S.cur, w = me >> 5, lane = me & 31;
  Warp& W = S.warps[w];
  if (width <= 0 || width > 32 || (width & (width - 1)))
    fail(Str(op_names[op]) + ": width " + num(width) + " is not a power of two in [1, 32] at " + where());
  mask &= W.existing;  // lanes past the end of a partial warp do not exist
  if (!(mask >> lane & 1u))
    fail(Str(op_names[op]) + ": mask " + hex(mask) + " does not include the calling lane " +
         num(lane) + " at " + where());
  if (mask & W.exited)
    fail(Str(op_names[op]) + ": mask " + hex(mask) + " names lanes that had already exited (" +
         hex(mask & W.exited) + ") at " + where());
  Thread& t = S.th[me];
  t.op = op; t.mask = mask; t.val = val; t.arg = arg; t.width = width;
  W.waiting |= 1u << lane;
  if ((W.waiting & mask) == mask) {
    Thread* base = S.th + w * 32;
    bool same = true;
    for (unsigned j = 0; j < 32; ++j)
      if ((mask >> j & 1u) && (base[j].mask != mask || base[j].op != op)) { same = false; break; }
    if (same) {  // everyone is here: compute all results, wake the others, carry on
      for (unsigned j = 0; j < 32; ++j)
        if (mask >> j & 1u) base[j].result = lane_result(w, j, mask);
      for (unsigned j = 0; j < 32; ++j)
        if ((mask >> j & 1u) && j != lane) base[j].state = RUNNABLE;
      W.waiting &= ~mask;
      return t.result;
    }
  }
  t.state = AT_WARP;
  yield_to_scheduler();
  return t.result;
}

// ---- the scheduler
// The launcher passes one process-wide stack pool (so a process with many modules commits
// stack pages once); a module launched without one reserves its own.
static inline void ensure_fibers(unsigned n, void* pool) {
  if (pool) S.stacks = (char*)pool;
  if (n <= S.cap) return;
  if (!pool) {
    // Reserve the whole pool once: stacks are touched (committed) only as fibers use them.
    size_t per = kStack + kGuard;
    char* mem = (char*)mmap(nullptr, per * kMaxThreads, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) fail("cannot reserve fiber stacks");
    for (unsigned i = 0; i < kMaxThreads; ++i) mprotect(mem + i * per, kGuard, PROT_NONE);
    S.stacks = mem;
  }
  S.th = new Thread[kMaxThreads]();
  S.warps = new Warp[kMaxThreads / 32]();
  S.perm = new unsigned[kMaxThreads];
  S.free_stacks = new unsigned[kMaxThreads];
  S.cap = kMaxThreads;
}

// A fresh fiber on stack slot `slot`: gfsim_switch_ctx into it starts gfsim_fiber_main.
static inline void* init_stack(unsigned slot) {
  // Stacks are a near-power-of-two apart, so their tops would all fall in the same few cache
  // sets and every switch would miss; start each one at a different cache line ("colouring").
  size_t colour = (size_t)((slot * 17u) % 256u) * 64u;
  char* top = S.stacks + (size_t)(slot + 1) * (kStack + kGuard) - colour;
  void** sp = (void**)top;
  *--sp = nullptr;                      // keeps the entry's stack 16-byte aligned
  *--sp = (void*)&gfsim_fiber_start;  // where gfsim_switch_ctx returns to
  for (int r = 0; r < 6; ++r) *--sp = nullptr;  // rbp rbx r12..r15
  return sp;
}

static inline uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline Str deadlock_message() {
  unsigned nbar = 0, nwarp = 0, nexit = 0;
  int first_warp = -1;
  for (unsigned i = 0; i < S.n; ++i) {
    uint8_t s = S.th[i].state;
    if (s == AT_BARRIER) ++nbar;
    else if (s == AT_WARP) { ++nwarp; if (first_warp < 0) first_warp = (int)i; }
    else if (s == EXITED) ++nexit;
  }
  char blk[96];
  snprintf(blk, sizeof blk, " (block (%u,%u,%u))", blockIdx.x, blockIdx.y, blockIdx.z);
  Str m;
  if (nbar) {
    m = Str("divergent __syncthreads()") + blk + ": threads " + fmt_threads(AT_BARRIER) + " reached it";
    if (nexit) m += ", threads " + fmt_threads(EXITED) + " had exited";
    if (nwarp) {
      const Thread& t = S.th[first_warp];
      m += ", threads " + fmt_threads(AT_WARP) + " are waiting in " + op_names[t.op] + " (mask " + hex(t.mask) + ")";
    }
    return m;
  }
  // Only warp ops are waiting: name the lanes of the first stuck op that never arrived.
  const Thread& t = S.th[first_warp];
  unsigned w = (unsigned)first_warp >> 5;
  m = Str(op_names[t.op]) + blk + " warp " + num(w) + ": thread " + fmt_tid(t.tid) +
      " waits with mask " + hex(t.mask) + " but";
  const Thread* base = S.th + w * 32;
  for (unsigned j = 0; j < 32; ++j) {
    if (!(t.mask >> j & 1u)) continue;
    const Thread& o = base[j];
    if (o.state == AT_WARP && o.op == t.op && o.mask == t.mask) continue;
    m += " lane " + num(j) + " " + fmt_tid(o.tid);
    if (o.state == EXITED) m += " had exited;";
    else if (o.state == AT_WARP) m += Str(" waits in ") + op_names[o.op] + " with mask " + hex(o.mask) + ";";
    else m += " is elsewhere;";
  }
  return m;
}

struct LaunchArgs {
  unsigned grid[3];
  unsigned block[3];
  unsigned long long smem;
  unsigned long long seed;
  void* stacks;  // kMaxThreads stacks of kStack bytes, each above a kGuard-byte guard page
};

// Runs every block of the grid; returns 0 or 1 with a message in err.
static inline int run_grid(const char* kernel, const LaunchArgs* la, void (*body)(void*), void* ctx,
                           char* err, size_t errlen) {
  unsigned n = la->block[0] * la->block[1] * la->block[2];
  auto report = [&](const Str& m) {
    snprintf(err, errlen, "%s", m.c_str());
    fflush(stdout);
    return 1;
  };
  if (n == 0 || n > kMaxThreads) return report("block of " + num(n) + " threads (must be 1..1024)");
  if (la->smem > kMaxDynSmem) return report("shared_mem=" + num(la->smem) + " bytes exceeds the 227 KiB maximum");
  try {
    ensure_fibers(n, la->stacks);
  } catch (const SimError& e) {
    return report(e.msg);
  }
  S.body = body; S.ctx = ctx; S.kernel = kernel; S.n = n; S.error = false; S.msg.clear();
  blockDim = dim3(la->block[0], la->block[1], la->block[2]);
  gridDim = dim3(la->grid[0], la->grid[1], la->grid[2]);
  dyn_smem_bytes = la->smem;
  for (unsigned i = 0; i < n; ++i) {
    S.th[i].tid = uint3{i % blockDim.x, (i / blockDim.x) % blockDim.y, i / (blockDim.x * blockDim.y)};
  }
  unsigned nwarps = (n + 31) / 32;
  size_t static_smem = (size_t)(__stop_gfsim_shared - __start_gfsim_shared);
  for (unsigned bz = 0; bz < gridDim.z; ++bz)
    for (unsigned by = 0; by < gridDim.y; ++by)
      for (unsigned bx = 0; bx < gridDim.x; ++bx) {
        blockIdx = uint3{bx, by, bz};
        // Shared memory starts as garbage on a GPU: fill it with 0xff bytes (a NaN for
        // floats, -1 for ints) so a kernel that relies on zeros fails here too.
        if (static_smem) memset(__start_gfsim_shared, 0xff, static_smem);
        if (la->smem) memset(dyn_smem, 0xff, la->smem);
#ifdef GFSIM_INITCHECK
        if (static_smem && !shadow_static) shadow_static = new unsigned char[static_smem];
        if (static_smem) memset(shadow_static, 0, static_smem);
        memset(shadow_dyn, 0, la->smem);
#endif
        for (unsigned w = 0; w < nwarps; ++w) {
          unsigned lanes = n - w * 32 >= 32 ? 32 : n - w * 32;
          S.warps[w] = Warp{lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1), 0, 0};
        }
        for (unsigned i = 0; i < n; ++i) { S.th[i].state = FRESH; S.perm[i] = i; S.free_stacks[i] = n - 1 - i; }
        S.nfree = n;
        // Seeded Fisher-Yates: seed 0 is a fixed shuffle, not 0..n-1.
        uint64_t rs = la->seed * 0x2545f4914f6cdd1dull + (((uint64_t)bz * gridDim.y + by) * gridDim.x + bx) + 0x51ed2701ull;
        for (unsigned i = n - 1; i > 0; --i) {
          unsigned j = (unsigned)(splitmix(rs) % (i + 1));
          unsigned tmp = S.perm[i]; S.perm[i] = S.perm[j]; S.perm[j] = tmp;
        }
        S.exited = 0; S.bar_count = S.bar_pred = 0;
        S.rot = 0;
        for (;;) {
          bool ran = false;
          // S.k is shared with gfsim_fiber_main, which advances it when it chains threads.
          for (S.k = 0; S.k < n; ++S.k) {
            unsigned idx = S.rot + S.k;
            unsigned i = S.perm[idx >= n ? idx - n : idx];
            Thread& t = S.th[i];
            void* sp;
            if (t.state == FRESH) {
              S.start_stack = S.free_stacks[--S.nfree];
              sp = init_stack(S.start_stack);
            } else if (t.state == RUNNABLE) {
              sp = t.sp;
            } else {
              continue;
            }
            ran = true;
            t.state = RUNNABLE;
            S.cur = i;
            threadIdx = t.tid;
            gfsim_switch_ctx(&S.sched_sp, sp);
            if (S.error) return report(S.msg);
          }
          if (S.exited == n) break;
          if (!ran) return report(deadlock_message());
          S.rot = (unsigned)(splitmix(rs) % n);  // a different order after every barrier
        }
      }
  fflush(stdout);
  return 0;
}

// ---- argument decoding and signatures (used by the generated wrapper)
template <class T> static inline T load_arg(void* p) {
  static_assert(std::is_trivially_copyable<T>::value, "kernel parameters must be trivially copyable");
  T v;
  memcpy((void*)&v, p, sizeof(T));
  return v;
}

template <size_t... I> struct idx_seq {};
template <size_t N> using make_idx = idx_seq<__integer_pack(N)...>;

// Each simulated thread decodes its own copy of the parameters (by value, as on a GPU).
template <class... A, size_t... I>
static inline void call_kernel(void (*k)(A...), void** argv, idx_seq<I...>) {
  k(load_arg<std::decay_t<A>>(argv[I])...);
}

template <class... A>
static inline int launch(const char* name, void (*k)(A...), const LaunchArgs* la, void** argv, char* err,
                         size_t errlen) {
  struct Ctx {
    void (*k)(A...);
    void** argv;
  } c{k, argv};
  return run_grid(name, la, [](void* p) { auto* c = (Ctx*)p; call_kernel(c->k, c->argv, make_idx<sizeof...(A)>{}); },
                  &c, err, errlen);
}

template <class T> static inline Str type_name() {
  const char* f = __PRETTY_FUNCTION__;  // "... [with T = float]"
  const char* a = strstr(f, "T = ");
  if (!a) return "?";
  a += 4;
  Str s;
  s.append(a, strcspn(a, ";]"));
  return s;
}

template <class T> struct is_half_like : std::false_type {};
// class of a type for argument checks: f float, i signed, u unsigned, b bool, h 16-bit float, o other
template <class T> static inline char type_class() {
  if (std::is_same<T, bool>::value) return 'b';
  if (is_half_like<T>::value) return 'h';
  if (std::is_floating_point<T>::value) return 'f';
  if (std::is_enum<T>::value) return 'i';
  if (std::is_integral<T>::value) return std::is_signed<T>::value ? 'i' : 'u';
  return 'o';
}

template <class P> static inline void describe(Str& s) {
  using T = std::decay_t<P>;
  if (std::is_pointer<T>::value) {
    using E = std::remove_cv_t<std::remove_pointer_t<T>>;
    size_t esz = 0;
    char cls = 'o';
    if constexpr (!std::is_void<E>::value && !std::is_function<E>::value) {
      esz = sizeof(E);
      cls = type_class<E>();
    }
    s += "p\t" + num(esz) + "\t" + cls + "\t" + type_name<T>() + "\n";
  } else {
    s += "v\t" + num(sizeof(T)) + "\t" + type_class<T>() + "\t" + type_name<T>() + "\n";
  }
}
template <class... A> static inline Str signature(void (*)(A...)) {
  Str s;
  (describe<A>(s), ...);
  return s;
}

}  // namespace gfsim

// ---------------------------------------------------------------- synchronisation
static inline void __syncthreads() { gfsim::barrier(0); }
static inline int __syncthreads_count(int p) { return (int)gfsim::barrier(p); }
static inline int __syncthreads_and(int p) { return gfsim::barrier(p) == gfsim::S.n; }
static inline int __syncthreads_or(int p) { return gfsim::barrier(p) != 0; }
static inline void __syncwarp(unsigned mask = 0xffffffffu) { gfsim::warp_op(gfsim::OP_SYNCWARP, mask, 0); }
static inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline unsigned __activemask() {
  const gfsim::Warp& W = gfsim::S.warps[gfsim::S.cur >> 5];
  return W.existing & ~W.exited;
}
static inline unsigned __lanemask_lt() { return (1u << (gfsim::S.cur & 31)) - 1; }
static inline long long clock64() {
  static long long c = 0;
  return c += 16;
}
static inline void __nanosleep(unsigned) { gfsim::yield_to_scheduler(); }  // a back-off loop lets others run
[[noreturn]] static inline void __trap() { gfsim::fail("__trap() at " + gfsim::where()); }
[[noreturn]] static inline void __brkpt() { gfsim::fail("__brkpt() at " + gfsim::where()); }

// A failed assert ends the launch with a KernelError naming the thread.
#undef assert
#define assert(e) ((e) ? (void)0 : gfsim::fail_assert(#e, __FILE__, __LINE__))
namespace gfsim {
[[noreturn]] static inline void fail_assert(const char* e, const char* file, int line) {
  fail(Str("assertion `") + e + "` failed at " + file + ":" + num(line) + ", " + where());
}
}  // namespace gfsim

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
