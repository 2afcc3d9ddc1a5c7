"""Fused recurrent-cell pointwise math (the matmuls stay outside, on cuBLAS), Keras gate orders.

    lstm_cell(z[N, 4U], c_prev[N, U]) -> h, c          z = x@W + h@U + b, gates i, f, g, o:
        i, f, o = sigmoid(z_i, z_f, z_o); g = tanh(z_g); c = f*c_prev + i*g; h = o*tanh(c)
    gru_cell(zx[N, 3U], zh[N, 3U], h_prev[N, U]) -> h  (Keras reset_after=True), gates z, r, h:
        zx = x@W + b_x, zh = h_prev@U + b_h; z = sigmoid(zx_z + zh_z); r = sigmoid(zx_r + zh_r)
        hh = tanh(zx_h + r*zh_h); h = z*h_prev + (1 - z)*hh

Each has a fused backward primitive (one kernel pass recomputing the gates from z, which is
cheaper than storing them). The backward primitives' own gradients (second order, rarely
needed) differentiate the same backward formulas written in gpuflow ops, so they stay exact
and can be differentiated again: gpuflow/autograd/grads/rnn.py.
"""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require, same_dtype
from .dispatch import primitive


def _units(op, pre, state, gates):
    """Checks pre-activations [N, gates*U] against a state [N, U]; returns U."""
    require(op, pre, "f", "a floating-point")
    if len(pre.shape) != 2 or len(state.shape) != 2 or pre.shape[0] != state.shape[0] or \
            pre.shape[1] != gates * state.shape[1]:
        raise InvalidArgumentError(
            f"{op}: pre-activations {pre.dtype.name}{list(pre.shape)} must be [N, {gates}*units] for the state "
            f"{state.dtype.name}{list(state.shape)} of [N, units]")
    return state.shape[1]


def _lstm_infer(z, c_prev):
    same_dtype("lstm_cell", z, c_prev)
    _units("lstm_cell", z, c_prev, 4)
    return TensorSpec(c_prev.shape, z.dtype), TensorSpec(c_prev.shape, z.dtype)


def _lstm_grad_infer(z, c_prev, c, dh, dc):
    same_dtype("lstm_cell_grad", z, c_prev, c, dh, dc)
    _units("lstm_cell_grad", z, c_prev, 4)
    for what, s in (("c", c), ("dh", dh), ("dc", dc)):
        if tuple(s.shape) != tuple(c_prev.shape):
            raise InvalidArgumentError(f"lstm_cell_grad: {what} {list(s.shape)} must match c_prev {list(c_prev.shape)}")
    return TensorSpec(z.shape, z.dtype), TensorSpec(c_prev.shape, z.dtype)


def _gru_infer(zx, zh, h_prev):
    same_dtype("gru_cell", zx, zh, h_prev)
    _units("gru_cell", zx, h_prev, 3)
    if tuple(zh.shape) != tuple(zx.shape):
        raise InvalidArgumentError(f"gru_cell: zh {list(zh.shape)} must have the shape of zx {list(zx.shape)}")
    return TensorSpec(h_prev.shape, zx.dtype)


def _gru_grad_infer(zx, zh, h_prev, dh):
    _gru_infer(zx, zh, h_prev)
    same_dtype("gru_cell_grad", zx, dh)
    if tuple(dh.shape) != tuple(h_prev.shape):
        raise InvalidArgumentError(f"gru_cell_grad: dh {list(dh.shape)} must match h_prev {list(h_prev.shape)}")
    return TensorSpec(zx.shape, zx.dtype), TensorSpec(zx.shape, zx.dtype), TensorSpec(h_prev.shape, zx.dtype)


def _lstm_grad(grads, outs, z, c_prev):
    dh, dc = grads
    return lstm_cell_grad(z, c_prev, outs[1], dh, dc)


def _gru_grad(dh, out, zx, zh, h_prev):
    return gru_cell_grad(zx, zh, h_prev, dh)


lstm_cell = primitive("lstm_cell", _lstm_infer, _lstm_grad, n_outputs=2)
lstm_cell_grad = primitive("lstm_cell_grad", _lstm_grad_infer, n_outputs=2)
gru_cell = primitive("gru_cell", _gru_infer, _gru_grad)
gru_cell_grad = primitive("gru_cell_grad", _gru_grad_infer, n_outputs=3)
