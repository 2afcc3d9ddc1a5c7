"""Regularizers: penalty values, names and configs."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import regularizers

W = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)


@pytest.mark.parametrize("reg,expected", [
    (regularizers.L1(0.1), 0.1 * 6.5), (regularizers.L2(0.01), 0.01 * 14.25),
    (regularizers.L1L2(0.1, 0.01), 0.1 * 6.5 + 0.01 * 14.25), (regularizers.L1L2(), 0.0)])
def test_penalties(device, reg, expected):
    penalty = reg(gf.constant(W))
    assert penalty.shape == () and penalty.device == gf.devices.parse(device).__str__()
    assert float(penalty) == pytest.approx(expected, rel=1e-6)


def test_names_and_defaults():
    assert regularizers.get("l2").l2 == 0.01 and regularizers.get("l1").l1 == 0.01
    assert isinstance(regularizers.get("l1_l2"), regularizers.L1L2) and regularizers.l1_l2 is regularizers.L1L2
    with pytest.raises(ValueError, match="unknown regularizer"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        regularizers.L2(-1)


@pytest.mark.parametrize("reg", [regularizers.L1(0.3), regularizers.L2(0.2), regularizers.L1L2(0.1, 0.4)])
def test_config_round_trip(reg):
    again = regularizers.deserialize(regularizers.serialize(reg))
    assert type(again) is type(reg) and again.get_config() == reg.get_config()
    assert float(again(gf.constant(W))) == float(reg(gf.constant(W)))


def test_penalty_gradient():
    w64 = W.astype(np.float64)
    w = gf.Variable(w64)
    with gf.GradientTape() as tape:
        loss = regularizers.L1L2(0.1, 0.01)(w)
    np.testing.assert_allclose(tape.gradient(loss, w).numpy(), 0.1 * np.sign(w64) + 0.02 * w64, rtol=1e-12)
