// optim.cu: fused optimizer updates, one kernel per rule (Keras 3's update rules).
//
// Contract. Each kernel reads a parameter, its gradient and its slots (momentum, second
// moments, ...) and writes the new parameter and slots into separate output buffers, in one
// grid-stride pass over n elements: the whole update of a parameter is one launch instead of
// the ~10 elementwise launches (and ~10 round trips through memory) of the composite form.
// Launch: 1D grid from backend.grid_for(n), 256 threads; any grid is correct.
// Dtypes: T in {float, double, __half, __nv_bfloat16}; arithmetic and the scalar
// hyper-parameters are acc_t<T> (float for half/bfloat16), each output rounded once.
// Every rule first applies decoupled weight decay, p -= lr * weight_decay * p (Keras'
// _apply_weight_decay, AdamW's rule); weight_decay = 0 disables it.
// Per-step scalars (the learning rate, bias-correction powers, Nadam's momentum schedule) are
// read from `step`, a small float64 array in device memory, not passed by value: so a traced
// step (gf.function, a captured CUDA Graph) replays with each step's values, which the host
// computes once per step and uploads in one copy. The last of them, `apply`, is 1, or 0 for a
// step to skip (every output keeps its input: optim.cuh's skipped/keep). The rest of the
// hyper-parameters are fixed per optimizer and passed by value.
// Optional slots (SGD momentum, AMSGrad's v_hat, RMSprop's mean gradient and momentum) are
// switched on by int flags; when off, the caller passes the parameter's buffers in their
// place and the kernel never touches them.
//
// Napkin math per element, S = sizeof(T), k slots: reads (2 + k) * S, writes (1 + k) * S.
// Adam float32: 28 bytes and ~15 FLOPs per element: bandwidth-bound, one sqrt + one divide.
// Adadelta float32: 28 bytes, two sqrt and a divide; Lion float32: 20 bytes, ~10 FLOPs.
#include "optim.cuh"

template <typename T>
__global__ void sgd_update(const T* p, const T* g, const T* m, T* p_out, T* m_out, gf::index_t n,
                           const double* step, gf::acc_t<T> momentum, int use_momentum, int nesterov,
                           gf::acc_t<T> weight_decay) {
  GF_GRID_STRIDE_LOOP(i, n) sgd_element<T>(i, p, g, m, p_out, m_out, step, momentum, use_momentum, nesterov,
                      weight_decay);
}

template <typename T>
__global__ void adam_update(const T* p, const T* g, const T* m, const T* v, const T* vhat, T* p_out, T* m_out,
                            T* v_out, T* vhat_out, gf::index_t n, const double* step, gf::acc_t<T> beta1,
                            gf::acc_t<T> beta2, gf::acc_t<T> eps, int amsgrad, gf::acc_t<T> weight_decay) {
  GF_GRID_STRIDE_LOOP(i, n) adam_element<T>(i, p, g, m, v, vhat, p_out, m_out, v_out, vhat_out, step, beta1,
                      beta2, eps, amsgrad, weight_decay);
}

template <typename T>
__global__ void adamax_update(const T* p, const T* g, const T* m, const T* u, T* p_out, T* m_out, T* u_out,
                              gf::index_t n, const double* step, gf::acc_t<T> beta1, gf::acc_t<T> beta2,
                              gf::acc_t<T> eps, gf::acc_t<T> weight_decay) {
  GF_GRID_STRIDE_LOOP(i, n) adamax_element<T>(i, p, g, m, u, p_out, m_out, u_out, step, beta1, beta2, eps,
                      weight_decay);
}

template <typename T>
__global__ void nadam_update(const T* p, const T* g, const T* m, const T* v, T* p_out, T* m_out, T* v_out,
                             gf::index_t n, const double* step, gf::acc_t<T> beta1, gf::acc_t<T> beta2,
                             gf::acc_t<T> eps, gf::acc_t<T> weight_decay) {
  GF_GRID_STRIDE_LOOP(i, n) nadam_element<T>(i, p, g, m, v, p_out, m_out, v_out, step, beta1, beta2, eps,
                      weight_decay);
}

template <typename T>
__global__ void rmsprop_update(const T* p, const T* g, const T* vel, const T* avg, const T* mom, T* p_out,
                               T* vel_out, T* avg_out, T* mom_out, gf::index_t n, const double* step,
                               gf::acc_t<T> rho, gf::acc_t<T> momentum, gf::acc_t<T> eps, int centered,
                               int use_momentum, gf::acc_t<T> weight_decay) {
  GF_GRID_STRIDE_LOOP(i, n) rmsprop_element<T>(i, p, g, vel, avg, mom, p_out, vel_out, avg_out, mom_out, step,
                      rho, momentum, eps, centered, use_momentum, weight_decay);
}

template <typename T>
__global__ void adagrad_update(const T* p, const T* g, const T* acc, T* p_out, T* acc_out, gf::index_t n,
                               const double* step, gf::acc_t<T> eps, gf::acc_t<T> weight_decay) {
  GF_GRID_STRIDE_LOOP(i, n) adagrad_element<T>(i, p, g, acc, p_out, acc_out, step, eps, weight_decay);
}

template <typename T>
__global__ void adadelta_update(const T* p, const T* g, const T* acc_g, const T* acc_d, T* p_out, T* acc_g_out,
                                T* acc_d_out, gf::index_t n, const double* step, gf::acc_t<T> rho, gf::acc_t<T> eps,
                                gf::acc_t<T> weight_decay) {
  GF_GRID_STRIDE_LOOP(i, n) adadelta_element<T>(i, p, g, acc_g, acc_d, p_out, acc_g_out, acc_d_out, step, rho, eps,
                      weight_decay);
}

template <typename T>
__global__ void lion_update(const T* p, const T* g, const T* m, T* p_out, T* m_out, gf::index_t n,
                            const double* step, gf::acc_t<T> beta1, gf::acc_t<T> beta2, gf::acc_t<T> weight_decay) {
  GF_GRID_STRIDE_LOOP(i, n) lion_element<T>(i, p, g, m, p_out, m_out, step, beta1, beta2, weight_decay);
}
