"""gather_nd, scatter_nd and tensor_scatter_nd_{update,add,sub,max,min}: forward vs NumPy loops on
every device (duplicates, empty, k = 0 and k = rank, odd sizes), float64 gradients on cpu, sim/cuda
parity across dtypes, deterministic bits, and out-of-range indices on every device (at once on
cpu and sim; on cuda through the device flag, whose path also runs here on sim)."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.backend.cuda import scatter as cuda_scatter
from tests.harness import check_grad, check_op, check_parity, rand

DTYPES = ["float32", "float16", "bfloat16", "float64", "int32", "int64"]


def indices(shape, dims, seed=0, dtype=np.int32):
    """Random in-range N-d indices (..., len(dims)), duplicates likely."""
    r = np.random.default_rng(seed)
    return np.stack([r.integers(0, d, size=shape) for d in dims], -1).astype(dtype) if dims else \
        np.zeros(tuple(shape) + (0,), dtype)


def ref_gather_nd(p, idx):
    return p[tuple(np.moveaxis(idx.astype(np.int64), -1, 0))] if idx.shape[-1] else \
        np.broadcast_to(p, idx.shape[:-1] + p.shape).copy()


def ref_scatter(t, idx, u, how):
    out = t.copy()
    k = idx.shape[-1]
    lead = int(np.prod(idx.shape[:-1]))
    rows, vals = idx.reshape(lead, k), u.reshape((lead,) + t.shape[k:])
    for r, v in zip(rows, vals):
        key = tuple(r)
        out[key] = {"update": v, "add": out[key] + v, "max": np.maximum(out[key], v),
                    "min": np.minimum(out[key], v), "sub": out[key] - v}[how]
    return out


# params shape, indices leading shape, k
GATHERS = [((5, 4), (3,), 1), ((5, 4), (2, 3), 2), ((3, 4, 5), (7,), 2), ((3, 4), (2,), 0), ((0, 3), (0,), 1),
           ((4, 3), (0,), 2), ((6,), (11,), 1), ((2, 3, 4), (1, 1), 3)]


@pytest.mark.parametrize("pshape,lead,k", GATHERS, ids=str)
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_gather_nd_forward(device, pshape, lead, k, index_dtype):
    idx = indices(lead, pshape[:k], seed=k, dtype=index_dtype)
    check_op(lambda p, i: gf.gather_nd(p, i), [rand(pshape, seed=1), idx], ref_gather_nd, device)


def test_gather_nd_batch_dims(device):
    p, idx = rand((2, 3, 4, 5), seed=2), indices((2, 3, 6), (4,), seed=3)
    ref = np.stack([np.stack([ref_gather_nd(p[a, b], idx[a, b]) for b in range(3)]) for a in range(2)])
    check_op(lambda x: gf.gather_nd(x, idx, batch_dims=2), [p], lambda x: ref, device)
    idx1 = indices((2, 5), (3, 4), seed=4)
    ref1 = np.stack([ref_gather_nd(p[a], idx1[a]) for a in range(2)])
    check_op(lambda x: gf.gather_nd(x, idx1, batch_dims=1), [p], lambda x: ref1, device)
    check_grad(lambda x: gf.gather_nd(x, idx1, batch_dims=1), [rand((2, 3, 4, 2), seed=5)])


def test_gather_nd_grad():
    check_grad(lambda p: gf.gather_nd(p, indices((6,), (3, 4), seed=6)), [rand((3, 4, 2))])


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_nd_parity(device, dtype):
    check_parity(lambda p: gf.gather_nd(p, indices((9,), (5, 7), seed=7)), [rand((5, 7, 3), dtype, seed=8)], device)


# tensor shape, indices leading shape, k
SCATTERS = [((6, 3), (8,), 1), ((4, 5), (9,), 2), ((3, 4, 5), (2, 3), 1), ((5,), (0,), 1), ((0, 2), (0,), 1),
            ((3, 2), (2,), 0), ((7,), (20,), 1), ((300, 3), (1000,), 1)]


@pytest.mark.parametrize("tshape,lead,k", SCATTERS, ids=str)
@pytest.mark.parametrize("how", ["update", "add", "sub", "max", "min"])
def test_tensor_scatter_forward(device, tshape, lead, k, how):
    idx = indices(lead, tshape[:k], seed=k + len(lead))
    u = rand(tuple(lead) + tshape[k:], seed=9)
    fn = getattr(gf, f"tensor_scatter_nd_{how}")
    check_op(lambda t, i, v: fn(t, i, v), [rand(tshape, seed=10), idx, u], lambda t, i, v: ref_scatter(t, i, v, how),
             device)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_scatter_dtypes(device, dtype):
    idx = indices((12,), (5,), seed=11)
    t, u = rand((5, 3), dtype, seed=12), rand((12, 3), dtype, seed=13)
    for how in ("update", "add", "max", "min"):
        fn = getattr(gf, f"tensor_scatter_nd_{how}")
        check_op(lambda a, b: fn(a, idx, b), [t, u], lambda a, b: ref_scatter(a, idx, b, how).astype(a.dtype), device,
                 rtol=2e-2, atol=2e-2)


def test_tensor_scatter_bool_update_and_nan(device):
    t = np.array([True, False, True])
    check_op(lambda a: gf.tensor_scatter_nd_update(a, [[0], [1]], [False, True]), [t],
             lambda a: np.array([False, True, True]), device)
    x = np.array([1.0, np.nan, 3.0], np.float32)
    check_op(lambda a: gf.tensor_scatter_nd_max(a, [[0], [2]], [np.nan, 1.0]), [x],
             lambda a: np.array([np.nan, np.nan, 3.0]), device)


def test_scatter_nd(device):
    idx = indices((10,), (4, 3), seed=14)
    check_op(lambda u: gf.scatter_nd(idx, u, [4, 3, 2]), [rand((10, 2), seed=15)],
             lambda u: ref_scatter(np.zeros((4, 3, 2)), idx, u, "add"), device)
    check_op(lambda u: gf.scatter_nd(idx[:, :1], u, gf.constant([4, 2])), [rand((10, 2), "int32", seed=16)],
             lambda u: ref_scatter(np.zeros((4, 2), np.int64), idx[:, :1], u, "add"), device)


@pytest.mark.parametrize("how", ["update", "add", "sub", "max", "min"])
def test_tensor_scatter_grad_with_duplicates(how):
    idx = np.array([[1], [3], [1], [0], [1]])
    fn = getattr(gf, f"tensor_scatter_nd_{how}")
    # distinct values everywhere, so max/min pick one clear winner
    t = rand((5, 2), seed=17) + np.arange(10).reshape(5, 2) * 0.01
    check_grad(lambda a, b: fn(a, idx, b), [t, rand((5, 2), seed=18)])


def test_scatter_nd_grad():
    check_grad(lambda u: gf.scatter_nd([[0, 1], [1, 1], [0, 1]], u, [2, 3]), [rand((3,))])


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_scatter_parity(device, dtype):
    idx = indices((14,), (6,), seed=19)
    for how in ("update", "add", "max", "min"):
        fn = getattr(gf, f"tensor_scatter_nd_{how}")
        check_parity(lambda a, b: fn(a, idx, b), [rand((6, 4), dtype, seed=20), rand((14, 4), dtype, seed=21)], device)


def test_scatter_is_deterministic_with_op_determinism(device):
    from gpuflow import determinism
    determinism.enable_op_determinism()
    try:
        idx = indices((3000,), (7,), seed=22)
        u = gf.constant(np.random.default_rng(23).standard_normal((3000, 5)).astype(np.float32) * 1e3)
        runs = {gf.tensor_scatter_nd_add(gf.zeros([7, 5]), idx, u).numpy().tobytes() for _ in range(3)}
        assert len(runs) == 1
    finally:
        determinism.disable_op_determinism()


# ---- errors ---------------------------------------------------------------------------------------
def test_out_of_range_indices_raise(device):
    p = gf.constant(rand((3, 4)))
    for bad in ([[3, 0]], [[0, -1]], [[1, 4]]):
        with pytest.raises(gf.errors.InvalidArgumentError, match=r"gather_nd: indices .*out of range for the first 2 "
                                                                 r"dims \[3, 4\]"):
            gf.gather_nd(p, bad).numpy()
        with pytest.raises(gf.errors.InvalidArgumentError, match=r"tensor_scatter_nd_add: indices .*out of range"):
            gf.tensor_scatter_nd_add(p, bad, [1.0]).numpy()
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"scatter_nd: indices .*out of range"):
        gf.scatter_nd([[5]], [1.0], [3]).numpy()


def test_out_of_range_on_sim_names_the_values():
    with gf.device("sim"):
        with pytest.raises(gf.errors.InvalidArgumentError, match=r"gather_nd: indices \[\[3, 0\]\] are out of range"):
            gf.gather_nd(gf.constant(rand((3, 4))), [[1, 1], [3, 0]])


def test_cuda_deferred_index_check_runs_on_sim(monkeypatch):
    """cuda's path: no wait at the op, nothing outside the tensor touched, the error at the next read."""
    monkeypatch.setattr(cuda_scatter, "DEFER_ON_SIM", True)
    with gf.device("sim"):
        p = gf.constant(np.arange(12.0, dtype=np.float32).reshape(3, 4))
        out = gf.gather_nd(p, [[1, 1], [7, 0]])            # no error yet
        later = gf.tensor_scatter_nd_add(p, [[9, 9]], [1.0]) * 2.0
        with pytest.raises(gf.errors.InvalidArgumentError, match=r"gather_nd: indices are out of range for the first "
                                                                 r"2 dims \[3, 4\].*found by a check on the device"):
            later.numpy()
        assert out.numpy().tolist() == [5.0, 0.0]             # the bad index read element 0, inside the tensor
        later.numpy()                                         # reported once


def test_shape_errors():
    t = gf.constant(rand((4, 3)))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"tensor_scatter_nd_update: updates float32\[2\] must "
                                                             r"have shape \[2, 3\]"):
        gf.tensor_scatter_nd_update(t, [[0], [1]], gf.constant(rand((2,))))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"gather_nd: indices \[1, 3\] have 3 coordinates but "
                                                             r"the tensor of shape \[4, 3\] has only 2 dims"):
        gf.gather_nd(t, [[0, 0, 0]])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"gather_nd: needs integer indices input, got float32"):
        gf.gather_nd(t, gf.constant([[0.0]]))
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"gather_nd: indices must have rank >= 1"):
        gf.gather_nd(t, 0)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"gather_nd: batch_dims 1 needs indices"):
        gf.gather_nd(t, [[0], [1]], batch_dims=1)
