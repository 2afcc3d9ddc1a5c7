"""Constraints: their projections against NumPy, names and configs."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import constraints

W = np.array([[3.0, 0.1, -1.0], [4.0, 0.2, 0.0]], np.float32)  # column norms 5, ~0.22, 1


def col_norms(w, axis=0):
    return np.sqrt((w.astype(np.float64) ** 2).sum(axis=axis, keepdims=True))


def test_max_norm(device):
    out = constraints.MaxNorm(2.0)(gf.constant(W)).numpy()
    np.testing.assert_allclose(col_norms(out)[0], [2.0, col_norms(W)[0, 1], 1.0], rtol=1e-5)
    np.testing.assert_allclose(out[:, 1:], W[:, 1:], rtol=1e-5)  # columns under the limit are untouched


def test_max_norm_over_rows():
    out = constraints.MaxNorm(1.0, axis=1)(gf.constant(W)).numpy()
    np.testing.assert_allclose(col_norms(out, 1)[:, 0], [1.0, 1.0], rtol=1e-5)


def test_non_neg(device):
    np.testing.assert_array_equal(constraints.NonNeg()(gf.constant(W)).numpy(), np.maximum(W, 0))


def test_unit_norm():
    out = constraints.UnitNorm()(gf.constant(W)).numpy()
    np.testing.assert_allclose(col_norms(out)[0], [1.0, 1.0, 1.0], rtol=1e-5)


def test_min_max_norm_moves_by_rate():
    out = constraints.MinMaxNorm(min_value=0.5, max_value=2.0, rate=0.5)(gf.constant(W)).numpy()
    norms = col_norms(W)[0]
    expected = 0.5 * np.clip(norms, 0.5, 2.0) + 0.5 * norms
    np.testing.assert_allclose(col_norms(out)[0], expected, rtol=1e-5)


def test_variable_carries_its_constraint():
    c = constraints.get("non_neg")
    v = gf.Variable(W, constraint=c)
    v.assign(v.constraint(v))
    assert (v.numpy() >= 0).all()


@pytest.mark.parametrize("c", [constraints.MaxNorm(3, axis=1), constraints.NonNeg(), constraints.UnitNorm(axis=[0, 1]),
                               constraints.MinMaxNorm(0.1, 2.0, 0.3, 1)])
def test_config_round_trip(c):
    again = constraints.deserialize(constraints.serialize(c))
    assert type(again) is type(c) and again.get_config() == c.get_config()
    with pytest.raises(ValueError, match="unknown constraint"):
        constraints.get("max_nrom")
