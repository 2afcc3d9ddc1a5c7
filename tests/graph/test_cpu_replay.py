"""A cpu gf.function replays as one generated function (gpuflow/graph/cpu_replay.py): the executor Plan's results,
bit for bit; optimizer updates written into the variables' own buffers, unless someone else holds one."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.graph import cpu_replay
from gpuflow.graph.control_flow import graph_plan
from gpuflow.graph.executor import Plan

keras = gf.keras


def _model(optimizer="adam"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3)])
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _data(seed, n=64):
    rng = np.random.default_rng(seed)
    return rng.random((n, 6), dtype=np.float32), rng.integers(0, 3, n)


def _state(model):
    return [v.numpy() for v in model.weights + model.optimizer.variables]


def _buffers(model):
    return [id(v._data) for v in model.weights + model.optimizer.variables if v is not model.optimizer.iterations]


def test_a_cpu_step_replays_through_the_generated_function():
    x, y = _data(0)
    with gf.device("cpu"):
        model = _model()
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    plan = model.train_function.concrete_functions[0]._plan
    assert isinstance(plan, cpu_replay.CpuReplay)
    assert "def replay(" in plan.source and "in place" in plan.source


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop", "nadam"])
def test_same_bits_as_the_executor_plan(optimizer, monkeypatch):
    x, y = _data(1, 96)
    results = []
    for replay in (True, False):
        if not replay:  # every plan an executor Plan, as before the cpu replay
            monkeypatch.setattr(cpu_replay, "cpu_replay", lambda graph: None)
        with gf.device("cpu"):
            model = _model(optimizer)
            history = model.fit(x, y, batch_size=32, epochs=3, verbose=0)
        assert isinstance(model.train_function.concrete_functions[0]._plan, cpu_replay.CpuReplay) == replay
        results.append((_state(model), history.history))
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_array_equal(a, b)
    assert results[0][1] == results[1][1]


def test_a_kept_value_is_never_overwritten():
    x, y = _data(3)
    with gf.device("cpu"):
        model = _model()
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        kept = model.weights[0].value()                 # a Tensor sharing the variable's buffer
        view = gf.reshape(model.weights[2], [-1])       # a view of another one's buffer
        array = np.asarray(model.weights[1].value())    # a NumPy array on a third one's buffer
        snapshot = [kept.numpy(), view.numpy(), array.copy()]
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    for value, expected in zip([kept.numpy(), view.numpy(), array], snapshot):
        np.testing.assert_array_equal(value, expected)
    assert not np.array_equal(model.weights[0].numpy(), snapshot[0])  # the variable itself moved on
    buffers = _buffers(model)
    del kept, view, array  # let go: the next steps write in place again
    with gf.device("cpu"):
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert _buffers(model)[:3] == buffers[:3]


def test_a_value_read_before_an_update_and_returned_keeps_the_old_value():
    with gf.device("cpu"):
        w = gf.Variable(np.arange(4, dtype=np.float32))
        optimizer = keras.optimizers.SGD(0.5)

        @gf.function
        def step(g):
            before = w.value()
            optimizer.apply_gradients([(g, w)])
            return before, w.value()

        g = gf.constant(np.ones(4, np.float32))
        step(g)
        before, after = step(g)
    np.testing.assert_array_equal(before.numpy(), [-0.5, 0.5, 1.5, 2.5])
    np.testing.assert_array_equal(after.numpy(), [-1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(w.numpy(), after.numpy())


def test_inputs_constants_and_unused_outputs():
    """Inputs returned as they are or not used at all, constant outputs, a multi-output primitive half used."""
    c = gf.constant(np.float32(2.0))

    @gf.function
    def f(a, b, unused):
        loss, _ = gf.nn.sparse_softmax_cross_entropy_with_logits(b, a), None
        return a, c, loss * c, gf.reduce_sum(a)

    with gf.device("cpu"):
        a = gf.constant(np.random.default_rng(4).random((3, 5), dtype=np.float32))
        b = gf.constant(np.array([0, 4, 2], np.int32))
        got = f(a, b, gf.constant(1.0))
        concrete = f.concrete_functions[0]
        expected = Plan(concrete._plan.graph).run([a._data, b._data, np.float32(1.0)])
    assert isinstance(concrete._plan, cpu_replay.CpuReplay)
    for t, e in zip(got, expected):
        np.testing.assert_array_equal(t.numpy(), e)
    assert got[0]._data is a._data


def test_graphs_with_host_effects_or_control_flow_use_the_executor_plan():
    with gf.device("cpu"):
        @gf.function
        def printing(x):
            gf.print("x", x)
            return x + 1

        @gf.function
        def branching(x):
            return gf.cond(gf.reduce_sum(x) > 0, lambda: x * 2, lambda: x - 1)

        x = gf.constant(np.ones(3, np.float32))
        printing(x)
        np.testing.assert_array_equal(branching(x).numpy(), [2, 2, 2])
    for fn in (printing, branching):
        plan = fn.concrete_functions[0]._plan
        assert type(plan) is Plan
        assert graph_plan(plan.graph) is plan


def test_other_devices_use_the_executor_plan():
    with gf.device("sim"):
        @gf.function
        def f(x):
            return x * 2

        f(gf.constant(np.ones(3, np.float32)))
    assert type(f.concrete_functions[0]._plan) is Plan


def test_an_update_whose_gradient_is_one_of_its_slots_does_not_write_in_place():
    """The gradient is the v slot's own value: writing v in place would change the gradient halfway through."""
    from gpuflow.ops.optim_prims import UPDATES
    results = []
    for compiled in (True, False):
        with gf.device("cpu"):
            p, m, v = (gf.Variable(np.linspace(a, 1, 6, dtype=np.float32)) for a in (-1.0, 0.1, 0.2))
            step_values = gf.constant(np.array([0.1, 1.9, 0.4, 1.5, 1.0]))  # lr, m_coef, g_coef, v_coef, apply

            def step():  # Nadam reads the gradient again after writing v
                new = UPDATES["nadam_update"](p.value(), v.value(), m.value(), v.value(), step_values,
                                              beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0)
                for var, value in zip((p, m, v), new):
                    var.assign(value)
            step = gf.function(step) if compiled else step
            for _ in range(3):
                step()
            results.append([var.numpy() for var in (p, m, v)])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_a_long_graph_replays():
    with gf.device("cpu"):
        @gf.function
        def f(x):
            for _ in range(2000):
                x = x * 1.0001 + 0.5
            return x

        got = f(gf.constant(np.zeros(3, np.float32)))
        expected = np.zeros(3, np.float32)
        for _ in range(2000):
            expected = expected * np.float32(1.0001) + np.float32(0.5)
    assert isinstance(f.concrete_functions[0]._plan, cpu_replay.CpuReplay)
    np.testing.assert_array_equal(got.numpy(), expected)
