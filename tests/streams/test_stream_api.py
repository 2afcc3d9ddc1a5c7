"""gf.cuda.Stream / Event / stream() / current_stream() on every device: cpu (immediate), sim (queues), cuda (GPU)."""
import threading

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from gpuflow.runtime.sim.queues import engine

from _stream_helpers import each_schedule

DEVICES = ["cpu", "sim", pytest.param("cuda", marks=pytest.mark.gpu)]


@pytest.mark.parametrize("device", DEVICES)
def test_current_stream_follows_the_scope(device):
    with gf.device(device):
        default = gf.cuda.current_stream()
        assert default == gf.cuda.default_stream() and default.device == str(gf.devices.parse(device))
        s, t = gf.cuda.Stream(), gf.cuda.Stream()
        assert s != t and s != default
        with gf.cuda.stream(s):
            assert gf.cuda.current_stream() == s
            with t:  # CuPy's spelling of the same scope
                assert gf.cuda.current_stream() == t
            assert gf.cuda.current_stream() == s
        assert gf.cuda.current_stream() == default
        with gf.cuda.stream(None):
            assert gf.cuda.current_stream() == default


def test_the_current_stream_is_per_thread():
    with gf.device("sim"):
        s = gf.cuda.Stream()
        seen = []
        with gf.cuda.stream(s):
            worker = threading.Thread(target=lambda: seen.append(gf.cuda.current_stream(gf.devices.parse("sim"))))
            worker.start()
            worker.join()
        assert seen == [gf.cuda.default_stream("sim")]


def test_a_scope_names_its_device_only():
    with gf.device("sim"):
        s = gf.cuda.Stream()
    with gf.cuda.stream(s):
        assert gf.cuda.current_stream("sim") == s
        assert gf.cuda.current_stream("cpu") == gf.cuda.default_stream("cpu")


@pytest.mark.parametrize("device", DEVICES)
def test_ops_on_a_stream_give_the_values_of_the_default_stream(device):
    def program():
        with gf.device(device):
            x = gf.constant(np.arange(12, dtype=np.float32).reshape(3, 4))
            s = gf.cuda.Stream()
            s.wait_stream(gf.cuda.current_stream())  # x was made on the default stream
            with gf.cuda.stream(s):
                y = gf.reduce_sum(gf.nn.relu(x - 5.0) * 2.0, axis=1)
                z, w = gf.split(x, 2, axis=1)
            s.synchronize()
            return y.numpy(), (z + w).numpy()
    for y, zw in each_schedule(program):
        np.testing.assert_allclose(y, [0, 6, 36])
        np.testing.assert_allclose(zw, [[2, 4], [10, 12], [18, 20]])


@pytest.mark.parametrize("device", DEVICES)
def test_events_record_wait_and_synchronize(device):
    with gf.device(device):
        s = gf.cuda.Stream()
        e = gf.cuda.Event(enable_timing=True)
        assert e.query() and "not recorded" in repr(e)  # a never-recorded event is done, as in CUDA
        s.wait_event(e)  # waiting for it is a no-op
        start = s.record_event(gf.cuda.Event(enable_timing=True))
        with gf.cuda.stream(s):
            x = gf.ones([1000]) * 3.0
        e.record(s)
        gf.cuda.current_stream().wait_event(e)
        total = gf.reduce_sum(x)
        e.synchronize()
        assert e.query() and s.query()
        assert start.elapsed_time(e) >= 0.0
        assert float(total) == 3000.0


def test_sim_work_on_a_stream_stays_queued_until_something_waits():
    engine().reseed(2)  # the policy that runs nothing until it must
    with gf.device("sim"):
        s = gf.cuda.Stream()
        with gf.cuda.stream(s):
            y = gf.ones([10]) + 1.0
        done = s.record_event()
        assert not s.query() and not done.query()
        done.synchronize()
        assert done.query() and s.query()
        np.testing.assert_allclose(y.numpy(), 2.0)


def test_sim_elapsed_time_is_the_timeline_models():
    engine().reseed(2)
    with gf.device("sim"):
        s = gf.cuda.Stream()
        start = s.record_event()
        with gf.cuda.stream(s):
            x = gf.ones([1 << 16])
            x + x
        end = s.record_event()
    from gpuflow.runtime.timeline import kernel_seconds
    # on s: a fill writing 256 KiB, then an add reading it twice and writing 256 KiB
    expected = kernel_seconds(1 << 18) + kernel_seconds(3 << 18)
    assert start.elapsed_time(end) == pytest.approx(1e3 * expected)


def test_misuse_is_refused_with_what_to_do():
    with gf.device("sim"):
        s = gf.cuda.Stream()
        e = s.record_event()
    with pytest.raises(InvalidArgumentError, match="expected a gf.cuda.Event, got Stream"):
        s.wait_event(s)
    with pytest.raises(InvalidArgumentError, match="expected a gf.cuda.Stream or None"):
        with gf.cuda.stream("sim"):
            pass
    with gf.device("cpu"):
        t = gf.cuda.Stream()
    with pytest.raises(InvalidArgumentError, match="recorded on sim:0, this stream is on cpu:0"):
        t.wait_event(e)
    with pytest.raises(InvalidArgumentError, match="belongs to sim:0"):
        e.record(t)
    with pytest.raises(InvalidArgumentError, match="both events must have been recorded"):
        e.elapsed_time(gf.cuda.Event())


def test_sim_reads_the_seed_from_the_environment(monkeypatch):
    monkeypatch.setenv("GPUFLOW_SIM_SEED", "7")
    engine().reseed()
    assert engine().seed == 7
