"""unsorted_segment_{sum,mean,max,min}, segment_{sum,mean,max,min} and bincount: forward vs NumPy
loops on every device (dropped negative ids, empty segments, N-d ids, empty data), float64
gradients on cpu, sim/cuda parity, and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from tests.harness import check_grad, check_op, check_parity, rand

REDUCE = {"sum": (np.add, 0.0), "max": (np.maximum, -np.inf), "min": (np.minimum, np.inf)}


def ref_unsorted(data, ids, n, how):
    k = ids.ndim
    if how == "mean":
        total, count = ref_unsorted(data, ids, n, "sum"), ref_unsorted(np.ones_like(data), ids, n, "sum")
        return total / np.maximum(count, 1)
    ufunc, empty = REDUCE[how]
    if data.dtype.kind != "f" and how != "sum":
        empty = np.iinfo(data.dtype).min if how == "max" else np.iinfo(data.dtype).max
    out = np.full((n,) + data.shape[k:], empty, data.dtype if data.dtype.kind != "f" else np.float64)
    flat_ids, rows = ids.reshape(-1), data.reshape((-1,) + data.shape[k:])
    for i, row in zip(flat_ids, rows):
        if i >= 0:
            out[i] = ufunc(out[i], row)
    return out


def segment_ids(shape, n, seed=0, negative=True):
    return np.random.default_rng(seed).integers(-1 if negative else 0, n, size=shape).astype(np.int32)


# data shape, ids shape, num_segments
CASES = [((10, 3), (10,), 4), ((7,), (7,), 9), ((4, 5, 2), (4, 5), 3), ((0, 3), (0,), 2), ((6, 2), (6,), 0),
         ((1000, 3), (1000,), 37)]


@pytest.mark.parametrize("data_shape,ids_shape,n", CASES, ids=str)
@pytest.mark.parametrize("how", ["sum", "mean", "max", "min"])
def test_unsorted_segment_forward(device, data_shape, ids_shape, n, how):
    ids = segment_ids(ids_shape, n, seed=n) if n else np.full(ids_shape, -1, np.int32)
    fn = getattr(gf.math, f"unsorted_segment_{how}")
    check_op(lambda d: fn(d, ids, n), [rand(data_shape, seed=1)], lambda d: ref_unsorted(d, ids, n, how), device)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64", "int32", "int64"])
def test_unsorted_segment_dtypes(device, dtype):
    ids = segment_ids((40,), 6, seed=2)
    for how in ("sum", "max", "min"):
        fn = getattr(gf.math, f"unsorted_segment_{how}")
        check_op(lambda d: fn(d, gf.constant(ids, dtype=gf.int64), 6), [rand((40, 2), dtype, seed=3)],
                 lambda d: ref_unsorted(d, ids, 6, how).astype(d.dtype), device, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("how", ["sum", "mean", "max", "min"])
def test_unsorted_segment_grad(how):
    ids = np.array([2, 0, 2, -1, 1, 2])
    fn = getattr(gf.math, f"unsorted_segment_{how}")
    check_grad(lambda d: fn(d, ids, 3), [rand((6, 2), seed=4)])  # every segment non-empty: no infinities


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_unsorted_segment_parity(device, dtype):
    ids = segment_ids((30,), 5, seed=5)
    for how in ("sum", "mean", "max", "min"):
        fn = getattr(gf.math, f"unsorted_segment_{how}")
        check_parity(lambda d: fn(d, ids, 5), [rand((30, 3), dtype, seed=6)], device)


def ref_sorted(data, ids, how):
    n = int(ids.max()) + 1 if ids.size else 0
    out = ref_unsorted(data, ids, n, how)
    if how in ("max", "min"):
        counts = np.bincount(ids, minlength=n)[:n].reshape((-1,) + (1,) * (data.ndim - 1))
        out = np.where(counts > 0, out, 0)
    return out


@pytest.mark.parametrize("how", ["sum", "mean", "max", "min"])
def test_sorted_segments(device, how):
    ids = np.array([0, 0, 2, 2, 2, 5], np.int32)  # segments 1, 3 and 4 are empty
    fn = getattr(gf.math, f"segment_{how}")
    check_op(lambda d: fn(d, ids), [rand((6, 3), seed=7)], lambda d: ref_sorted(d, ids, how), device)
    check_op(lambda d: fn(d, np.zeros(0, np.int32)), [rand((0, 2), seed=8)], lambda d: np.zeros((0, 2)), device)
    check_grad(lambda d: fn(d, ids), [rand((6, 3), seed=9)])


def test_segment_errors():
    d = gf.constant(rand((4, 2)))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"segment_sum: segment_ids must be sorted and "
                                                             r"non-negative.*unsorted_segment_sum"):
        gf.math.segment_sum(d, [0, 2, 1, 3])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"segment_max: segment_ids must be sorted"):
        gf.math.segment_max(d, [-1, 0, 0, 1])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"unsorted_segment_sum: ids \[4\] are out of range: "
                                                             r"they must lie in \[0, 4\) \(negative ids are dropped\)"):
        gf.math.unsorted_segment_sum(d, [0, 4, 1, 1], 4).numpy()
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"unsorted_segment_min: segment_ids \[3\] must be a "
                                                             r"prefix of data's shape float32\[4, 2\]"):
        gf.math.unsorted_segment_min(d, [0, 1, 2], 3)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"unsorted_segment_mean: needs a floating-point input"):
        gf.math.unsorted_segment_mean(gf.constant([1, 2]), [0, 1], 2)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"num_segments must be >= 0"):
        gf.math.unsorted_segment_sum(d, [0, 1, 2, 3], -1)


# ---- bincount ------------------------------------------------------------------------------------
def test_bincount(device):
    arr = np.random.default_rng(10).integers(0, 9, size=50).astype(np.int32)
    w = rand((50,), seed=11)
    check_op(lambda a: gf.math.bincount(a), [arr], np.bincount, device, dtype="int32")
    check_op(lambda a, v: gf.math.bincount(a, weights=v), [arr, w], lambda a, v: np.bincount(a, v), device)
    check_op(lambda a: gf.math.bincount(a, minlength=12, dtype=gf.float32), [arr],
             lambda a: np.bincount(a, minlength=12).astype(np.float32), device)
    check_op(lambda a: gf.math.bincount(a, maxlength=4), [arr], lambda a: np.bincount(a)[:4], device)
    check_op(lambda a: gf.math.bincount(a, binary_output=True), [arr], lambda a: (np.bincount(a) > 0).astype(np.int32),
             device)
    check_op(lambda a: gf.math.bincount(a), [np.zeros(0, np.int32)], lambda a: np.zeros(0, np.int32), device)
    rows = arr[:48].reshape(4, 12)
    check_op(lambda a: gf.math.bincount(a, axis=-1), [rows],
             lambda a: np.stack([np.bincount(r, minlength=int(a.max()) + 1) for r in a]), device)


def test_bincount_grad_and_errors():
    check_grad(lambda v: gf.math.bincount(gf.constant([1, 3, 1, 0]), weights=v), [rand((4,), seed=12)])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"bincount: arr must be non-negative, found -2"):
        gf.math.bincount(gf.constant([1, -2]))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"bincount: needs an integer input, got float32"):
        gf.math.bincount(gf.constant([1.0]))
    with pytest.raises(gf.errors.InvalidArgumentError, match="binary_output and weights"):
        gf.math.bincount(gf.constant([1]), weights=[1.0], binary_output=True)
