"""Keras SimpleRNN / LSTM / GRU as ONNX's RNN / LSTM / GRU.

- Layout: ONNX runs over (time, batch, features); Keras over (batch, time, features): a Transpose each way.
- Gate order: Keras' LSTM kernel blocks are i, f, c, o; ONNX's are i, o, f, c. Keras' GRU blocks are z, r, h,
  as ONNX's. ONNX weights are (gates * units, in): Keras' (in, gates * units) transposed.
- GRU reset_after=True (Keras' default) applies the reset gate after the recurrent matmul: ONNX's
  linear_before_reset=1, with Keras' input and recurrent biases as ONNX's Wb and Rb. reset_after=False:
  linear_before_reset=0, the one bias as Wb and Rb = 0.
- go_backwards: the input is reversed along time and run forwards, so the outputs come in processing order
  (last step first), as Keras returns them; ONNX's direction='reverse' would return them in time order."""
from __future__ import annotations

import numpy as np

from .._export.graph import ExportError

_ONNX_ACTIVATIONS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}
_LSTM_BLOCKS = (0, 3, 1, 2)  # ONNX's i, o, f, c from Keras' i, f, c, o


def _blocks(matrix, units, order):
    """Columns of a Keras (rows, gates * units) matrix with its gate blocks in `order`."""
    return np.concatenate([matrix[:, g * units:(g + 1) * units] for g in order], axis=1)


def _activations(op, cell):
    names = [op.attrs["activation"]] if cell == "simple" else \
        [op.attrs["recurrent_activation"]] + [op.attrs["activation"]] * (2 if cell == "lstm" else 1)
    missing = [n for n in names if n not in _ONNX_ACTIVATIONS]
    if missing:
        raise ExportError(f"ONNX export: {op.where} uses the activation {missing[0]!r}; exported recurrent layers "
                          f"take {', '.join(_ONNX_ACTIVATIONS)}")
    return [_ONNX_ACTIVATIONS[n] for n in names]


def rnn(b, op, ins, outs):
    cell, units, base = op.attrs["cell"], op.attrs["units"], op.layer
    w, r, bias = op.weights["kernel"], op.weights["recurrent_kernel"], op.weights["bias"]
    gates = {"simple": 1, "lstm": 4, "gru": 3}[cell]
    order = _LSTM_BLOCKS if cell == "lstm" else tuple(range(gates))
    w_onnx = _blocks(w, units, order).T[None]
    r_onnx = _blocks(r, units, order).T[None]
    if cell == "gru" and op.attrs["reset_after"]:
        b_onnx = np.concatenate([bias[0], bias[1]])
    else:
        b_onnx = np.concatenate([_blocks(bias[None], units, order)[0], np.zeros(gates * units, np.float32)])
    x = b.node("Transpose", [ins[0]], base, perm=[1, 0, 2])
    if op.attrs["go_backwards"]:
        x = b.reverse(x, 0, base)
    attrs = {"hidden_size": units, "activations": _activations(op, cell)}
    if cell == "gru":
        attrs["linear_before_reset"] = int(op.attrs["reset_after"])
    op_type = {"simple": "RNN", "lstm": "LSTM", "gru": "GRU"}[cell]
    inputs = [x, b.const(f"{base}/W", w_onnx), b.const(f"{base}/R", r_onnx), b.const(f"{base}/B", b_onnx[None])]
    results = b.node(op_type, inputs, base, outputs=3 if cell == "lstm" else 2, **attrs)
    y, y_h = results[0], results[1]
    if op.attrs["return_sequences"]:  # Y: (time, directions=1, batch, units) → (batch, time, units)
        b.node("Transpose", [b.squeeze(y, [1], base)], base, out_names=[outs[0]], perm=[1, 0, 2])
    else:
        b.squeeze(y_h, [0], base, out=outs[0])
    if op.attrs["return_state"]:  # [output, h] or [output, h, c]: states are (directions=1, batch, units)
        for state, out in zip(results[1:], outs[1:]):
            b.squeeze(state, [0], base, out=out)
