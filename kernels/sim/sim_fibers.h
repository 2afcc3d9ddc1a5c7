// sim_fibers.h: the runtime core - thread contexts, stacks, the context switch, initcheck shadows, the fiber entry.
// Everything a simulated thread needs to exist and to be suspended and resumed.
// Part of the simulator's CUDA model; included by cuda_sim.h in order, never on its own.
#pragma once

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

