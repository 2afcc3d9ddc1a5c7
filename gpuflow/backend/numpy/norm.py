"""Layer norm and batch norm on NumPy: two-pass statistics (mean, then squared deviations),
accumulated in float32 for half/bfloat16 and the statistics rounded to x's dtype, as the kernels do."""
from __future__ import annotations

import numpy as np

from ._registry import impl, narrow, widen


def _normalize(x, gamma, beta, epsilon, axis):
    wide = widen(x)
    count = wide.dtype.type(x.shape[axis])
    with np.errstate(invalid="ignore", divide="ignore"):  # empty rows give NaN statistics, as the kernels do
        mean = np.sum(wide, axis=axis, keepdims=True) / count
        var = np.sum(np.square(wide - mean), axis=axis, keepdims=True) / count
        rstd = 1.0 / np.sqrt(var + wide.dtype.type(epsilon))
        y = (wide - mean) * rstd * widen(gamma) + widen(beta)
    return narrow(y, x.dtype), mean, var, rstd


@impl("layer_norm")
def layer_norm(x, gamma, beta, epsilon):
    y, mean, _, rstd = _normalize(x, gamma, beta, epsilon, -1)
    return y, narrow(mean[..., 0], x.dtype), narrow(rstd[..., 0], x.dtype)


@impl("batch_norm")
def batch_norm(x, gamma, beta, epsilon):
    y, mean, var, _ = _normalize(x, gamma, beta, epsilon, 0)
    return y, narrow(mean[0], x.dtype), narrow(var[0], x.dtype)
