"""Softmax family, cross-entropies and dropout on NumPy (rows along the last axis)."""
from __future__ import annotations

import numpy as np

from ...errors import InvalidArgumentError
from ._registry import impl, narrow, quiet, widen


def check_labels(labels, n):
    """Sparse labels must index the logits' last axis; works on NumPy and CuPy arrays alike."""
    if not labels.size:
        return
    # One reduction when all is well: read as unsigned, a negative label is larger than any class count.
    if labels.dtype.kind in "iu" and int(labels.view(f"u{labels.dtype.itemsize}").max()) < n:
        return
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= n:
        raise InvalidArgumentError(
            f"sparse_softmax_cross_entropy_with_logits: labels must be class ids in [0, {n}) (the logits' "
            f"last axis has {n} classes), got values from {lo} to {hi} in labels of shape {list(labels.shape)}")


def _log_softmax(x):
    # np.maximum.reduce / np.add.reduce are what np.max / np.sum call, minus their Python wrappers (a few us on
    # the small rows of a classifier's logits); the temporaries are reused in place.
    m = np.maximum.reduce(x, axis=-1, keepdims=True) if x.shape[-1] else np.zeros(x.shape[:-1] + (1,), x.dtype)
    shifted = x - np.where(np.isfinite(m), m, 0)
    total = np.add.reduce(np.exp(shifted), axis=-1, keepdims=True)
    return np.subtract(shifted, np.log(total, out=total), out=shifted)


@impl("log_softmax")
def log_softmax(x):
    with quiet():
        return narrow(_log_softmax(widen(x)), x.dtype)


@impl("softmax")
def softmax(x):
    with quiet():
        return narrow(np.exp(_log_softmax(widen(x))), x.dtype)


@impl("sparse_softmax_xent")
def sparse_softmax_xent(logits, labels):
    n = logits.shape[-1]
    check_labels(labels, n)
    with quiet():
        logp = _log_softmax(widen(logits))
        picked = logp.reshape(labels.size, n)[np.arange(labels.size), labels.reshape(-1)]  # each row's label
        loss = np.negative(picked, out=picked).reshape(labels.shape)
        return narrow(loss, logits.dtype), narrow(np.exp(logp), logits.dtype)


@impl("sparse_softmax_xent_grad")
def sparse_softmax_xent_grad(g, probs, labels):
    wide = widen(probs)
    hot = np.arange(probs.shape[-1]) == labels[..., None]  # labels are checked by the forward op
    return narrow(widen(g)[..., None] * (wide - hot.astype(wide.dtype)), probs.dtype)


@impl("softmax_xent")
def softmax_xent(logits, labels):
    with quiet():
        logp = _log_softmax(widen(logits))
        return narrow(-np.sum(widen(labels) * logp, axis=-1), logits.dtype), narrow(logp, logits.dtype)
