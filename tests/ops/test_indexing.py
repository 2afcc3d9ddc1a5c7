"""`t[...]`, gather, scatter_add, boolean_mask and one_hot: forward vs NumPy on every device,
float64 gradients on cpu, sim/cuda parity, and the out-of-range errors."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops import movement as prims
from tests.harness import check_grad, check_op, check_parity, rand

PARITY_DTYPES = ["float32", "float16", "bfloat16", "int32", "int64", "uint8", "int16"]

KEYS = [
    2, -1, (1, -2), slice(1, 4), slice(None, None, 2), slice(None, None, -1), slice(4, 0, -2), slice(-2, None),
    (Ellipsis, 1), (None, 2), (slice(None), None, 0), (Ellipsis, None), (1, Ellipsis, slice(None, None, -3)),
    (slice(2, 2), 0), (slice(10, 20),), (slice(None), slice(None), slice(None)), (),
]


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_getitem_basic(device, key):
    check_op(lambda t: t[key], [rand((5, 4, 6))], lambda a: a[key], device)


@pytest.mark.parametrize("key", [(slice(None, None, -2), 1), (None, slice(1, 3), Ellipsis, -1), 0], ids=repr)
def test_getitem_grad(key):
    check_grad(lambda t: t[key], [rand((4, 3, 2))])


@pytest.mark.parametrize("dtype", PARITY_DTYPES)
def test_getitem_parity(device, dtype):
    check_parity(lambda t: t[1:, None, ::-2, -1], [rand((4, 7, 3), dtype, seed=1)], device)


def test_getitem_with_tensor_scalar_and_errors(device):
    x = gf.constant(rand((3, 4)))
    assert np.array_equal(x[gf.constant(2)].numpy(), x.numpy()[2])
    with pytest.raises(IndexError, match=r"index 3 is out of bounds for axis 0 with size 3 \(tensor shape \[3, 4\]\)"):
        x[3]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="only have one ellipsis"):
        x[..., 0, ...]


def test_getitem_integer_and_bool_index(device):
    x = rand((5, 3))
    check_op(lambda t: t[[4, 0, 4]], [x], lambda a: a[[4, 0, 4]], device)
    check_op(lambda t: t[gf.constant(np.array([[1, 2], [0, 0]], np.int64))], [x], lambda a: a[[[1, 2], [0, 0]]], device)
    mask = np.array([True, False, True, True, False])
    check_op(lambda t: t[mask], [x], lambda a: a[mask], device)
    check_op(lambda t: t[gf.constant(x) > 0.0], [x], lambda a: a[a > 0], device)
    check_op(lambda t: gf.boolean_mask(t, mask[:3], axis=1), [x], lambda a: a[:, mask[:3]], device)


def test_boolean_mask_grad_and_error():
    mask = np.array([[True, False], [True, True], [False, False]])
    check_grad(lambda t: gf.boolean_mask(t, mask), [rand((3, 2, 2))])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"boolean_mask: mask shape \[2\] must match"):
        gf.boolean_mask(gf.constant(rand((3, 2))), np.array([True, False]))


# ---- gather / scatter_add ------------------------------------------------------------------
GATHERS = [  # params shape, indices, axis
    ((5, 3), [4, 0, 4, 1], 0), ((3, 6), [[5, 0], [5, 5]], 1), ((2, 3, 4), [3, 3, 0], -1), ((4,), 2, 0),
    ((4, 2), np.zeros((0,), np.int64), 0), ((0, 3), [1, 2], 1), ((7, 1), [0, 6, 6, 0, 3], 0),
    ((7000, 10), np.arange(7000)[::-1].copy(), 0),
]


@pytest.mark.parametrize("shape,indices,axis", GATHERS)
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_gather_forward(device, shape, indices, axis, index_dtype):
    idx = np.asarray(indices).astype(index_dtype)
    check_op(lambda p, i: gf.gather(p, i, axis=axis), [rand(shape, seed=2), idx],
             lambda p, i: np.take(p, i, axis=axis), device)


@pytest.mark.parametrize("shape,indices,axis", GATHERS[:4] + GATHERS[6:7])
def test_gather_grad(shape, indices, axis):
    idx = np.asarray(indices, np.int32)
    check_grad(lambda p: gf.gather(p, idx, axis=axis), [rand(shape)])


@pytest.mark.parametrize("dtype", PARITY_DTYPES)
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_gather_parity(device, dtype, axis):
    """Repeated indices: the backward is a scatter_add that must sum them, in a fixed order."""
    idx = np.array([[2, 0, 2], [2, 1, 0]], np.int64)
    check_parity(lambda p, i: gf.gather(p, i, axis=axis), [rand((3, 4, 3), dtype, seed=3), idx], device)


def _batched_gather_ref(p, i, axis, b):
    """tf.gather with batch_dims, one batch at a time."""
    batch = p.shape[:b]
    out = [np.take(p[k], i[k], axis=axis - b) for k in np.ndindex(*batch)]
    return np.stack(out).reshape(batch + out[0].shape) if out else np.zeros(batch + (0,))


@pytest.mark.parametrize("p_shape,i_shape,axis,b", [((2, 5), (2, 3), 1, 1), ((2, 3, 4, 5), (2, 3, 6), 3, 2),
                                                   ((3, 4, 2), (3, 2, 2), 1, 1), ((2, 4, 3), (2, 5), 2, 1),
                                                   ((2, 3, 4), (2, 3, 2), None, -1)])
def test_gather_batch_dims(device, p_shape, i_shape, axis, b):
    b_pos = b % len(i_shape)  # a negative batch_dims counts from the indices' rank
    ax = b_pos if axis is None else axis  # tf's default axis is batch_dims
    idx = np.random.default_rng(0).integers(0, p_shape[ax], size=i_shape).astype(np.int32)
    check_op(lambda p, i: gf.gather(p, i, axis=axis, batch_dims=b), [rand(p_shape), idx],
             lambda p, i: _batched_gather_ref(p, i, ax, b_pos), device)
    if device == "cpu":
        check_grad(lambda p, i: gf.gather(p, i, axis=axis, batch_dims=b), [rand(p_shape), idx])


def test_gather_batch_dims_errors():
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"gather: batch_dims 1 .* params \[2, 5\] and indices \[3, 2\]"):
        gf.gather(gf.constant(rand((2, 5))), np.zeros((3, 2), np.int32), axis=1, batch_dims=1)


def _scatter_ref(updates, indices, axis, dim_size):
    out = np.zeros(updates.shape[:axis] + (dim_size,) + updates.shape[axis + indices.ndim:])
    flat = updates.reshape(updates.shape[:axis] + (-1,) + updates.shape[axis + indices.ndim:])
    for j, d in enumerate(indices.reshape(-1)):
        out[(slice(None),) * axis + (d,)] += flat[(slice(None),) * axis + (j,)]
    return out


SCATTERS = [((4, 3), [1, 1, 0, 1], 0, 5), ((2, 2, 2, 3), [[2, 0], [2, 2]], 1, 3), ((3, 0), np.zeros((0,), np.int64), 1, 4),
            ((5000, 3), np.arange(5000) % 7, 0, 9), ((2, 3), [0, 0, 0], 1, 1)]


@pytest.mark.parametrize("shape,indices,axis,dim", SCATTERS)
@pytest.mark.parametrize("dtype", ["float32", "float16", "int32"])
def test_scatter_add_forward(device, shape, indices, axis, dim, dtype):
    idx = np.asarray(indices, np.int64)
    check_op(lambda u, i: prims.scatter_add(u, i, axis=axis, dim_size=dim), [rand(shape, dtype, seed=4), idx],
             lambda u, i: _scatter_ref(u, i, axis, dim).astype(u.dtype), device)
    # (accuracy against float64, with a bound from eps and the number of colliding updates: test_precision.py)


def test_scatter_add_grad():
    idx = np.array([[2, 0], [2, 2]], np.int32)
    check_grad(lambda u, i: prims.scatter_add(u, i, axis=1, dim_size=4), [rand((2, 2, 2, 3)), idx])


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int64"])
def test_scatter_add_parity(device, dtype):
    idx = np.array([3, 0, 3, 3, 1, 0], np.int32)
    check_parity(lambda u, i: prims.scatter_add(u, i, axis=1, dim_size=5), [rand((3, 6, 2), dtype, seed=5), idx],
                 device)


def test_scatter_add_is_deterministic(device):
    """Many float32 updates onto few rows: the same bits every call (no atomics)."""
    u = gf.constant(rand((20000,), seed=6))
    i = gf.constant(np.arange(20000) % 3)
    first = prims.scatter_add(u, i, axis=0, dim_size=3).numpy()
    assert all(np.array_equal(first, prims.scatter_add(u, i, axis=0, dim_size=3).numpy()) for _ in range(3))
    np.testing.assert_allclose(first, [u.numpy()[k::3].astype(np.float64).sum() for k in range(3)], rtol=1e-4)


@pytest.mark.parametrize("bad", [[0, 5], [-1, 2]])
def test_gather_out_of_range(device, bad):
    x = gf.constant(rand((5, 3)))
    msg = rf"gather: indices \[{bad[1] if bad[1] == 5 else bad[0]}\] are out of range \[0, 5\) for axis 0 of shape \[5, 3\]"
    with pytest.raises(gf.errors.InvalidArgumentError, match=msg):
        gf.gather(x, bad)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"scatter_add: indices .* out of range \[0, 2\)"):
        prims.scatter_add(x, gf.constant(np.array([0, 1, 2, 1, 0])), axis=0, dim_size=2)


def test_gather_errors():
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"gather: needs integer indices input, got float32\[2\]"):
        gf.gather(gf.constant(rand((3,))), gf.constant([0.0, 1.0]))
    with pytest.raises(gf.errors.InvalidArgumentError, match="gather: axis 2 is out of range for a tensor of rank 2"):
        gf.gather(gf.constant(rand((3, 2))), [0], axis=2)


# ---- one_hot ------------------------------------------------------------------------------------------
def _one_hot_ref(indices, depth, on, off, axis):
    hit = np.expand_dims(indices, axis) == np.arange(depth).reshape([-1 if k == axis % (indices.ndim + 1) else 1
                                                                     for k in range(indices.ndim + 1)])
    return np.where(hit, on, off)


@pytest.mark.parametrize("indices,depth,axis", [([0, 2, 1, -1, 3], 3, -1), ([[1, 0], [2, 2]], 4, 0),
                                                ([[1, 0, 1]], 2, 1), (np.zeros((0, 2), np.int64), 3, -1),
                                                (np.arange(70000) % 5, 5, 0)])
@pytest.mark.parametrize("dtype,on,off", [("float32", None, None), ("float16", 2.5, -1.0), ("bfloat16", 1.0, 0.25),
                                          ("int32", 7, 3), ("int64", 1, 0)])
def test_one_hot(device, indices, depth, axis, dtype, on, off):
    idx = np.asarray(indices, np.int32)
    ref_on, ref_off = (1 if on is None else on), (0 if off is None else off)
    out = check_op(lambda i: gf.one_hot(i, depth, on_value=on, off_value=off, axis=axis, dtype=dtype), [idx],
                   lambda i: _one_hot_ref(i, depth, ref_on, ref_off, axis).astype(gf.as_dtype(dtype).np), device)
    assert out.dtype == gf.as_dtype(dtype)


def test_one_hot_dtype_follows_values(device):
    assert gf.one_hot([1], 2, on_value=5).dtype == gf.int32
    assert gf.one_hot([1], 2, off_value=np.float16(0.5)).dtype == gf.float16
    assert gf.one_hot([1], 2, on_value=gf.constant(2.0, dtype=gf.float64)).numpy().tolist() == [[0.0, 2.0]]
    assert gf.one_hot([1], 2).dtype == gf.float32


def test_one_hot_errors():
    with pytest.raises(gf.errors.InvalidArgumentError, match="one_hot: needs integer indices"):
        gf.one_hot(gf.constant([0.5]), 3)
    with pytest.raises(gf.errors.InvalidArgumentError, match="one_hot: depth must be >= 0, got -2"):
        gf.one_hot(gf.constant([0]), -2)
