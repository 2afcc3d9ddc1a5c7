"""Planted bugs the simulator must turn into clear KernelErrors (never a hang or a crash)."""
import numpy as np
import pytest

from gpuflow.errors import KernelError
from gpuflow.runtime.sim import SimModule


def bugs(load, options=()):
    return load("bugs.cu", (), options)


def test_out_of_bounds_write_past_the_end(load):
    y = np.zeros(100, np.float32)
    with pytest.raises(KernelError, match=r"oob_write.*argument 0 \(`float\*`, 400 bytes\): 112 bytes past the end"):
        bugs(load).get_function("oob_write")(2, 64, (y, np.int32(100)))
    assert (y == 1).all()  # in-bounds writes still land, as on a device


def test_out_of_bounds_write_before_the_start(load):
    y = np.zeros(8, np.float32)
    with pytest.raises(KernelError, match=r"oob_before.*argument 0.*12 bytes before the start"):
        bugs(load).get_function("oob_before")(1, 8, (y, np.ones(1, np.float32)))


def test_process_usable_after_failed_launch(load):
    y = np.zeros(100, np.float32)
    with pytest.raises(KernelError):
        bugs(load).get_function("oob_write")(2, 64, (y, np.int32(100)))
    y = np.zeros(128, np.float32)
    bugs(load).get_function("oob_write")(2, 64, (y, np.int32(128)))
    assert (y == 1).all()


def test_divergent_barrier_after_early_exit(load):
    with pytest.raises(KernelError, match=r"early_exit_barrier: divergent __syncthreads\(\) \(block \(0,0,0\)\): "
                                          r"threads \(\d+,0,0\).* reached it, threads .* had exited"):
        bugs(load).get_function("early_exit_barrier")(1, 32, (np.zeros(32, np.float32),))


def test_barrier_while_others_wait_in_warp_op(load):
    with pytest.raises(KernelError, match=r"barrier_vs_warp: divergent __syncthreads\(\).*reached it.*"
                                          r"waiting in __shfl_sync \(mask 0xffffffff\)"):
        bugs(load).get_function("barrier_vs_warp")(1, 64, (np.zeros(64, np.int32),))


def test_warp_op_naming_exited_lanes(load):
    with pytest.raises(KernelError, match=r"warp_op_exited: .*__shfl_sync.*(exited|had already exited)"):
        bugs(load).get_function("warp_op_exited")(1, 32, (np.zeros(32, np.int32),))


def test_failing_assert(load):
    x = np.zeros(16, np.int32)
    x[5] = -1
    with pytest.raises(KernelError, match=r"failing_assert: assertion `x\[threadIdx.x\] >= 0` failed at .*bugs.cu"
                                          r":\d+, block \(0,0,0\), thread \(5,0,0\)"):
        bugs(load).get_function("failing_assert")(1, 16, (x,))
    bugs(load).get_function("failing_assert")(1, 16, (np.zeros(16, np.int32),))  # and runs again fine


@pytest.mark.parametrize("kernel,smem", [("uninit_static", 0), ("uninit_dynamic", 256)])
def test_initcheck_uninitialised_shared_read(load, kernel, smem):
    x, y = np.ones(64, np.float32), np.zeros(64, np.float32)
    checked = bugs(load, ("--sim-initcheck",))
    with pytest.raises(KernelError, match=rf"{kernel}: initcheck: read of uninitialised shared memory `\w+`"):
        checked.get_function(kernel)(1, 64, (x, y), shared_mem=smem)
    checked.get_function("init_ok")(1, 64, (x, y))
    assert (y == 2).all()
    # Without initcheck the bug goes unreported, but the 0xff fill makes the values NaN.
    bugs(load).get_function(kernel)(1, 64, (x, y), shared_mem=smem)
    assert np.isnan(y[32:]).all()


def test_initcheck_from_environment(monkeypatch):
    monkeypatch.setenv("GPUFLOW_SIM_INITCHECK", "1")
    code = ('extern "C" __global__ void k(float* y) { __shared__ float s[32]; '
            'if (threadIdx.x) s[threadIdx.x] = 1; __syncthreads(); y[threadIdx.x] = s[31 - threadIdx.x]; }')
    with pytest.raises(KernelError, match="initcheck"):
        SimModule(code, name="inline_initcheck").get_function("k")(1, 32, (np.zeros(32, np.float32),))


def test_warp_ops_waiting_for_each_other(load):
    with pytest.raises(KernelError, match=r"mismatched_warp_ops: __(shfl|ballot)_sync .*warp 0: thread .* waits with "
                                          r"mask 0xffffffff but lane \d+ .* waits in __(ballot|shfl)_sync"):
        bugs(load).get_function("mismatched_warp_ops")(1, 32, (np.zeros(32, np.int32),))


def run_order(load, monkeypatch, seed, n=64):
    if seed is None:
        monkeypatch.delenv("GPUFLOW_SIM_SEED", raising=False)
    else:
        monkeypatch.setenv("GPUFLOW_SIM_SEED", str(seed))
    counter, order = np.zeros(1, np.int32), np.zeros(n, np.int32)
    bugs(load).get_function("tickets")(1, n, (counter, order))
    return tuple(order)


def test_thread_order_is_seeded_and_not_trivial(load, monkeypatch):
    default = run_order(load, monkeypatch, None)
    assert default == run_order(load, monkeypatch, 0) == run_order(load, monkeypatch, None)  # deterministic
    assert default != tuple(range(64)) and default != tuple(range(63, -1, -1))
    assert sorted(default) == list(range(64))
    assert len({run_order(load, monkeypatch, s) for s in range(5)}) == 5


def test_bad_seed_is_an_error(load, monkeypatch):
    monkeypatch.setenv("GPUFLOW_SIM_SEED", "abc")
    with pytest.raises(KernelError, match="GPUFLOW_SIM_SEED"):
        run_order(load, monkeypatch, "abc")


def test_concurrent_launches_from_threads(load):
    import threading
    errors = []

    def work(k):
        try:
            for _ in range(20):
                x = np.full(200, k, np.int32)
                out = np.zeros(1, np.int32)
                load("reduce.cu").get_function("block_sum")(1, 256, (np.resize(x, 256), out))
                assert out[0] == 256 * k
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
