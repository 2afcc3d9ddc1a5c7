"""Making tensors: dtype inference like TF, fills, ranges, eye, and copies between devices."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import gpuflow as gf
from tests.harness import check_grad, rand


@pytest.mark.parametrize("value,dtype", [
    (1.5, gf.float32), (3, gf.int32), ([1, 2], gf.int32), ([[1.0, 2], [3, 4]], gf.float32), (True, gf.bool),
    (2**40, gf.int64), (np.float64(1.0), gf.float64), (np.arange(3, dtype=np.int16).astype(np.int64), gf.int64),
    (np.ones(2, np.float16), gf.float16), (np.ones(2, ml_dtypes.bfloat16), gf.bfloat16), ([], gf.float32),
])
def test_constant_dtype_inference(device, value, dtype):
    t = gf.constant(value)
    assert t.dtype == dtype and t.device == str(gf.devices.parse(device))
    np.testing.assert_array_equal(t.numpy().astype(np.float64), np.asarray(value, np.float64))


def test_constant_from_tensors_and_shapes(device):
    a = gf.constant(np.array([1.0, 2.0]))
    packed = gf.constant([a, a * 2.0])
    assert packed.dtype == gf.float64 and packed.numpy().tolist() == [[1, 2], [2, 4]]
    assert gf.constant(7, shape=(2, 3)).numpy().tolist() == [[7] * 3] * 2
    assert gf.constant([1, 2, 3, 4], shape=[2, 2], dtype=gf.float16).dtype == gf.float16
    assert gf.convert_to_tensor([1, 2], dtype_hint=gf.float32).dtype == gf.float32
    assert gf.convert_to_tensor([1.5], dtype_hint=gf.int32).dtype == gf.float32  # a hint never truncates


def test_constant_errors():
    with pytest.raises(gf.errors.InvalidArgumentError, match="constant: .*has fractions but the dtype is int32"):
        gf.constant([1.5], dtype=gf.int32)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"constant: a value with 3 elements cannot fill shape \[2, 2\]"):
        gf.constant([1, 2, 3], shape=(2, 2))
    with pytest.raises(gf.errors.InvalidArgumentError, match="convert_to_tensor: the tensor is float32, int32 was asked"):
        gf.convert_to_tensor(gf.constant([1.0]), dtype=gf.int32)


def test_fills(device):
    assert gf.zeros([2, 3]).numpy().tolist() == [[0.0] * 3] * 2 and gf.zeros(3).dtype == gf.float32
    assert gf.ones((2,), dtype=gf.int64).numpy().tolist() == [1, 1]
    f = gf.fill(gf.constant([2, 2]), 1.5)
    assert f.dtype == gf.float32 and f.numpy().tolist() == [[1.5, 1.5]] * 2
    x = gf.constant(rand((2, 0, 3), "bfloat16"))
    for like, value in ((gf.zeros_like(x), 0), (gf.ones_like(x, dtype=gf.int32), 1)):
        assert like.shape == x.shape and like.device == x.device and np.all(like.numpy() == value)
    assert gf.ones_like(gf.constant([[3, 4]])).numpy().tolist() == [[1, 1]]


@pytest.mark.parametrize("args,kwargs,expected", [
    ((5,), {}, np.arange(5, dtype=np.int32)), ((2, 9, 3), {}, np.arange(2, 9, 3, dtype=np.int32)),
    ((1.0, 2.0, 0.25), {}, np.arange(1.0, 2.0, 0.25, dtype=np.float32)), ((5, 0, -2), {}, np.array([5, 3, 1], np.int32)),
    ((3,), {"dtype": gf.float64}, np.arange(3.0)), ((4, 2), {}, np.zeros((0,), np.int32)),
])
def test_range(device, args, kwargs, expected):
    out = gf.range(*args, **kwargs)
    assert out.dtype == gf.as_dtype(expected.dtype)
    np.testing.assert_array_equal(out.numpy(), expected)


def test_range_of_tensors_and_error():
    assert gf.range(gf.constant(4)).dtype == gf.int32
    with pytest.raises(gf.errors.InvalidArgumentError, match="range: delta must not be 0"):
        gf.range(0, 3, 0)


def test_eye(device):
    np.testing.assert_array_equal(gf.eye(3).numpy(), np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(gf.eye(2, 4, dtype=gf.int32).numpy(), np.eye(2, 4, dtype=np.int32))
    assert gf.eye(2, batch_shape=[3]).shape == (3, 2, 2)


@pytest.mark.parametrize("dtype", [d.name for d in gf.dtypes.ALL])
def test_copy_between_devices(dtype):
    value = rand((3, 5), dtype, seed=3)
    with gf.device("cpu"):
        x = gf.constant(value)
    on_sim = x.to("sim")
    assert on_sim.device == "sim:0" and on_sim.dtype == x.dtype
    with gf.device("sim"):
        moved = gf.identity(x)
        assert gf.identity(moved) is moved  # already there: no copy
    back = moved.to("cpu")
    for t in (on_sim, moved, back):
        np.testing.assert_array_equal(t.numpy(), value)


def test_identity_without_a_scope_stays():
    with gf.device("sim"):
        x = gf.constant([1.0, 2.0])
    assert gf.identity(x).device == "sim:0"


def test_copy_gradient_moves_back():
    with gf.device("cpu"):
        x = gf.constant([1.0, 2.0, 3.0])
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = gf.reduce_sum(gf.copy_to(x, "sim") * gf.copy_to(x, "sim"))
    g = tape.gradient(y, x)
    assert g.device == "cpu:0"
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0, 6.0])
    check_grad(lambda t: gf.copy_to(gf.tile(gf.copy_to(t, "sim"), [2, 1]), "cpu"), [rand((2, 2))])


def test_mixing_devices_names_both():
    with gf.device("cpu"):
        a = gf.constant([1.0, 2.0])
    with gf.device("sim"):
        b = gf.constant([3.0, 4.0])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"concat: inputs are on different devices "
                                                            r"\(float32\[2\] on cpu:0, float32\[2\] on sim:0\)"):
        gf.concat([a, b], 0)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"matmul: .*on cpu:0.*on sim:0.*t\.to"):
        gf.matmul(gf.reshape(a, [1, 2]), gf.reshape(b, [2, 1]))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"gather: .*cpu:0.*sim:0"):
        gf.gather(a, b[:1] > 0)
