"""Softmax family and the softmax cross-entropies on cuda/sim: one launch of kernels/softmax.cu per op."""
from __future__ import annotations

import numpy as np

from ..numpy.nn import check_labels
from ._registry import impl
from .storage import ctype

WARP_ROW_MAX = 1024  # rows up to this long get a warp each, longer ones a block of 256


def _launch(backend, name, rows, n, args):
    """Launch a row kernel over rows of n elements (nothing to do when there are no rows)."""
    if rows == 0:
        return
    block = (32, 8) if n <= WARP_ROW_MAX else (256, 1)
    backend.kernel("softmax.cu", name)((backend.grid_for(rows, block[1]),), block,
                                       args + (np.int64(rows), np.int64(n)))


def _rows(x):
    n = x.shape[-1]
    return (x.size // n if n else 0), n


@impl("softmax", "log_softmax")
def softmax(backend, name, x):
    x = backend.xp.ascontiguousarray(x)
    y = backend.xp.empty(x.shape, x.dtype)
    rows, n = _rows(x)
    log = "true" if name == "log_softmax" else "false"
    _launch(backend, f"softmax_rows<{ctype(x)}, {log}>", rows, n, (x, y))
    return y


@impl("sparse_softmax_xent")
def sparse_softmax_xent(backend, logits, labels):
    xp = backend.xp
    check_labels(labels, logits.shape[-1])  # two reductions on the device: cheap next to the kernel
    loss, probs = xp.empty(labels.shape, logits.dtype), xp.empty(logits.shape, logits.dtype)
    rows = labels.size
    logits, labels = xp.ascontiguousarray(logits), xp.ascontiguousarray(labels)  # (0-d labels become 1-d)
    _launch(backend, f"sparse_xent_rows<{ctype(logits)}, {ctype(labels)}>", rows, logits.shape[-1],
            (logits, labels, loss, probs))
    return loss, probs


@impl("sparse_softmax_xent_grad")
def sparse_softmax_xent_grad(backend, g, probs, labels):
    xp = backend.xp
    g, probs, labels = xp.ascontiguousarray(g), xp.ascontiguousarray(probs), xp.ascontiguousarray(labels)
    out = xp.empty(probs.shape, probs.dtype)
    if out.size:
        rows, n = _rows(probs)
        backend.kernel("softmax.cu", f"sparse_xent_backward<{ctype(probs)}, {ctype(labels)}>")(
            (backend.grid_for(out.size),), (256,), (g, probs, labels, out, np.int64(rows), np.int64(n)))
    return out


@impl("softmax_xent")
def softmax_xent(backend, logits, labels):
    xp = backend.xp
    logits, labels = xp.ascontiguousarray(logits), xp.ascontiguousarray(labels)
    loss, logp = xp.empty(logits.shape[:-1], logits.dtype), xp.empty(logits.shape, logits.dtype)
    _launch(backend, f"xent_rows<{ctype(logits)}>", loss.size, logits.shape[-1], (logits, labels, loss, logp))
    return loss, logp
