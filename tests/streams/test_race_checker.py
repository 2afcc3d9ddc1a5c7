"""The sim's happens-before checker: races between streams are errors under every interleaving."""
import gc

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import KernelError
from gpuflow.runtime.sim.happens_before import Access, Actor, HappensBefore

from _stream_helpers import each_schedule

FILL = gf.cuda.RawKernel(r'''
extern "C" __global__ void fill(float* x, float v, long long n) {
    for (long long i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) x[i] = v;
}''', "fill")
SCALE = gf.cuda.RawKernel(r'''
extern "C" __global__ void scale(const float* x, float* y, long long n) {
    for (long long i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) y[i] = 2 * x[i];
}''', "scale")
N = np.int64(1000)


# ---- the checker alone ----------------------------------------------------------------------------
def _access(actor, op):
    return Access(actor, actor.tick(), op, dict(actor.clock))


def test_unordered_conflicting_accesses_race_and_ordered_ones_do_not():
    checker, a, b = HappensBefore(), Actor(1, "stream a"), Actor(2, "stream b")
    x = np.zeros(4, np.float32)
    checker.access(x, _access(a, "write1"), write=True)
    with pytest.raises(KernelError, match=r"read2 on stream b reads it, but write1 on stream a wrote it"):
        checker.access(x, _access(b, "read2"), write=False)
    b.join(a.clock)  # b waited for a's work so far
    checker.access(x, _access(b, "read3"), write=False)
    checker.access(x, _access(a, "read4"), write=False)  # two readers need no order between them
    with pytest.raises(KernelError, match=r"write5 on stream a writes it, but read3 on stream b read it"):
        checker.access(x, _access(a, "write5"), write=True)
    assert checker.races == 2


def test_one_actors_own_accesses_are_in_program_order():
    checker, a = HappensBefore(), Actor(1, "stream a")
    x = np.zeros(4, np.float32)
    for op, write in [("w", True), ("r", False), ("w", True), ("w", True)]:
        checker.access(x, _access(a, op), write=write)
    assert checker.races == 0


def test_views_share_their_buffers_history_and_a_freed_buffer_is_forgotten():
    checker, a, b = HappensBefore(), Actor(1, "stream a"), Actor(2, "stream b")
    x = np.zeros(8, np.float32)
    checker.access(x[:4], _access(a, "write"), write=True)
    with pytest.raises(KernelError, match=r"float32\[8\] buffer at 0x[0-9a-f]+ \(32 bytes\)"):
        checker.access(x.reshape(2, 4)[1], _access(b, "read"), write=False)
    assert len(checker._buffers) == 1
    del x
    gc.collect()
    assert not checker._buffers


# ---- a user's two-stream program ------------------------------------------------------------------
def two_streams(wait: bool):
    """Stream a fills x, stream b doubles x into y: b must wait for a's event."""
    with gf.device("sim"):
        a, b = gf.cuda.Stream(), gf.cuda.Stream()
        x, y = gf.zeros([1000]), gf.zeros([1000])
        a.wait_stream(gf.cuda.current_stream())  # x and y were made on the default stream
        b.wait_stream(gf.cuda.current_stream())
        with gf.cuda.stream(a):
            FILL((2,), (128,), (x, np.float32(3), N))
        filled = a.record_event()
        if wait:
            b.wait_event(filled)
        with gf.cuda.stream(b):
            SCALE((2,), (128,), (x, y, N))
        return y.numpy()


def test_the_correct_program_passes_every_schedule():
    for y in each_schedule(lambda: two_streams(wait=True)):
        np.testing.assert_array_equal(y, 6.0)


def test_leaving_out_wait_event_raises_under_every_schedule():
    def program():
        with pytest.raises(KernelError) as caught:
            two_streams(wait=False)
        return str(caught.value)
    messages = each_schedule(program)
    for message in messages:
        assert "race on float32[1000] buffer" in message
        assert "kernel fill" in message and "kernel scale" in message
        assert message.count("of sim:0") >= 2  # both streams are named
    # The schedules really differ: some ran `scale` before `fill`, some after.
    assert any(m.split(":")[1].strip().startswith("kernel fill") for m in messages)
    assert any(m.split(":")[1].strip().startswith("kernel scale") for m in messages)


def test_a_side_stream_reading_a_default_stream_result_must_wait_for_it():
    # torch.cuda's classic mistake: the default stream made x, a side stream reads it straight away.
    def program():
        with gf.device("sim"):
            s = gf.cuda.Stream()
            x = gf.ones([100]) * 2.0
            with gf.cuda.stream(s):
                y = x + 1.0
            return y.numpy()
    for seed_ok in each_schedule(lambda: _raises(program)):
        assert "on default stream of sim:0" in seed_ok and "add" in seed_ok


def test_writing_a_buffer_another_stream_still_reads_is_a_race():
    def program():
        with gf.device("sim"):
            s = gf.cuda.Stream()
            x, y = gf.ones([1000]), gf.zeros([1000])
            s.wait_stream(gf.cuda.current_stream())
            with gf.cuda.stream(s):
                SCALE((2,), (128,), (x, y, N))  # s reads x ...
            FILL((2,), (128,), (x, np.float32(5), N))  # ... while the default stream overwrites it
            return y.numpy()
    for message in each_schedule(lambda: _raises(program)):
        assert "kernel fill" in message and "kernel scale" in message


def test_a_launch_queued_on_a_stream_is_checked_when_issued():
    with gf.device("sim"):
        s = gf.cuda.Stream()
        x, y = gf.ones([4]), gf.ones([4])
    with gf.cuda.stream(s), pytest.raises(KernelError, match="argument 2"):
        SCALE(1, 4, (x, y, np.int32(4)))


def _raises(program) -> str:
    with pytest.raises(KernelError) as caught:
        program()
    return str(caught.value)
