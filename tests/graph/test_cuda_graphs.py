"""CUDA Graph replay of compiled steps (gpuflow/graph/cuda_graph.py): needs a GPU; every test is gpu-marked.

On cpu and sim the same plans run without capture (tests/graph/test_memory_plan.py, test_fusion.py)."""
import logging

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.runtime import counters

pytestmark = pytest.mark.gpu


def _train(cuda_graphs: bool, steps=6):
    saved = gf.config.optimizer.get_experimental_options()
    gf.config.optimizer.set_experimental_options({"cuda_graphs": cuda_graphs})
    try:
        rng = np.random.default_rng(0)
        x, y = rng.random((256, 20), dtype=np.float32), rng.integers(0, 4, 256).astype(np.int32)
        with gf.device("cuda"):
            gf.keras.utils.set_random_seed(0)
            model = gf.keras.Sequential([gf.keras.Input((20,)), gf.keras.layers.Dense(32, activation="relu"),
                                         gf.keras.layers.Dense(4)])
            model.compile("adam", gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=["accuracy"])
            history = model.fit(x, y, batch_size=32, epochs=steps // 8 + 1, shuffle=False, verbose=0)
            step = model.make_train_function()
            batch = (gf.constant(x[:32]), gf.constant(y[:32]))
            with counters.measure() as measured:
                logs = step(batch)
            gf.cuda.current_stream().synchronize()
        plan = step.concrete_functions[0]._plan
        return [w.numpy() for w in model.weights], history.history, measured.delta, plan, logs
    finally:
        gf.config.optimizer.set_experimental_options(saved)


def test_a_captured_step_trains_like_the_uncaptured_one():
    captured, history, delta, plan, _ = _train(True)
    plain, plain_history, plain_delta, _, _ = _train(False)
    for a, b in zip(captured, plain):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert history == pytest.approx(plain_history)
    assert plan.graphs is not None and plan.graphs.failed is None
    assert any(c is not None for c in plan.graphs.captures)
    assert delta["launches"] < plain_delta["launches"] and delta["pool_allocs"] == 0 and delta["d2h"] == 0


def test_outputs_kept_across_replays_are_not_overwritten():
    with gf.device("cuda"):
        w = gf.Variable(np.ones((4, 3), np.float32))

        @gf.function
        def f(x):
            return gf.reduce_sum(gf.matmul(x, w) * 2.0, axis=1)
        rng = np.random.default_rng(1)
        xs = [rng.standard_normal((5, 4)).astype(np.float32) for _ in range(8)]
        kept = [f(gf.constant(x)) for x in xs]
        for x, out in zip(xs, kept):
            np.testing.assert_allclose(out.numpy(), (x @ np.ones((4, 3))).sum(1) * 2, rtol=1e-5)


def test_a_step_that_calls_the_host_is_not_captured(caplog):
    with gf.device("cuda"):
        v = gf.Variable(0.0)

        @gf.function
        def f(x):
            v.assign_add(gf.reduce_sum(x))
            gf.print("total", v)
            return v * 1.0
        with caplog.at_level(logging.INFO, logger="gpuflow"):
            for _ in range(4):
                f(gf.ones((3,)))
        assert float(v.numpy()) == 12.0
        plan = f.concrete_functions[0]._plan
        assert plan.graphs is not None and "host" in plan.graphs.failed
