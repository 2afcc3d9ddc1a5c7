"""Fused optimizer updates on NumPy: the reference for kernels/optim.cu, same order of operations.

half and bfloat16 compute in float32 and round each output once, as the kernels do.
"""
from __future__ import annotations

import math

import numpy as np

from ._registry import impl, widen
from ..optim_rules import RULES


def _rule(name):
    """Register an update: its per-step scalars (the `step` vector, last input) and float params become scalars
    of the kernel's acc_t<T>, so that derived constants like 1 - beta_2 round as they do in the kernel. The
    last per-step scalar, `apply`, is not the rule's: 0 skips the step, every output a copy of its input."""
    step_names = RULES[name][1][:-1]

    def register(fn):
        def run(p, *arrays, out=None, **hyper):
            acc = np.float64 if p.dtype == np.float64 else np.float32
            *arrays, step = arrays
            values = step.tolist()
            if values[-1] == 0.0:
                result = tuple(a.copy() for a in (p, *arrays[1:]))  # (param, *slots): the gradient is arrays[0]
                result = result if len(result) > 1 else result[0]
                return _store(result, out)
            for k, v in hyper.items():  # `hyper` is this call's own dict: convert in place, no second dict
                if not isinstance(v, bool):
                    hyper[k] = acc(v)
            for k, v in zip(step_names, values):
                hyper[k] = acc(v)
            return _store(fn(p, *arrays, **hyper), out)
        impl(name)(run)
        return fn
    return register


def _store(result, out):
    """`out`: the new values stored in the given buffers (the update in place); else `result` as it is."""
    if out is None:
        return result
    for target, value in zip(out, result if isinstance(result, tuple) else (result,)):
        np.copyto(target, value)
    return out[0] if len(out) == 1 else tuple(out)


def narrow(result, like):
    # Rounds half/bfloat16 once; also keeps float32 float32 should a float64 scalar creep in.
    return np.asarray(result).astype(like, copy=False)


def _decayed(p, lr, weight_decay):
    return p - lr * weight_decay * p


@_rule("sgd_update")
def sgd_update(p, g, lr, weight_decay):
    return narrow(_decayed(widen(p), lr, weight_decay) - lr * widen(g), p.dtype)


@_rule("sgd_momentum_update")
def sgd_momentum_update(p, g, m, lr, momentum, nesterov, weight_decay):
    g = widen(g)
    m_new = momentum * widen(m) - lr * g
    step = momentum * m_new - lr * g if nesterov else m_new
    return narrow(_decayed(widen(p), lr, weight_decay) + step, p.dtype), narrow(m_new, p.dtype)


def _adam(p, g, m, v, v_hat, lr, beta_1, beta_2, epsilon, beta_1_power, beta_2_power, weight_decay):
    g, m = widen(g), widen(m)
    alpha = lr * math.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    m_new = m + (g - m) * (1 - beta_1)
    v_new = widen(v) + (g * g - widen(v)) * (1 - beta_2)
    denom = v_new if v_hat is None else np.maximum(widen(v_hat), v_new)
    p_new = _decayed(widen(p), lr, weight_decay) - m_new * alpha / (np.sqrt(denom) + epsilon)
    dtype = p.dtype
    if v_hat is None:
        return narrow(p_new, dtype), narrow(m_new, dtype), narrow(v_new, dtype)
    return narrow(p_new, dtype), narrow(m_new, dtype), narrow(v_new, dtype), narrow(denom, dtype)


# The parameters are spelled out (not **hyper) so that each call passes them on positionally: no dict per call.
@_rule("adam_update")
def adam_update(p, g, m, v, lr, beta_1, beta_2, epsilon, beta_1_power, beta_2_power, weight_decay):
    return _adam(p, g, m, v, None, lr, beta_1, beta_2, epsilon, beta_1_power, beta_2_power, weight_decay)


@_rule("adam_amsgrad_update")
def adam_amsgrad_update(p, g, m, v, v_hat, lr, beta_1, beta_2, epsilon, beta_1_power, beta_2_power, weight_decay):
    return _adam(p, g, m, v, v_hat, lr, beta_1, beta_2, epsilon, beta_1_power, beta_2_power, weight_decay)


@_rule("adamax_update")
def adamax_update(p, g, m, u, lr, beta_1, beta_2, epsilon, beta_1_power, weight_decay):
    g = widen(g)
    m_new = widen(m) + (g - widen(m)) * (1 - beta_1)
    u_new = np.maximum(beta_2 * widen(u), np.abs(g))
    p_new = _decayed(widen(p), lr, weight_decay) - lr * m_new / ((1 - beta_1_power) * (u_new + epsilon))
    return narrow(p_new, p.dtype), narrow(m_new, p.dtype), narrow(u_new, p.dtype)


@_rule("nadam_update")
def nadam_update(p, g, m, v, lr, beta_1, beta_2, epsilon, m_coef, g_coef, v_coef, weight_decay):
    g = widen(g)
    m_new = widen(m) + (g - widen(m)) * (1 - beta_1)
    v_new = widen(v) + (g * g - widen(v)) * (1 - beta_2)
    m_hat = m_new * m_coef + g * g_coef
    p_new = _decayed(widen(p), lr, weight_decay) - m_hat * lr / (np.sqrt(v_new * v_coef) + epsilon)
    return narrow(p_new, p.dtype), narrow(m_new, p.dtype), narrow(v_new, p.dtype)


def _rmsprop(p, g, vel, avg, mom, lr, rho, epsilon, weight_decay, momentum=0.0):
    g = widen(g)
    vel_new = rho * widen(vel) + (1 - rho) * g * g
    outs = [vel_new]
    if avg is not None:
        avg_new = rho * widen(avg) + (1 - rho) * g
        denom = vel_new - avg_new * avg_new + epsilon
        outs.append(avg_new)
    else:
        denom = vel_new + epsilon
    step = lr * g / np.sqrt(denom)
    if mom is not None:
        step = step + momentum * widen(mom)
        outs.append(step)
    p_new = _decayed(widen(p), lr, weight_decay) - step
    return tuple(narrow(o, p.dtype) for o in [p_new] + outs)


@_rule("rmsprop_update")
def rmsprop_update(p, g, vel, **hyper):
    return _rmsprop(p, g, vel, None, None, **hyper)


@_rule("rmsprop_momentum_update")
def rmsprop_momentum_update(p, g, vel, mom, **hyper):
    return _rmsprop(p, g, vel, None, mom, **hyper)


@_rule("rmsprop_centered_update")
def rmsprop_centered_update(p, g, vel, avg, **hyper):
    return _rmsprop(p, g, vel, avg, None, **hyper)


@_rule("rmsprop_centered_momentum_update")
def rmsprop_centered_momentum_update(p, g, vel, avg, mom, **hyper):
    return _rmsprop(p, g, vel, avg, mom, **hyper)


@_rule("adagrad_update")
def adagrad_update(p, g, acc, lr, epsilon, weight_decay):
    g = widen(g)
    acc_new = widen(acc) + g * g
    p_new = _decayed(widen(p), lr, weight_decay) - lr * g / np.sqrt(acc_new + epsilon)
    return narrow(p_new, p.dtype), narrow(acc_new, p.dtype)
