"""The runtime counters count what the runtime does: kernel launches, allocator calls and host<->device copies,
on cpu and sim (cuda's hooks are the same calls: the loader, the allocator, from_numpy/to_numpy)."""
import numpy as np
import pytest

import gpuflow as gf
from fake_device_memory import make
from gpuflow.runtime import counters
from gpuflow.runtime.counters import FIELDS

SAXPY = r'''
#include "common.cuh"
extern "C" __global__ void saxpy(float a, const float* x, float* y, long long n) {
    GF_GRID_STRIDE_LOOP(i, n) y[i] = a * x[i] + y[i];
}'''


def test_runtime_counters_is_a_snapshot_dict_of_ints():
    before = gf.experimental.runtime_counters()
    assert set(before) == set(FIELDS) and all(type(v) is int for v in before.values())
    with gf.device("cpu"):
        gf.add(gf.constant([1.0]), gf.constant([2.0]))
    after = gf.experimental.runtime_counters()
    assert after["launches"] == before["launches"] + 1
    before["launches"] = -1  # a copy: changing it changes nothing
    assert gf.experimental.runtime_counters()["launches"] == after["launches"]


def test_measure_is_live_inside_the_block_and_frozen_after():
    with gf.device("cpu"):
        x = gf.constant([1.0, 2.0])
        with counters.measure() as m:
            gf.exp(x)
            assert m.delta["launches"] == 1
            gf.exp(x)
        gf.exp(x)
    assert m.delta == dict.fromkeys(FIELDS, 0) | {"launches": 2}


def test_reset_zeroes_every_count():
    saved = counters.snapshot()
    try:
        counters.reset()
        assert counters.snapshot() == dict.fromkeys(FIELDS, 0)
    finally:
        for name, value in saved.items():
            setattr(counters.COUNTERS, name, value)


def test_cpu_counts_primitives_and_no_copies():
    with gf.device("cpu"):
        x = gf.constant(np.ones((4, 3), np.float32))
        with counters.measure() as m:
            y = gf.nn.relu(gf.matmul(x, x, transpose_b=True))
            y.numpy()
    assert m.delta == dict.fromkeys(FIELDS, 0) | {"launches": 2}  # the host is the device: no copies, no pool


def test_sim_counts_uploads_reads_and_their_bytes():
    with gf.device("sim"):
        with counters.measure() as up:
            x = gf.constant(np.ones((4, 3), np.float32))
        with counters.measure() as down:
            x.numpy()
    assert (up.delta["h2d"], up.delta["h2d_bytes"], up.delta["d2h"]) == (1, 48, 0)
    assert (down.delta["d2h"], down.delta["d2h_bytes"], down.delta["h2d"]) == (1, 48, 0)


def test_sim_counts_each_kernel_and_each_gemm_as_one_launch():
    with gf.device("sim"):
        a = gf.constant(np.ones((4, 3), np.float32))
        gf.exp(a), gf.matmul(a, a, transpose_b=True)  # compiled and warmed outside the count
        with counters.measure() as kernel:
            gf.exp(a)
        with counters.measure() as gemm:
            gf.matmul(a, a, transpose_b=True)  # float32: cuBLAS (NumPy here), no kernel of ours
    assert kernel.delta["launches"] == 1 and gemm.delta["launches"] == 1
    assert kernel.delta["h2d"] == gemm.delta["h2d"] == 0


def test_a_raw_kernel_launch_is_counted():
    kernel = gf.cuda.RawKernel(SAXPY, "saxpy")
    with gf.device("sim"):
        x, y = gf.ones([100]), gf.ones([100])
    kernel((1,), (32,), (np.float32(2), x, y, np.int64(100)))
    with counters.measure() as m:
        kernel((1,), (32,), (np.float32(2), x, y, np.int64(100)))
    assert m.delta["launches"] == 1


def test_sim_raw_allocs_count_cache_misses_and_pool_allocs_every_request():
    with gf.device("sim"):
        gf.zeros([1])  # sim:0 exists
        gf.memory.empty_cache("sim")  # cached blocks of earlier tests could serve the request: give them back
        with counters.measure() as first:
            x = gf.zeros([12345])
        del x
        with counters.measure() as again:
            x = gf.zeros([12345])
    assert first.delta["raw_allocs"] == 1 and first.delta["pool_allocs"] == 1
    assert again.delta["raw_allocs"] == 0 and again.delta["pool_allocs"] == 1


def test_the_allocator_counts_its_calls_and_driver_mallocs():
    pool, driver, _ = make()
    with counters.measure() as m:
        a = pool.malloc(1000)
        pool.free(a)
        pool.malloc(900)
    assert m.delta["pool_allocs"] == 2 and m.delta["raw_allocs"] == 1 == len(driver.sizes)


@pytest.mark.gpu
def test_cuda_counts_like_sim():
    with gf.device("cuda"):
        x = gf.constant(np.ones((4, 3), np.float32))
        gf.exp(x), gf.matmul(x, x, transpose_b=True)
        with counters.measure() as m:
            y = gf.matmul(gf.exp(x), x, transpose_b=True)
            y.numpy()
    assert m.delta["launches"] == 2 and m.delta["d2h"] == 1 and m.delta["d2h_bytes"] == 64
    assert m.delta["h2d"] == 0 and m.delta["pool_allocs"] >= 2
