"""Grad rules of layer_norm and batch_norm (gpuflow/ops/norm_prims.py), written in gpuflow ops."""
from __future__ import annotations

from ... import ops
from ...ops import norm_prims as _prims
from ...ops.dispatch import defgrad


def _normalized_grad(g_y, g_mean, g_rstd, xhat, rstd, gamma, axis, count):
    """dL/dx for y = xhat * gamma + beta, xhat = (x - mean) * rstd, statistics over `axis` of `count` items.

    dxhat = g_y * gamma; dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)); plus the
    statistics' own terms: d mean/dx = 1/count, d rstd/dx = -rstd² * xhat / count.
    """
    dxhat = g_y * gamma
    mean_d = ops.reduce_mean(dxhat, axis=axis, keepdims=True)
    mean_dx = ops.reduce_mean(dxhat * xhat, axis=axis, keepdims=True)
    dx = rstd * (dxhat - mean_d - xhat * mean_dx)
    return dx + (g_mean - g_rstd * rstd * rstd * xhat) * (1.0 / count)


def _layer_norm_grad(grads, outs, x, gamma, beta, epsilon):
    g_y, g_mean, g_rstd = grads
    _, mean, rstd = outs
    mean, rstd = ops.expand_dims(mean, -1), ops.expand_dims(rstd, -1)
    xhat = (x - mean) * rstd
    dx = _normalized_grad(g_y, ops.expand_dims(g_mean, -1), ops.expand_dims(g_rstd, -1), xhat, rstd, gamma, -1,
                          x.shape[-1])
    rows = tuple(range(x.ndim - 1))
    return dx, ops.reduce_sum(g_y * xhat, axis=rows), ops.reduce_sum(g_y, axis=rows)


def _batch_norm_grad(grads, outs, x, gamma, beta, epsilon):
    g_y, g_mean, g_var = grads
    _, mean, var = outs
    rstd = ops.rsqrt(var + epsilon)
    xhat = (x - mean) * rstd
    # var = 1/rstd² - eps, so d var = -2 / rstd³ d rstd: turn the var gradient into an rstd gradient.
    g_rstd = g_var * (-2.0) / (rstd * rstd * rstd)
    dx = _normalized_grad(g_y, g_mean, g_rstd, xhat, rstd, gamma, 0, x.shape[0])
    return dx, ops.reduce_sum(g_y * xhat, axis=0), ops.reduce_sum(g_y, axis=0)


defgrad(_prims.layer_norm)(_layer_norm_grad)
defgrad(_prims.batch_norm)(_batch_norm_grad)
