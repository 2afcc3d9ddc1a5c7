"""Float64 NumPy references of Keras 3's optimizer updates, written from Keras' update_step code.

Each `step(p, g, state, lr, t)` updates one parameter in place of returning: it returns the new
parameter and mutates `state` (a dict of slots, created on first use); t is the 0-based step.
"""
from __future__ import annotations

import numpy as np


def decay(p, lr, wd):
    return p - p * wd * lr


def sgd(momentum=0.0, nesterov=False, wd=0.0):
    def step(p, g, s, lr, t):
        p = decay(p, lr, wd)
        if not momentum:
            return p - g * lr
        m = s.setdefault("m", np.zeros_like(p))
        m[...] = -g * lr + m * momentum
        return p + (-g * lr + m * momentum if nesterov else m)
    return step


def adam(b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=0.0):
    def step(p, g, s, lr, t):
        p = decay(p, lr, wd)
        m, v = s.setdefault("m", np.zeros_like(p)), s.setdefault("v", np.zeros_like(p))
        alpha = lr * np.sqrt(1 - b2 ** (t + 1)) / (1 - b1 ** (t + 1))
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        if amsgrad:
            vh = s.setdefault("vh", np.zeros_like(p))
            vh[...] = np.maximum(vh, v)
            return p - m * alpha / (np.sqrt(vh) + eps)
        return p - m * alpha / (np.sqrt(v) + eps)
    return step


def adamax(b1=0.9, b2=0.999, eps=1e-7):
    def step(p, g, s, lr, t):
        m, u = s.setdefault("m", np.zeros_like(p)), s.setdefault("u", np.zeros_like(p))
        m += (g - m) * (1 - b1)
        u[...] = np.maximum(b2 * u, np.abs(g))
        return p - lr * m / ((1 - b1 ** (t + 1)) * (u + eps))
    return step


def nadam(b1=0.9, b2=0.999, eps=1e-7):
    def step(p, g, s, lr, t):
        # Keras keeps u_product in a variable, multiplied by u_t before each step.
        s["u_product"] = s.get("u_product", 1.0) * b1 * (1 - 0.5 * 0.96 ** ((t + 1) * 0.004))
        u_t = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * 0.004))
        u_t1 = b1 * (1 - 0.5 * 0.96 ** ((t + 2) * 0.004))
        prod_t = s["u_product"]
        prod_t1 = prod_t * u_t1
        m, v = s.setdefault("m", np.zeros_like(p)), s.setdefault("v", np.zeros_like(p))
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        m_hat = m * u_t1 / (1 - prod_t1) + g * (1 - u_t) / (1 - prod_t)
        v_hat = v / (1 - b2 ** (t + 1))
        return p - m_hat * lr / (np.sqrt(v_hat) + eps)
    return step


def rmsprop(rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def step(p, g, s, lr, t):
        vel = s.setdefault("vel", np.zeros_like(p))
        vel[...] = rho * vel + (1 - rho) * g * g
        if centered:
            avg = s.setdefault("avg", np.zeros_like(p))
            avg[...] = rho * avg + (1 - rho) * g
            denom = vel - avg * avg + eps
        else:
            denom = vel + eps
        inc = lr * g / np.sqrt(denom)
        if momentum:
            mom = s.setdefault("mom", np.zeros_like(p))
            mom[...] = momentum * mom + inc
            return p - mom
        return p - inc
    return step


def adagrad(init=0.1, eps=1e-7):
    def step(p, g, s, lr, t):
        acc = s.setdefault("acc", np.full_like(p, init))
        acc += g * g
        return p - lr * g / np.sqrt(acc + eps)
    return step


def adadelta(rho=0.95, eps=1e-7):
    def step(p, g, s, lr, t):
        ag, ad = s.setdefault("ag", np.zeros_like(p)), s.setdefault("ad", np.zeros_like(p))
        ag[...] = rho * ag + (1 - rho) * g * g
        delta = -np.sqrt(ad + eps) / np.sqrt(ag + eps) * g
        ad[...] = rho * ad + (1 - rho) * delta * delta
        return p + lr * delta
    return step


def lion(b1=0.9, b2=0.99, wd=0.0):
    def step(p, g, s, lr, t):
        p = decay(p, lr, wd)
        m = s.setdefault("m", np.zeros_like(p))
        p = p - lr * np.sign(b1 * m + (1 - b1) * g)
        m[...] = b2 * m + (1 - b2) * g
        return p
    return step
