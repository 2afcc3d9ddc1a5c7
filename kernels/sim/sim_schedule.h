// sim_schedule.h: barriers, warp-op rendezvous, the block scheduler, argument decoding, __syncthreads and assert.
// How the fibers of a block are run, shuffled, synchronised and checked for divergence.
// Part of the simulator's CUDA model; included by cuda_sim.h in order, never on its own.
#pragma once

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
