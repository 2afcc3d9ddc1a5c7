"""sim's device memory: host blocks under the caching allocator, handed out as NumPy views (gpuflow/runtime/sim)."""
import gc

import ml_dtypes
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import ResourceExhaustedError
from gpuflow.runtime.sim.memory import ALIGN, SimPool
from gpuflow.runtime.sim.xp import SimArrays


@pytest.fixture
def xp():
    return SimArrays(SimPool())


def test_arrays_are_aligned_blocks_that_return_to_the_pool(xp):
    a = xp.empty((3, 5), np.float32)
    assert a.shape == (3, 5) and a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable
    assert a.ctypes.data % ALIGN == 0
    pool = xp.pool.allocator
    assert pool.allocated == 512 and pool.reserved == 512
    ptr = a.ctypes.data
    del a
    assert pool.allocated == 0 and pool.reserved == 512
    assert xp.empty(100, np.int32).ctypes.data == ptr  # the cached block, no new one


def test_a_view_keeps_its_block_from_reuse(xp):
    a = xp.zeros((4, 4), np.float32)
    view = np.swapaxes(a.reshape(2, 8), 0, 1)[::2]  # views of views: NumPy collapses their bases
    a[...] = 7
    del a
    gc.collect()
    b = xp.empty((4, 4), np.float32)
    b[...] = -1
    assert (view == 7).all() and xp.pool.allocator.allocated == 1024
    del view, b
    assert xp.pool.allocator.allocated == 0


def test_dtypes_shapes_and_copies(xp):
    assert xp.empty((), np.float64).shape == () and xp.empty((0, 3), np.int8).size == 0
    bf = xp.array(np.array([1.5, -2.0], np.float32), ml_dtypes.bfloat16)
    assert bf.dtype == ml_dtypes.bfloat16 and bf.tolist() == [1.5, -2.0]
    host = np.arange(12, dtype=np.int64).reshape(3, 4)
    copied = xp.copy(host)
    assert copied.base is not None and not np.shares_memory(copied, host) and (copied == host).all()
    strided = host[:, ::2]
    dense = xp.ascontiguousarray(strided)
    assert dense.flags.c_contiguous and (dense == strided).all() and not np.shares_memory(dense, host)
    assert xp.ascontiguousarray(copied) is copied
    assert xp.ascontiguousarray(xp.array(np.float32(3))).shape == (1,)  # NumPy's rule: 0-d becomes 1-d
    assert xp.zeros((2, 2), np.float32).tolist() == [[0, 0], [0, 0]]
    assert xp.empty_like(host).shape == (3, 4)
    assert xp.asarray(copied) is copied


def test_matmul_and_the_helpers_agree_with_numpy(xp):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    np.testing.assert_array_equal(xp.matmul(a, b), np.matmul(a, b))
    np.testing.assert_array_equal(xp.matmul(np.swapaxes(b, 0, 1), b), b.T @ b)
    np.testing.assert_array_equal(xp.matmul(a[0, 0], b), a[0, 0] @ b)
    with pytest.raises(ValueError):
        xp.matmul(a, a)
    keys = np.array([5, 1, 4, 1], np.int64)
    assert xp.sort(keys).tolist() == [1, 1, 4, 5] and keys.tolist() == [5, 1, 4, 1]
    assert xp.searchsorted(np.array([1, 3, 5]), np.array([0, 3, 6])).tolist() == [0, 1, 3]
    assert xp.arange(4, dtype=np.int64).tolist() == [0, 1, 2, 3]


def test_numpy_calls_it_does_not_know_fail_loudly(xp):
    with pytest.raises(AttributeError):
        xp.concatenate  # noqa: B018 - would allocate outside the pool


def test_a_full_device_gives_back_its_cache_then_says_out_of_memory(monkeypatch):
    monkeypatch.setenv("GPUFLOW_SIM_MEMORY_BYTES", str(4 << 20))
    xp = SimArrays(SimPool())
    held = xp.empty(2 << 20, np.uint8)
    cached = xp.empty(1 << 20, np.uint8)
    del cached
    bigger = xp.empty((2 << 20) - 1, np.uint8)  # only fits once the cached MiB is given back
    assert xp.pool.allocator.num_alloc_retries == 1
    with pytest.raises(ResourceExhaustedError, match="out of GPU memory"):
        xp.empty(1 << 20, np.uint8)
    del held, bigger


def test_gf_memory_reports_on_sim():
    with gf.device("sim"):
        x = gf.zeros([1000, 1000])
        base = gf.memory.allocated()
        assert base >= 4_000_000 and gf.memory.reserved() >= base
        y = gf.reshape(x, [-1])  # a view: no new block
        assert gf.memory.allocated() == base
        del x, y
        assert gf.memory.allocated() == base - (4 << 20)
        assert "allocated (live tensors)" in gf.memory.summary("sim")
