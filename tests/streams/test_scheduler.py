"""The stream scheduler on sim: uploads on the copy stream, ordered by events; planted bugs are races every time."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.data.device import device_batches
from gpuflow.errors import KernelError
from gpuflow.runtime import scheduler
from gpuflow.runtime.scheduler import Scheduler
from gpuflow.runtime.sim.queues import engine
from gpuflow.runtime.staging import StagingRing

from _stream_helpers import each_schedule

BATCHES = [(np.full((8, 3), k, np.float32), np.arange(8) + k) for k in range(5)]
EXPECTED = [float(24 * k + (8 * k + 28)) for k in range(5)]


def train_like():
    """A loop that consumes batches on the compute stream and reads results on the host only at the end:
    nothing but the scheduler's own events orders its uploads with the steps."""
    with gf.device("sim"):
        totals = [gf.reduce_sum(x) + gf.cast(gf.reduce_sum(y), gf.float32)
                  for x, y in device_batches(BATCHES)]
        return [float(t) for t in totals]


def test_the_scheduler_passes_every_schedule():
    for totals in each_schedule(train_like):
        assert totals == EXPECTED


def test_a_missing_wait_event_is_caught_under_every_schedule(monkeypatch):
    monkeypatch.setattr(Scheduler, "ready", lambda self, event, stream=None: None)  # the compute stream never waits

    def program():
        with pytest.raises(KernelError) as caught:
            train_like()
        return str(caught.value)
    for message in each_schedule(program):
        assert "copy host->device" in message and "copy stream of sim:0" in message
        assert "reduce_sum" in message and "default stream of sim:0" in message


def test_a_staging_slot_reused_too_early_is_caught_under_every_schedule(monkeypatch):
    monkeypatch.setattr(StagingRing, "_wait_free", lambda self, slot: None)  # overwrite before its copy is done

    def program():
        with pytest.raises(KernelError) as caught:
            train_like()
        return str(caught.value)
    for message in each_schedule(program):
        assert "staging write" in message and "host thread" in message
        assert "copy host->device" in message and "copy stream of sim:0" in message


def test_batches_keep_their_dtypes_and_tensors_pass_through():
    with gf.device("sim"):
        resident = gf.constant([1.0, 2.0])
    elements = [(np.arange(4, dtype=np.uint8), resident, None, np.array([True, False]))]
    ((u8, same, none, flags),) = list(device_batches(elements, "sim"))
    assert u8.dtype == gf.uint8 and u8.device == "sim:0"  # kept as gf.constant keeps it
    assert same is resident and none is None and flags.dtype == gf.bool
    np.testing.assert_array_equal(u8.numpy(), [0, 1, 2, 3])


def test_without_the_scheduler_batches_are_converted_on_the_spot():
    scheduler.set_enabled(False)
    with gf.device("sim"):
        ((x, y),) = list(device_batches(BATCHES[:1]))
    assert x.device == "sim:0" and y.dtype == gf.int64


def test_downloads_arrive_when_used():
    def program():
        with gf.device("sim"):
            values = [gf.reduce_sum(x) for x, _ in device_batches(BATCHES)]
        sched = scheduler.for_device(gf.devices.parse("sim"))
        pending = sched.download([v._data for v in values], [v.dtype for v in values])
        more = sched.download([values[0]._data], [values[0].dtype])
        again = sched.download([values[1]._data], [values[1].dtype])  # its slot held `pending`: read out first
        return [float(v) for v in pending] + [float(more[0]), float(again[0])]
    for got in each_schedule(program):
        assert got == [24.0 * k for k in range(5)] + [0.0, 24.0]


def test_a_staging_ring_reuses_a_slot_only_after_its_event():
    engine().reseed(2)  # the policy that runs queued work only when something waits for it
    with gf.device("sim"):
        s = gf.cuda.Stream()
        with gf.cuda.stream(s):
            gf.ones([1000]) * 2.0
        event = s.record_event()
    ring = StagingRing("sim", 2)
    first = ring.acquire([((4,), np.float32)])
    first.event = event
    ring.acquire([((1 << 20,), np.uint8)])
    assert not event.query()
    again = ring.acquire([((4,), np.float32)])
    assert again is first and event.query() and first.event is None
    x, y = first.views([((3,), np.float32), ((2, 2), np.int64)])
    assert y.ctypes.data - x.ctypes.data == 256  # each array aligned as cudaMalloc would
