"""The static memory plan (gpuflow/graph/memory_plan.py): the layout by liveness, and replays served from the arena
with no allocator call, without ever handing out a region something still uses."""
import threading

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.graph.memory_plan import ALIGN, Arena, layout
from gpuflow.runtime import counters


def _overlap(a, b):
    return a[0] < b[1] and b[0] < a[1]


def test_layout_shares_addresses_only_between_disjoint_lifetimes():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 30))
        sizes = [int(ALIGN * rng.integers(1, 9)) for _ in range(n)]
        events = list(range(2 * n))
        rng.shuffle(events)
        taken, given = [], []
        for k in range(n):
            a, b = sorted(events[2 * k:2 * k + 2])
            taken.append(a)
            given.append(b if rng.random() > 0.2 else None)  # some outlive the call
        sizes, offsets, escaping, conflicts, total = layout(sizes, taken, given)
        inner = [k for k in range(n) if given[k] is not None]
        for i in inner:
            for j in inner:
                if i < j and taken[i] < given[j] and taken[j] < given[i]:  # alive together: apart in memory
                    assert not _overlap((offsets[i], offsets[i] + sizes[i]), (offsets[j], offsets[j] + sizes[j]))
        regions = [(offsets[k], offsets[k] + sizes[k]) for k in inner]
        for k, (a, b) in escaping.items():  # two regions each, shared with nothing
            own = [(a, a + sizes[k]), (b, b + sizes[k])]
            assert not _overlap(*own)
            for r in own:
                assert r[1] <= total and all(not _overlap(r, q) for q in regions)
        for k in inner:
            assert offsets[k] % ALIGN == 0 and offsets[k] + sizes[k] <= total
            for j in conflicts[k]:
                assert given[j] <= taken[k]  # a region is reused only after its earlier user gave it back


def test_layout_reuses_a_dead_buffer():
    sizes, offsets, escaping, conflicts, total = layout([1024, 1024, 1024], [1, 3, 5], [2, 4, 6])
    assert offsets == [0, 0, 0] and total == 1024 and not escaping


def _function_on_sim():
    with gf.device("sim"):
        w = gf.Variable(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
        total = gf.Variable(0.0)

        @gf.function
        def step(x):
            h = gf.nn.relu(gf.matmul(x, w) + 1.0)
            s = gf.reduce_sum(h)
            total.assign_add(s)
            return h * 2.0, s
    return step, w, total


def test_replays_make_no_allocator_call_and_match_eager():
    step, w, total = _function_on_sim()
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(6)]
    with gf.device("sim"):
        args = [gf.constant(x) for x in xs]
        results = []
        for k, x in enumerate(args):
            with counters.measure() as measured:
                h, s = step(x)
            results.append((h.numpy(), float(s)))
            if k >= 2:  # the first call records, the second builds the arena: later calls allocate nothing
                assert measured.delta["pool_allocs"] == 0 and measured.delta["raw_allocs"] == 0
    expected_total = 0.0
    for x, (h, s) in zip(xs, results):
        ref = np.maximum(x @ w.numpy() + 1.0, 0.0)
        np.testing.assert_allclose(h, 2 * ref, rtol=1e-6)
        np.testing.assert_allclose(s, ref.sum(), rtol=1e-5)
        expected_total += ref.sum()
    np.testing.assert_allclose(total.numpy(), expected_total, rtol=1e-5)


def test_kept_outputs_are_never_overwritten():
    step, w, _ = _function_on_sim()
    rng = np.random.default_rng(2)
    with gf.device("sim"):
        kept = []
        for _ in range(8):  # every result kept: the arena's two regions are taken, so the allocator serves more
            x = rng.standard_normal((5, 3)).astype(np.float32)
            h, s = step(gf.constant(x))
            kept.append((x, h, s))
        for x, h, s in kept:
            ref = np.maximum(x @ w.numpy() + 1.0, 0.0)
            np.testing.assert_allclose(h.numpy(), 2 * ref, rtol=1e-6)


def test_a_value_alive_longer_than_recorded_makes_the_call_allocate():
    sizes, offsets, escaping, conflicts, total = layout([512, 512], [1, 3], [2, 4])  # both at offset 0

    class Device:
        class backend:
            on_gpu = False

            class xp:
                empty = staticmethod(np.empty)
    arena = Arena(Device, sizes, offsets, escaping, conflicts, total)
    assert arena.begin()
    first = arena.malloc(512, 0)
    assert first is not None
    second = arena.malloc(512, 0)  # the first is still alive (not given back as recorded): not the same region
    assert second is None and arena.broken
    arena.release(first)
    assert arena.begin() and arena.malloc(512, 0) is not None


def test_another_thread_never_takes_the_plan_regions():
    step, _, _ = _function_on_sim()
    with gf.device("sim"):
        x = gf.constant(np.ones((5, 3), np.float32))
        for _ in range(3):
            step(x)
        stop = threading.Event()
        made = []

        def allocate():
            with gf.device("sim"):
                while not stop.is_set():
                    made.append(gf.ones((5, 4)) * 3.0)
                    made[:] = made[-4:]
        thread = threading.Thread(target=allocate)
        thread.start()
        try:
            for _ in range(20):
                h, s = step(x)
                np.testing.assert_allclose(h.numpy(), step.python_function(x)[0].numpy())
                assert all(np.all(m.numpy() == 3.0) for m in list(made))
        finally:
            stop.set()
            thread.join()


def test_the_option_turns_the_plan_off():
    saved = gf.config.optimizer.get_experimental_options()
    gf.config.optimizer.set_experimental_options({"memory_plan": False})
    try:
        step, _, _ = _function_on_sim()
        with gf.device("sim"):
            x = gf.constant(np.ones((5, 3), np.float32))
            for _ in range(3):
                step(x)
            with counters.measure() as measured:
                step(x)
        assert measured.delta["pool_allocs"] > 0
    finally:
        gf.config.optimizer.set_experimental_options(saved)


def test_unknown_options_are_refused():
    with pytest.raises(ValueError, match="unknown option 'fusoin'"):
        gf.config.optimizer.set_experimental_options({"fusoin": False})
