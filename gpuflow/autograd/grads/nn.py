"""Grad rules of the fused nn primitives (gpuflow/ops/nn_prims.py), written in gpuflow ops."""
from __future__ import annotations

from ... import ops
from ...ops import nn_prims as _prims
from ...ops.dispatch import defgrad


def _softmax_grad(g, out, x):
    return (out * (g - ops.reduce_sum(g * out, axis=-1, keepdims=True)),)


def _log_softmax_grad(g, out, x):
    return (g - ops.exp(out) * ops.reduce_sum(g, axis=-1, keepdims=True),)


def _sparse_xent_grad(grads, outs, logits, labels):
    # d loss/d logits = g * (softmax - onehot), one fused primitive; the probs output, when it is used,
    # adds softmax's own rule (the tape passes None for an output nothing depends on: no zeros to push back).
    g, g_probs = grads
    probs = outs[1]
    d_logits = _prims.sparse_softmax_xent_grad(g, probs, labels)
    if g_probs is not None:
        d_logits = d_logits + _softmax_grad(g_probs, probs, logits)[0]
    return d_logits, None


def _xent_grad(grads, outs, logits, labels):
    # loss = -sum(labels * log_softmax(logits)); labels need not sum to 1, hence `total`.
    g, g_logp = ops.expand_dims(grads[0], -1), grads[1]
    log_probs = outs[1]
    total = ops.reduce_sum(labels, axis=-1, keepdims=True)
    d_logits = g * (ops.exp(log_probs) * total - labels) + _log_softmax_grad(g_logp, log_probs, logits)[0]
    return d_logits, -g * log_probs


defgrad(_prims.softmax)(_softmax_grad)
defgrad(_prims.log_softmax)(_log_softmax_grad)
defgrad(_prims.sparse_softmax_xent)(_sparse_xent_grad)
defgrad(_prims.softmax_xent)(_xent_grad)
