#include "common.cuh"

extern "C" __global__ void atomic_sum(const float* x, float* total, int n) {
  GF_GRID_STRIDE_LOOP(i, n) { atomicAdd(total, x[i]); }
}

extern "C" __global__ void atomic_max(const int* x, int* m, int n) {
  GF_GRID_STRIDE_LOOP(i, n) { atomicMax(m, x[i]); }
}

// Double add through a CAS loop, the classic pre-sm_60 idiom.
extern "C" __global__ void cas_sum(const double* x, double* total, int n) {
  unsigned long long* addr = (unsigned long long*)total;
  GF_GRID_STRIDE_LOOP(i, n) {
    unsigned long long old = *addr, assumed;
    do {
      assumed = old;
      old = atomicCAS(addr, assumed, __double_as_longlong(__longlong_as_double(assumed) + x[i]));
    } while (assumed != old);
  }
}

// One of every other atomic, each on its own counter.
extern "C" __global__ void atomic_misc(int* c, unsigned* u, unsigned long long* ull) {
  unsigned t = threadIdx.x;
  atomicSub(&c[0], 1);
  atomicMin(&c[1], -(int)t);
  atomicExch(&c[2], 7);
  atomicAnd(&u[0], ~(1u << (t % 32)));
  atomicOr(&u[1], 1u << (t % 32));
  atomicXor(&u[2], 1u);
  atomicInc(&u[3], 9u);
  atomicDec(&u[4], 9u);
  atomicAdd(&ull[0], 1ull << 33);
}

// A block-wide spin lock whose holder sleeps (yields) inside the critical section: only works
// if a thread spinning on atomicCAS lets the holder run.
extern "C" __global__ void spin_lock(int* lock, int* counter, int* log) {
  while (atomicCAS(lock, 0, 1) != 0) {
  }
  int c = *counter;  // critical section: not atomic on its own
  __nanosleep(100);
  log[threadIdx.x] = c;
  *counter = c + 1;
  __threadfence();
  atomicExch(lock, 0);
}
