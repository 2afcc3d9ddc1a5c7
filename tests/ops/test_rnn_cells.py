"""lstm_cell / gru_cell primitives: forward vs NumPy formulas, float64 gradients through the fused
backward primitives and second order through them, sim parity over dtypes, errors."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from gpuflow.ops import rnn_prims
from tests.harness import check_grad, check_op, check_parity, rand

# (batch, units): batch 1, odd, and more units than the simulator's blocks cover in one sweep.
SHAPES = [(1, 1), (3, 5), (2, 7), (9, 130)]


def sig(v):
    return 1 / (1 + np.exp(-v))


def ref_lstm(z, c_prev):
    u = c_prev.shape[1]
    i, f, g, o = sig(z[:, :u]), sig(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), sig(z[:, 3 * u:])
    c = f * c_prev + i * g
    return [o * np.tanh(c), c]


def ref_gru(zx, zh, h_prev):
    u = h_prev.shape[1]
    z = sig(zx[:, :u] + zh[:, :u])
    r = sig(zx[:, u:2 * u] + zh[:, u:2 * u])
    hh = np.tanh(zx[:, 2 * u:] + r * zh[:, 2 * u:])
    return z * h_prev + (1 - z) * hh


def lstm_inputs(n, u, dtype="float32", seed=0):
    return [rand((n, 4 * u), dtype, seed=seed), rand((n, u), dtype, seed=seed + 1)]


def gru_inputs(n, u, dtype="float32", seed=0):
    return [rand((n, 3 * u), dtype, seed=seed), rand((n, 3 * u), dtype, seed=seed + 1),
            rand((n, u), dtype, -1, 1, seed=seed + 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_lstm_cell_forward(device, shape):
    check_op(lambda z, c: list(rnn_prims.lstm_cell(z, c)), lstm_inputs(*shape), ref_lstm, device)


@pytest.mark.parametrize("shape", SHAPES)
def test_gru_cell_forward(device, shape):
    check_op(rnn_prims.gru_cell, gru_inputs(*shape), ref_gru, device)


@pytest.mark.parametrize("shape", [(1, 1), (2, 3)])
def test_lstm_cell_grad_float64(shape):
    # Both outputs carry a cotangent, so dc's path through lstm_cell_grad is checked too.
    check_grad(lambda z, c: list(rnn_prims.lstm_cell(z, c)), lstm_inputs(*shape))


@pytest.mark.parametrize("shape", [(1, 1), (2, 3)])
def test_gru_cell_grad_float64(shape):
    check_grad(rnn_prims.gru_cell, gru_inputs(*shape))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("shape", [(3, 5), (9, 130)])
def test_cells_sim_parity(shape, dtype):
    check_parity(lambda z, c: list(rnn_prims.lstm_cell(z, c)), lstm_inputs(*shape, dtype), "sim")
    check_parity(rnn_prims.gru_cell, gru_inputs(*shape, dtype), "sim")


def test_cells_empty_batch(device):
    h, c = rnn_prims.lstm_cell(gf.zeros((0, 8)), gf.zeros((0, 2)))
    assert h.shape == (0, 2) and c.shape == (0, 2)
    assert rnn_prims.gru_cell(gf.zeros((0, 6)), gf.zeros((0, 6)), gf.zeros((0, 2))).shape == (0, 2)


def test_cell_shape_errors():
    with pytest.raises(InvalidArgumentError, match=r"lstm_cell: .*\[2, 7\].*\[N, 4\*units\].*\[2, 2\]"):
        rnn_prims.lstm_cell(gf.zeros((2, 7)), gf.zeros((2, 2)))
    with pytest.raises(InvalidArgumentError, match=r"gru_cell: zh \[2, 3\] must have the shape of zx \[2, 6\]"):
        rnn_prims.gru_cell(gf.zeros((2, 6)), gf.zeros((2, 3)), gf.zeros((2, 2)))
    with pytest.raises(InvalidArgumentError, match="different dtypes"):
        rnn_prims.lstm_cell(gf.zeros((2, 8)), gf.zeros((2, 2), dtype=gf.float64))


def _first_order(cell, n_inputs):
    """fn(*inputs) -> d(sum(outputs * weights))/d(inputs), taken with an inner tape (so check_grad's
    tape differentiates the fused backward primitive: second order)."""
    def fn(*inputs):
        with gf.GradientTape() as inner:
            inner.watch(list(inputs))
            outs = cell(*inputs)
            outs = outs if isinstance(outs, tuple) else (outs,)
            loss = gf.add_n([gf.reduce_sum(o * (k + 1.5)) for k, o in enumerate(outs)])
        return list(inner.gradient(loss, list(inputs)))[:n_inputs]
    return fn


def test_lstm_cell_second_order_float64():
    check_grad(_first_order(rnn_prims.lstm_cell, 2), lstm_inputs(2, 2))


def test_gru_cell_second_order_float64():
    check_grad(_first_order(rnn_prims.gru_cell, 3), gru_inputs(2, 2))
