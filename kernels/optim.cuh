// optim.cuh: the per-element update of each optimizer rule (optim.cu's contract), as device functions:
// optim.cu's kernels run one over a parameter, and the graph compiler's generated multi-tensor kernels
// (gpuflow/graph/fusion) run one over several parameters in one launch, with the very same arithmetic.
// <rule>_element(i, <the kernel's arguments without n>) updates element i.
#pragma once
#include "common.cuh"

namespace gf {
namespace optim {

template <typename A>
__device__ __forceinline__ A decayed(A p, A lr, A weight_decay) {
  return p - lr * weight_decay * p;
}

// A moment's moving average, Keras' form: m + (x - m)(1 - beta) (Adam, Adamax and Nadam's m and v).
template <typename A>
__device__ __forceinline__ A moving_average(A m, A x, A beta) {
  return m + (x - m) * (A(1) - beta);
}

// A skipped step: `apply`, the last of `step`, is 0 (a LossScaleOptimizer found the gradients not finite,
// on the device: the host cannot leave the launch out). Every output keeps its input; in place (out == in)
// nothing is written.
__device__ __forceinline__ bool skipped(const double* step, int apply_index) {
  return step[apply_index] == 0.0;
}

template <typename T>
__device__ __forceinline__ void keep(gf::index_t i, const T* in, T* out) {
  if (out != in) out[i] = in[i];
}

}  // namespace optim
}  // namespace gf

using gf::optim::decayed;
using gf::optim::keep;
using gf::optim::moving_average;
using gf::optim::skipped;

// SGD (momentum, nesterov):  m = momentum * m - lr * g
//   p += m                          (classic)
//   p += momentum * m - lr * g      (nesterov)
//   p -= lr * g                     (no momentum)
template <typename T>
__device__ __forceinline__ void sgd_element(gf::index_t i, const T* p, const T* g, const T* m, T* p_out,
                                            T* m_out, const double* step, gf::acc_t<T> momentum,
                                            int use_momentum, int nesterov, gf::acc_t<T> weight_decay) {
  typedef gf::acc_t<T> A;
  if (skipped(step, 1)) {  // step: (lr, apply)
    keep(i, p, p_out);
    if (use_momentum) keep(i, m, m_out);
    return;
  }
  const A lr = A(step[0]);
  A pi = decayed(gf::load(p[i]), lr, weight_decay);
  A gi = gf::load(g[i]);
  if (use_momentum) {
    A mi = momentum * gf::load(m[i]) - lr * gi;
    pi += nesterov ? momentum * mi - lr * gi : mi;
    m_out[i] = gf::store<T>(mi);
  } else {
    pi -= lr * gi;
  }
  p_out[i] = gf::store<T>(pi);
}

// Adam:  m += (g - m)(1 - b1);  v += (g^2 - v)(1 - b2);  [AMSGrad: v_hat = max(v_hat, v)]
//        p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v or v_hat) + eps)
template <typename T>
__device__ __forceinline__ void adam_element(gf::index_t i, const T* p, const T* g, const T* m, const T* v,
                                             const T* vhat, T* p_out, T* m_out, T* v_out, T* vhat_out,
                                             const double* step, gf::acc_t<T> beta1, gf::acc_t<T> beta2,
                                             gf::acc_t<T> eps, int amsgrad, gf::acc_t<T> weight_decay) {
  typedef gf::acc_t<T> A;
  if (skipped(step, 3)) {  // step: (lr, beta1_power, beta2_power, apply)
    keep(i, p, p_out);
    keep(i, m, m_out);
    keep(i, v, v_out);
    if (amsgrad) keep(i, vhat, vhat_out);
    return;
  }
  const A lr = A(step[0]), beta1_power = A(step[1]), beta2_power = A(step[2]);
  const A alpha = lr * sqrt(A(1) - beta2_power) / (A(1) - beta1_power);
  A pi = decayed(gf::load(p[i]), lr, weight_decay);
  A gi = gf::load(g[i]);
  A mi = gf::load(m[i]);
  A vi = gf::load(v[i]);
  mi = moving_average(mi, gi, beta1);
  vi = moving_average(vi, gi * gi, beta2);
  A denom_v = vi;
  if (amsgrad) {
    A hi = gf::load(vhat[i]);
    denom_v = hi > vi ? hi : vi;
    vhat_out[i] = gf::store<T>(denom_v);
  }
  p_out[i] = gf::store<T>(pi - mi * alpha / (sqrt(denom_v) + eps));
  m_out[i] = gf::store<T>(mi);
  v_out[i] = gf::store<T>(vi);
}

// Adamax:  m += (g - m)(1 - b1);  u = max(b2 * u, |g|);  p -= lr * m / ((1 - b1^t)(u + eps))
template <typename T>
__device__ __forceinline__ void adamax_element(gf::index_t i, const T* p, const T* g, const T* m, const T* u,
                                               T* p_out, T* m_out, T* u_out, const double* step,
                                               gf::acc_t<T> beta1, gf::acc_t<T> beta2, gf::acc_t<T> eps,
                                               gf::acc_t<T> weight_decay) {
  typedef gf::acc_t<T> A;
  if (skipped(step, 2)) {  // step: (lr, beta1_power, apply)
    keep(i, p, p_out);
    keep(i, m, m_out);
    keep(i, u, u_out);
    return;
  }
  const A lr = A(step[0]), beta1_power = A(step[1]);
  A pi = decayed(gf::load(p[i]), lr, weight_decay);
  A gi = gf::load(g[i]);
  A mi = gf::load(m[i]);
  A ui = beta2 * gf::load(u[i]);
  A ag = gi < A(0) ? -gi : gi;
  mi = moving_average(mi, gi, beta1);
  ui = ui > ag ? ui : ag;
  p_out[i] = gf::store<T>(pi - lr * mi / ((A(1) - beta1_power) * (ui + eps)));
  m_out[i] = gf::store<T>(mi);
  u_out[i] = gf::store<T>(ui);
}

// Nadam:  m += (g - m)(1 - b1);  v += (g^2 - v)(1 - b2)
//         m_hat = m * m_coef + g * g_coef;  v_hat = v * v_coef;  p -= lr * m_hat / (sqrt(v_hat) + eps)
// with m_coef = u_{t+1} / (1 - prod_{i<=t+1} u_i), g_coef = (1 - u_t) / (1 - prod_{i<=t} u_i),
// v_coef = 1 / (1 - b2^t), all computed on the host and read from `step`.
template <typename T>
__device__ __forceinline__ void nadam_element(gf::index_t i, const T* p, const T* g, const T* m, const T* v,
                                              T* p_out, T* m_out, T* v_out, const double* step,
                                              gf::acc_t<T> beta1, gf::acc_t<T> beta2, gf::acc_t<T> eps,
                                              gf::acc_t<T> weight_decay) {
  typedef gf::acc_t<T> A;
  if (skipped(step, 4)) {  // step: (lr, m_coef, g_coef, v_coef, apply)
    keep(i, p, p_out);
    keep(i, m, m_out);
    keep(i, v, v_out);
    return;
  }
  const A lr = A(step[0]), m_coef = A(step[1]), g_coef = A(step[2]), v_coef = A(step[3]);
  A pi = decayed(gf::load(p[i]), lr, weight_decay);
  A gi = gf::load(g[i]);
  A mi = gf::load(m[i]);
  A vi = gf::load(v[i]);
  mi = moving_average(mi, gi, beta1);
  vi = moving_average(vi, gi * gi, beta2);
  A m_hat = mi * m_coef + gi * g_coef;
  p_out[i] = gf::store<T>(pi - m_hat * lr / (sqrt(vi * v_coef) + eps));
  m_out[i] = gf::store<T>(mi);
  v_out[i] = gf::store<T>(vi);
}

// RMSprop:  vel = rho * vel + (1 - rho) g^2
//           centered: avg = rho * avg + (1 - rho) g;  denom = vel - avg^2 + eps;  else denom = vel + eps
//           step = lr * g / sqrt(denom);  momentum: mom = momentum * mom + step, p -= mom;  else p -= step
template <typename T>
__device__ __forceinline__ void rmsprop_element(gf::index_t i, const T* p, const T* g, const T* vel,
                                                const T* avg, const T* mom, T* p_out, T* vel_out, T* avg_out,
                                                T* mom_out, const double* step, gf::acc_t<T> rho,
                                                gf::acc_t<T> momentum, gf::acc_t<T> eps, int centered,
                                                int use_momentum, gf::acc_t<T> weight_decay) {
  typedef gf::acc_t<T> A;
  if (skipped(step, 1)) {  // step: (lr, apply)
    keep(i, p, p_out);
    keep(i, vel, vel_out);
    if (centered) keep(i, avg, avg_out);
    if (use_momentum) keep(i, mom, mom_out);
    return;
  }
  const A lr = A(step[0]);
  A pi = decayed(gf::load(p[i]), lr, weight_decay);
  A gi = gf::load(g[i]);
  A vi = rho * gf::load(vel[i]) + (A(1) - rho) * gi * gi;
  A denom = vi + eps;
  if (centered) {
    A ai = rho * gf::load(avg[i]) + (A(1) - rho) * gi;
    denom = vi - ai * ai + eps;
    avg_out[i] = gf::store<T>(ai);
  }
  A delta = lr * gi / sqrt(denom);
  if (use_momentum) {
    delta += momentum * gf::load(mom[i]);
    mom_out[i] = gf::store<T>(delta);
  }
  p_out[i] = gf::store<T>(pi - delta);
  vel_out[i] = gf::store<T>(vi);
}

// Adagrad:  acc += g^2;  p -= lr * g / sqrt(acc + eps)
template <typename T>
__device__ __forceinline__ void adagrad_element(gf::index_t i, const T* p, const T* g, const T* acc, T* p_out,
                                                T* acc_out, const double* step, gf::acc_t<T> eps,
                                                gf::acc_t<T> weight_decay) {
  typedef gf::acc_t<T> A;
  if (skipped(step, 1)) {  // step: (lr, apply)
    keep(i, p, p_out);
    keep(i, acc, acc_out);
    return;
  }
  const A lr = A(step[0]);
  A pi = decayed(gf::load(p[i]), lr, weight_decay);
  A gi = gf::load(g[i]);
  A ai = gf::load(acc[i]) + gi * gi;
  p_out[i] = gf::store<T>(pi - lr * gi / sqrt(ai + eps));
  acc_out[i] = gf::store<T>(ai);
}

// Adadelta:  acc_g = rho * acc_g + (1 - rho) g^2;  delta = -sqrt(acc_d + eps) * g / sqrt(acc_g + eps)
//            acc_d = rho * acc_d + (1 - rho) delta^2;  p += lr * delta
template <typename T>
__device__ __forceinline__ void adadelta_element(gf::index_t i, const T* p, const T* g, const T* acc_g,
                                                 const T* acc_d, T* p_out, T* acc_g_out, T* acc_d_out,
                                                 const double* step, gf::acc_t<T> rho, gf::acc_t<T> eps,
                                                 gf::acc_t<T> weight_decay) {
  typedef gf::acc_t<T> A;
  if (skipped(step, 1)) {  // step: (lr, apply)
    keep(i, p, p_out);
    keep(i, acc_g, acc_g_out);
    keep(i, acc_d, acc_d_out);
    return;
  }
  const A lr = A(step[0]);
  A pi = decayed(gf::load(p[i]), lr, weight_decay);
  A gi = gf::load(g[i]);
  A ag = rho * gf::load(acc_g[i]) + (A(1) - rho) * (gi * gi);
  A ad = gf::load(acc_d[i]);
  A delta = -sqrt(ad + eps) * gi / sqrt(ag + eps);
  ad = rho * ad + (A(1) - rho) * (delta * delta);
  p_out[i] = gf::store<T>(pi + lr * delta);
  acc_g_out[i] = gf::store<T>(ag);
  acc_d_out[i] = gf::store<T>(ad);
}

// Lion:  p -= lr * sign(beta1 * m + (1 - beta1) g);  m = beta2 * m + (1 - beta2) g
template <typename T>
__device__ __forceinline__ void lion_element(gf::index_t i, const T* p, const T* g, const T* m, T* p_out, T* m_out,
                                             const double* step, gf::acc_t<T> beta1, gf::acc_t<T> beta2,
                                             gf::acc_t<T> weight_decay) {
  typedef gf::acc_t<T> A;
  if (skipped(step, 1)) {  // step: (lr, apply)
    keep(i, p, p_out);
    keep(i, m, m_out);
    return;
  }
  const A lr = A(step[0]);
  A pi = decayed(gf::load(p[i]), lr, weight_decay);
  A gi = gf::load(g[i]);
  A mi = gf::load(m[i]);
  A c = mi * beta1 + gi * (A(1) - beta1);
  A s = c > A(0) ? A(1) : c < A(0) ? A(-1) : c == A(0) ? A(0) : c;  // np.sign's: -0 gives +0, NaN stays NaN
  p_out[i] = gf::store<T>(pi - lr * s);
  m_out[i] = gf::store<T>(mi * beta2 + gi * (A(1) - beta2));
}
