"""Fused LSTM/GRU cell math on NumPy (formulas in gpuflow/ops/rnn_prims.py), in float32 for
half/bfloat16 and rounded once, as kernels/rnn.cu does."""
from __future__ import annotations

import numpy as np

from ._registry import impl, narrow, widen


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _lstm_gates(z):
    i, f, g, o = np.split(widen(z), 4, axis=1)
    return _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)


@impl("lstm_cell")
def lstm_cell(z, c_prev):
    i, f, g, o = _lstm_gates(z)
    c = f * widen(c_prev) + i * g
    return narrow(o * np.tanh(c), z.dtype), narrow(c, z.dtype)


@impl("lstm_cell_grad")
def lstm_cell_grad(z, c_prev, c, dh, dc):
    i, f, g, o = _lstm_gates(z)
    tc = np.tanh(widen(c))
    dh = widen(dh)
    dc_total = widen(dc) + dh * o * (1 - tc * tc)
    dz = np.concatenate([dc_total * g * i * (1 - i), dc_total * widen(c_prev) * f * (1 - f),
                         dc_total * i * (1 - g * g), dh * tc * o * (1 - o)], axis=1)
    return narrow(dz, z.dtype), narrow(dc_total * f, z.dtype)


def _gru_gates(zx, zh):
    xz, xr, xh = np.split(widen(zx), 3, axis=1)
    hz, hr, hh = np.split(widen(zh), 3, axis=1)
    z, r = _sigmoid(xz + hz), _sigmoid(xr + hr)
    return z, r, np.tanh(xh + r * hh), hh


@impl("gru_cell")
def gru_cell(zx, zh, h_prev):
    z, _, cand, _ = _gru_gates(zx, zh)
    return narrow(z * widen(h_prev) + (1 - z) * cand, zx.dtype)


@impl("gru_cell_grad")
def gru_cell_grad(zx, zh, h_prev, dh):
    z, r, cand, hh = _gru_gates(zx, zh)
    dh = widen(dh)
    da_z = dh * (widen(h_prev) - cand) * z * (1 - z)
    da_h = dh * (1 - z) * (1 - cand * cand)
    da_r = da_h * hh * r * (1 - r)
    dzx = np.concatenate([da_z, da_r, da_h], axis=1)
    dzh = np.concatenate([da_z, da_r, da_h * r], axis=1)
    return narrow(dzx, zx.dtype), narrow(dzh, zx.dtype), narrow(dh * z, zx.dtype)
