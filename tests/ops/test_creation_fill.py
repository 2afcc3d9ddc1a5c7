"""constant's copy semantics (one copy, never aliasing the caller's array) and fills made on the device:
zeros/ones/fill/*_like and constant(scalar, shape=...) against np.full, the fill kernel on sim bit for bit."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops import creation
from gpuflow.runtime.loader import launched

DTYPES = ["float32", "float16", "bfloat16", "float64", "int8", "int16", "int32", "int64", "uint8", "uint32", "bool"]


def _bits(a: np.ndarray) -> np.ndarray:
    """The raw bytes, so NaN == NaN and -0.0 != 0.0 in comparisons."""
    return np.ascontiguousarray(a).view(np.uint8)


@pytest.mark.parametrize("make", [
    lambda a: gf.constant(a), lambda a: gf.convert_to_tensor(a), lambda a: gf.constant(a, dtype=gf.float64),
    lambda a: gf.constant(a, shape=(3, 2)),
])
def test_constant_never_aliases_the_callers_array(device, make):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = make(a)
    expected = t.numpy().copy()
    a[...] = 99.0  # TF may share a host buffer here; gpuflow promises immutable tensors, so it copies
    np.testing.assert_array_equal(t.numpy(), expected)
    t.numpy()[...] = -1.0  # numpy() is a copy too
    np.testing.assert_array_equal(t.numpy(), expected)


@pytest.mark.parametrize("view", [
    lambda a: a[:, ::2], lambda a: np.asfortranarray(a), lambda a: a.T, lambda a: a[1:, 1:],
    lambda a: a.astype(np.float64), lambda a: a.astype(np.int16), lambda a: a.astype(np.uint16),
])
def test_constant_of_views_and_other_dtypes(device, view):
    a = view(np.arange(20, dtype=np.float32).reshape(4, 5))
    t = gf.constant(a)
    assert t.dtype == gf.as_dtype(gf.dtypes.widened(a.dtype)) and t.shape == a.shape
    np.testing.assert_array_equal(t.numpy(), a)


def test_constant_converts_into_the_asked_dtype_in_one_pass(device):
    a = np.array([[1.5, -2.25], [np.inf, 3.0]])
    for dtype in ("float32", "float16", "bfloat16"):
        np.testing.assert_array_equal(_bits(gf.constant(a, dtype=dtype).numpy()), _bits(a.astype(gf.as_dtype(dtype).np)))
    np.testing.assert_array_equal(gf.constant(np.array([1.0, -4.0]), dtype=gf.int64).numpy(), [1, -4])


def test_owned_arrays_are_kept_without_a_copy_on_cpu():
    with gf.device("cpu"):
        a = np.arange(6, dtype=np.float32)
        t = creation._from_owned_array(a)
        assert np.shares_memory(t._data, a) and t.dtype == gf.float32
        # A dtype that must change (uint16 is stored as int32) or a layout that must change is still converted.
        b = np.arange(6, dtype=np.uint16)
        t = creation._from_owned_array(b)
        assert t.dtype == gf.int32 and not np.shares_memory(t._data, b)
        np.testing.assert_array_equal(t.numpy(), b)
        f = np.asfortranarray(np.arange(6.0, dtype=np.float32).reshape(2, 3))
        t = creation._from_owned_array(f)
        assert t._data.flags.c_contiguous and not np.shares_memory(t._data, f)
        np.testing.assert_array_equal(t.numpy(), f)


def test_owned_arrays_follow_constants_dtype_rules(device):
    assert creation._from_owned_array(np.array([1, 2], np.uint16)).dtype == gf.int32
    t = creation._from_owned_array(np.ones(3, ml_dtypes.bfloat16))
    assert t.dtype == gf.bfloat16 and t.numpy().tolist() == [1, 1, 1]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (1,), (3, 0, 2), (7,), (1001,), (3, 5, 7), (2, 1, 1, 300)])
def test_fills_match_np_full(device, dtype, shape):
    np_dtype = gf.as_dtype(dtype).np
    for value in ((0, 1, True) if dtype == "bool" else (0, 1, -2.5, 3)):
        if gf.as_dtype(dtype).is_integer and value == -2.5:
            continue
        out = gf.fill(list(shape), value, dtype=dtype)
        assert out.dtype == gf.as_dtype(dtype) and out.shape == shape and out.device == str(gf.devices.parse(device))
        np.testing.assert_array_equal(_bits(out.numpy()), _bits(np.full(shape, value, np_dtype)))
    np.testing.assert_array_equal(gf.zeros(shape, dtype=dtype).numpy(), np.zeros(shape, np_dtype))
    np.testing.assert_array_equal(gf.ones(shape, dtype=dtype).numpy(), np.ones(shape, np_dtype))
    np.testing.assert_array_equal(gf.constant(1, shape=shape, dtype=dtype).numpy(), np.ones(shape, np_dtype))


@pytest.mark.parametrize("dtype,value", [
    ("float32", np.nan), ("float32", -np.inf), ("float32", -0.0), ("float32", 1 / 3), ("float16", 1 / 3),
    ("bfloat16", 1 / 3), ("bfloat16", -np.inf), ("float64", np.pi), ("float16", 70000.0),
    ("int64", 2**40 + 1), ("int64", -(2**62) - 3), ("int32", -(2**31)), ("int32", 2**31 - 1),
])
def test_fill_values_exactly(device, dtype, value):
    """The value is rounded once on the host (as NumPy's astype) and its bits written on the device."""
    np_dtype = gf.as_dtype(dtype).np
    with np.errstate(over="ignore"):  # 70000 is inf in float16, with NumPy's overflow warning
        out = gf.fill([3, 37], value, dtype=dtype)
        expected = np.full((3, 37), np.asarray(value).astype(np_dtype), np_dtype)
    np.testing.assert_array_equal(_bits(out.numpy()), _bits(expected))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fill_kernel_sim_parity(dtype):
    """The fill kernel on sim against NumPy (cpu), over sizes around the block and grid-stride boundaries."""
    for n in (1, 255, 256, 257, 1023, 1025, 4 * 256 * 3 + 5):
        value = True if dtype == "bool" else 7
        with gf.device("cpu"):
            ref = gf.fill([n], value, dtype=dtype).numpy()
        with gf.device("sim"):
            out = gf.fill([n], value, dtype=dtype)
        assert out.device == "sim:0"
        np.testing.assert_array_equal(_bits(out.numpy()), _bits(ref))
    assert ("elementwise.cu", f"fill<{gf.as_dtype(dtype).ctype}>") in launched["sim"]  # made by the kernel


def test_like_fills_on_the_inputs_device():
    with gf.device("cpu"):
        x = gf.constant([[1.5, 2.0]])
    with gf.device("sim"):
        for out in (gf.zeros_like(x), gf.ones_like(x, dtype=gf.int32)):
            assert out.device == "cpu:0" and out.shape == (1, 2)
        assert gf.zeros(2).device == "sim:0"
    assert gf.ones_like(np.array([[1, 2, 3]], np.int64)).numpy().tolist() == [[1, 1, 1]]
    assert gf.zeros_like([1.5, 2.5]).dtype == gf.float32


def test_fill_values_and_errors(device):
    f = gf.fill(gf.constant([2, 3]), gf.constant(2.5))
    assert f.dtype == gf.float32 and f.numpy().tolist() == [[2.5] * 3] * 2
    assert gf.fill([2], np.float64(1.5)).dtype == gf.float64
    assert gf.fill([2], 3).dtype == gf.int32 and gf.fill([1], 2**40).dtype == gf.int64
    assert gf.fill([2, 2], [5]).numpy().tolist() == [[5, 5], [5, 5]]  # one element: repeated
    assert gf.zeros(2, dtype=None).dtype == gf.int32 and gf.ones([1], dtype=None).numpy().tolist() == [1]
    assert gf.ones_like(gf.constant([1.5]), dtype=None).dtype == gf.float32
    assert gf.zeros_like(gf.constant([1.5]), dtype="float16").dtype == gf.float16
    # tf.constant(value, shape=...) (what tf.keras's Constant initializer uses) reshapes a value of the right size.
    assert gf.fill([2, 2], [1, 2, 3, 4]).numpy().tolist() == [[1, 2], [3, 4]]
    assert gf.keras.initializers.Constant([1.0, 2.0])((2,)).numpy().tolist() == [1.0, 2.0]
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"constant: a value with 3 elements cannot fill shape \[2, 2\]"):
        gf.fill([2, 2], [1, 2, 3])
    for make, op in ((lambda: gf.zeros([2, -1]), "zeros"), (lambda: gf.ones(-3), "ones"),
                     (lambda: gf.fill([-1], 1.0), "fill"), (lambda: gf.constant(0.0, shape=(-2, 3)), "constant")):
        with pytest.raises(gf.errors.InvalidArgumentError, match=rf"{op}: shape \[.*-.*\] has a negative dimension"):
            make()
    with pytest.raises(gf.errors.InvalidArgumentError, match="fill: 1.5 has fractions but the dtype is int32"):
        gf.fill([2], 1.5, dtype=gf.int32)
    with pytest.raises(gf.errors.InvalidArgumentError, match="constant: 1.5 has fractions but the dtype is int64"):
        gf.constant(1.5, shape=(2,), dtype=gf.int64)
