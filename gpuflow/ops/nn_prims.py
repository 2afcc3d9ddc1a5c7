"""Fused neural-network primitives: softmax, log_softmax, the two softmax cross-entropies, dropout.

Each is one kernel on cuda (one pass over a row where possible), so each is a primitive
with its own grad rule (gpuflow/autograd/grads/nn.py; dropout's, another dropout, is here)
rather than a composite of elementwise ops.
"""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from .. import dtypes
from ._util import require
from .dispatch import primitive
from .random_prims import check_offset


def _row_infer(name):
    def infer(x):
        require(name, x, "f", "a floating-point")
        if not x.shape:
            raise InvalidArgumentError(f"{name}: needs rank >= 1, got a scalar {x.dtype.name}")
        return TensorSpec(x.shape, x.dtype)
    return infer


softmax = primitive("softmax", _row_infer("softmax"))
log_softmax = primitive("log_softmax", _row_infer("log_softmax"))


def _sparse_xent_infer(logits, labels):
    name = "sparse_softmax_cross_entropy_with_logits"
    require(name, logits, "f", "floating-point logits")
    require(name, labels, "i", "integer labels")
    if len(logits.shape) < 1 or tuple(labels.shape) != tuple(logits.shape[:-1]):
        raise InvalidArgumentError(f"{name}: labels {labels.dtype.name}{list(labels.shape)} must have the shape of "
                                   f"logits {logits.dtype.name}{list(logits.shape)} without its last axis")
    return TensorSpec(labels.shape, logits.dtype), TensorSpec(logits.shape, logits.dtype)


def _sparse_xent_grad_infer(g, probs, labels):
    if tuple(g.shape) != tuple(labels.shape) or tuple(probs.shape[:-1]) != tuple(labels.shape) or \
            g.dtype != probs.dtype:
        raise InvalidArgumentError(f"sparse_softmax_xent_grad: g {g.dtype.name}{list(g.shape)}, probs "
                                   f"{probs.dtype.name}{list(probs.shape)} and labels {labels.dtype.name}"
                                   f"{list(labels.shape)} do not fit together")
    return TensorSpec(probs.shape, probs.dtype)


# Outputs: the loss per row and the softmax, which the gradient needs (as TF's kernel does).
sparse_softmax_xent = primitive("sparse_softmax_xent", _sparse_xent_infer, n_outputs=2,
                                none_for_unused_outputs=True)
# Its backward for the loss, fused: g[..., None] * (probs - onehot(labels)). Only ever made by that grad rule,
# whose result is not differentiated again through this op (no rule: second derivatives of the sparse
# cross-entropy's gradient are not supported, as in TF).
sparse_softmax_xent_grad = primitive("sparse_softmax_xent_grad", _sparse_xent_grad_infer)


def _xent_infer(logits, labels):
    name = "softmax_cross_entropy_with_logits"
    require(name, logits, "f", "floating-point logits")
    if tuple(labels.shape) != tuple(logits.shape) or labels.dtype != logits.dtype or not logits.shape:
        raise InvalidArgumentError(f"{name}: labels {labels.dtype.name}{list(labels.shape)} and logits "
                                   f"{logits.dtype.name}{list(logits.shape)} must have one shape and dtype, rank >= 1")
    return TensorSpec(logits.shape[:-1], logits.dtype), TensorSpec(logits.shape, logits.dtype)


# Outputs: the loss per row and log_softmax(logits), which both gradients need.
softmax_xent = primitive("softmax_xent", _xent_infer, n_outputs=2)


def _dropout_infer(x, offset, rate, key):
    require("dropout", x, "f", "a floating-point")
    check_offset("dropout", offset)
    if not 0 <= rate < 1:
        raise InvalidArgumentError(f"dropout: rate must be in [0, 1), got {rate}")
    return TensorSpec(x.shape, x.dtype)


# The mask is not stored: the grad re-draws it from the same key and the same offset tensor (the forward
# node's input), so in a traced graph too the backward mask is the one this call's forward drew.
dropout = primitive("dropout", _dropout_infer,
                    lambda g, out, x, offset, rate, key: (dropout(g, offset, rate=rate, key=key), None))

__all__ = ["softmax", "log_softmax", "sparse_softmax_xent", "softmax_xent", "dropout", "dtypes"]
