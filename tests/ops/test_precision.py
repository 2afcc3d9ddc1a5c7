"""Accuracy of the low-precision kernels: float32, float16 and bfloat16 results against float64,
within a bound derived from the dtype's epsilon and the reduction length (harness.precision_bound).

The blanket tolerances elsewhere (float32: 2e-5) let an error of ~100 float32 ulps through: a softmax
that divided by `s + 1e-5` passed every float32 and float16 test. Here the bound is a handful of
ulps plus one eps per folded term, so such a slip fails on every device and dtype.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops import movement, norm_prims
from tests.harness import check_precision, rand

LOW = ["float32", "float16", "bfloat16"]


def np_log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _exp_ulps(x):
    # exp(x - max) turns the rounding of its argument (|x - max| eps) into a relative error of the result.
    return 4 + float(np.ptp(x.astype(np.float64))) if x.size else 4


@pytest.mark.parametrize("n", [1, 3, 7, 1000])
@pytest.mark.parametrize("dtype", LOW)
def test_softmax(device, dtype, n):
    x = rand((5, n), dtype, low=-4, high=4, seed=n)
    x[0, 0] = 8.0 if n > 1 else x[0, 0]  # one row dominated by a single logit: its sum of exps is ~1
    ulps = _exp_ulps(x)
    check_precision(gf.nn.softmax, [x], lambda a: np.exp(np_log_softmax(a)), device, n=n, ulps=ulps)
    # log_softmax = shifted - log(s): the error is absolute, about (|shifted| + n) eps
    check_precision(gf.nn.log_softmax, [x], np_log_softmax, device, n=n, ulps=ulps, scale=ulps)


@pytest.mark.parametrize("dtype", LOW)
def test_cross_entropies(device, dtype):
    n = 10
    logits = rand((6, n), dtype, low=-4, high=4, seed=2)
    labels = np.random.default_rng(3).integers(0, n, 6).astype(np.int32)
    probs = np.exp(np_log_softmax(rand((6, n), "float64", seed=4))).astype(dtype)
    ulps = _exp_ulps(logits)
    check_precision(lambda lo, la: gf.nn.sparse_softmax_cross_entropy_with_logits(labels=la, logits=lo),
                    [logits, labels], lambda lo, la: -np_log_softmax(lo)[np.arange(6), la], device, n=n, ulps=ulps,
                    scale=ulps)
    check_precision(lambda la, lo: gf.nn.softmax_cross_entropy_with_logits(la, lo), [probs, logits],
                    lambda la, lo: -np.sum(la * np_log_softmax(lo), axis=-1), device, n=2 * n, ulps=ulps, scale=ulps)


UNARY = {"exp": (np.exp, (-3, 3)), "log": (np.log, (0.1, 4)), "sqrt": (np.sqrt, (0.1, 4)),
         "tanh": (np.tanh, (-3, 3)), "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), (-6, 6)),
         "sin": (np.sin, (-3, 3)), "reciprocal": (lambda x: 1 / x, (0.2, 4)),
         "erf": (np.vectorize(math.erf, otypes=[np.float64]), (-2, 2))}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", LOW)
def test_unary(device, dtype, name):
    reference, (low, high) = UNARY[name]
    x = rand((4097,), dtype, low=low, high=high, seed=5)
    # A correct function of a rounded argument is off by |x f'(x) / f(x)| eps: the condition number.
    h = 1e-6
    xs = x.astype(np.float64)
    cond = np.abs(xs * (reference(xs + h) - reference(xs - h)) / (2 * h)) / np.maximum(np.abs(reference(xs)), 1e-300)
    check_precision(getattr(gf.math, name), [x], reference, device, ulps=4,
                    scale=np.abs(reference(xs)) * (1 + cond), what=name)


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("dtype", LOW)
def test_sums(device, dtype, axis):
    x = rand((300, 70), dtype, seed=6)
    n = x.size if axis is None else x.shape[axis]
    magnitudes = np.sum(np.abs(x.astype(np.float64)), axis=axis)
    check_precision(lambda t: gf.reduce_sum(t, axis=axis), [x], lambda a: np.sum(a, axis=axis), device, n=n,
                    scale=magnitudes)
    check_precision(lambda t: gf.reduce_mean(t, axis=axis), [x], lambda a: np.mean(a, axis=axis), device, n=n + 1,
                    scale=magnitudes / n)
    check_precision(lambda t: gf.reduce_logsumexp(t, axis=axis), [x],
                    lambda a: np.log(np.sum(np.exp(a - a.max(axis=axis, keepdims=True)), axis=axis))
                    + a.max(axis=axis), device, n=n, ulps=_exp_ulps(x), scale=1 + np.abs(x).max())
    # max and min pick an element: exact
    check_precision(lambda t: gf.reduce_max(t, axis=axis), [x], lambda a: np.max(a, axis=axis), device, ulps=0)


@pytest.mark.parametrize("k", [1, 17, 300])
@pytest.mark.parametrize("dtype", LOW)
def test_matmul(device, dtype, k):
    a, b = rand((33, k), dtype, seed=7), rand((k, 9), dtype, seed=8)
    magnitudes = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))
    check_precision(gf.matmul, [a, b], np.matmul, device, n=k, scale=magnitudes)


def _scatter_reference(u, i):
    out = np.zeros((9,) + u.shape[1:])
    np.add.at(out, i, u)
    return out


@pytest.mark.parametrize("dtype", LOW)
def test_scatter_add(device, dtype):
    idx = np.arange(5000) % 9  # 556 updates land on each row
    u = rand((5000, 3), dtype, seed=9)
    magnitudes = _scatter_reference(np.abs(u.astype(np.float64)), idx)
    check_precision(lambda t, i: movement.scatter_add(t, i, axis=0, dim_size=9), [u, idx], _scatter_reference,
                    device, n=556, scale=magnitudes)


@pytest.mark.parametrize("dtype", LOW)
def test_layer_norm(device, dtype):
    n = 64
    x, gamma, beta = rand((8, n), dtype, seed=10), rand((n,), dtype, seed=11), rand((n,), dtype, seed=12)

    def reference(a, g, b):
        mean = a.mean(-1, keepdims=True)
        xhat = (a - mean) / np.sqrt(a.var(-1, keepdims=True) + 1e-3)
        return xhat * g + b
    scale = np.abs(x.astype(np.float64)).max() * 4 * np.abs(gamma.astype(np.float64)) + np.abs(beta.astype(np.float64))
    check_precision(lambda a, g, b: norm_prims.layer_norm(a, g, b, epsilon=1e-3)[0], [x, gamma, beta], reference,
                    device, n=2 * n, scale=scale)
