"""Second-order rules of the fused recurrent cells (gpuflow/ops/rnn_prims.py): the gradient of each backward
primitive is the vector-Jacobian product of the same backward formulas written in gpuflow ops, taken by a
GradientTape, so it stays exact and can be differentiated again."""
from __future__ import annotations

from ... import ops
from ...ops import rnn_prims as _prims
from ...ops.dispatch import defgrad
from ..tape import GradientTape


def _lstm_backward_ops(z, c_prev, c, dh, dc):
    """lstm_cell_grad's formulas in gpuflow ops (what kernels/rnn.cu's lstm_cell_bwd computes)."""
    zi, zf, zg, zo = ops.split(z, 4, axis=1)
    i, f, g, o = ops.sigmoid(zi), ops.sigmoid(zf), ops.tanh(zg), ops.sigmoid(zo)
    tc = ops.tanh(c)
    dct = dc + dh * o * (1 - tc * tc)
    dz = ops.concat([dct * g * i * (1 - i), dct * c_prev * f * (1 - f), dct * i * (1 - g * g),
                     dh * tc * o * (1 - o)], axis=1)
    return dz, dct * f


def _gru_backward_ops(zx, zh, h_prev, dh):
    """gru_cell_grad's formulas in gpuflow ops (what kernels/rnn.cu's gru_cell_bwd computes)."""
    xz, xr, xh = ops.split(zx, 3, axis=1)
    hz, hr, hh = ops.split(zh, 3, axis=1)
    z, r = ops.sigmoid(xz + hz), ops.sigmoid(xr + hr)
    cand = ops.tanh(xh + r * hh)
    da_z = dh * (h_prev - cand) * z * (1 - z)
    da_h = dh * (1 - z) * (1 - cand * cand)
    da_r = da_h * hh * r * (1 - r)
    return ops.concat([da_z, da_r, da_h], axis=1), ops.concat([da_z, da_r, da_h * r], axis=1), dh * z


def _vjp_of(backward_ops):
    """A grad rule for a fused backward primitive: the vector-Jacobian product of its formulas."""
    def grad(grads, outs, *inputs):
        with GradientTape() as tape:
            tape.watch(list(inputs))
            results = backward_ops(*inputs)
        return tuple(tape.gradient(list(results), list(inputs), output_gradients=list(grads)))
    return grad


defgrad(_prims.lstm_cell_grad)(_vjp_of(_lstm_backward_ops))
defgrad(_prims.gru_cell_grad)(_vjp_of(_gru_backward_ops))
