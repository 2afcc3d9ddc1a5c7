"""LSTM/GRU cell math on cuda/sim: one launch of kernels/rnn.cu each (see its contract)."""
from __future__ import annotations

import numpy as np

from ._registry import impl
from .movement import BLOCK
from .storage import ctype, dtype_of

FILE = "rnn.cu"


def _launch(backend, name, inputs, out_shapes):
    xp = backend.xp
    like = inputs[0]
    outs = tuple(backend.empty(s, dtype_of(like)) for s in out_shapes)
    batch, units = out_shapes[-1]  # the state-shaped output comes last
    n = batch * units
    if n:
        backend.kernel(FILE, f"{name}<{ctype(like)}>")(
            (backend.grid_for(n, BLOCK),), (BLOCK,),
            tuple(xp.ascontiguousarray(a) for a in inputs) + outs + (np.int64(n), np.int64(units)))
    return outs


@impl("lstm_cell")
def lstm_cell(backend, z, c_prev):
    return _launch(backend, "lstm_cell_fwd", (z, c_prev), (c_prev.shape, c_prev.shape))


@impl("lstm_cell_grad")
def lstm_cell_grad(backend, z, c_prev, c, dh, dc):
    return _launch(backend, "lstm_cell_bwd", (z, c_prev, c, dh, dc), (z.shape, c_prev.shape))


@impl("gru_cell")
def gru_cell(backend, zx, zh, h_prev):
    return _launch(backend, "gru_cell_fwd", (zx, zh, h_prev), (h_prev.shape,))[0]


@impl("gru_cell_grad")
def gru_cell_grad(backend, zx, zh, h_prev, dh):
    return _launch(backend, "gru_cell_bwd", (zx, zh, h_prev, dh), (zx.shape, zx.shape, h_prev.shape))
