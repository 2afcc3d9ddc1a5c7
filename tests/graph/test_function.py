"""gf.function: tf.function's semantics (tracing, retracing, side effects, variables, signatures, eager switch)."""
import logging
import sys
import threading

import numpy as np
import pytest

import gpuflow as gf


def test_decorator_and_call_forms_trace_once_per_signature():
    traces = []

    def body(x, y):
        traces.append(1)  # a Python side effect: runs while tracing only
        return x * y + 1.0

    f = gf.function(body)
    g = gf.function(reduce_retracing=False)(body)
    a, b = gf.constant([1.0, 2.0]), gf.constant([3.0, 4.0])
    for fn in (f, g):
        np.testing.assert_allclose(fn(a, b).numpy(), [4.0, 9.0])
        np.testing.assert_allclose(fn(b, a).numpy(), [4.0, 9.0])  # same shapes and dtypes: no new trace
        assert fn.experimental_get_tracing_count() == 1
    assert len(traces) == 2


@pytest.mark.parametrize("change, expected", [
    (lambda f: f(gf.ones((3,)), 1.0), 2),                      # a new shape
    (lambda f: f(gf.ones((2,), dtype=gf.float64), 1.0), 2),    # a new dtype
    (lambda f: f(gf.ones((2,)), 2.0), 2),                      # a new Python value
    (lambda f: f(gf.ones((2,)), 1.0), 1),                      # the same signature
])
def test_retracing_rules(change, expected):
    f = gf.function(lambda x, k: x * k)
    f(gf.ones((2,)), 1.0)
    change(f)
    assert f.experimental_get_tracing_count() == expected


def test_the_structure_of_nested_arguments_is_part_of_the_signature():
    f = gf.function(lambda xs: gf.add_n(list(xs)))
    one = gf.ones((2,))
    f([one, one])
    f((one, one))
    f([one, one, one])
    f([one, one])
    assert f.experimental_get_tracing_count() == 3
    d = gf.function(lambda m: m["a"] - m["b"])
    np.testing.assert_allclose(d({"a": one * 3.0, "b": one}).numpy(), [2.0, 2.0])


def test_tuples_of_tensors_are_looked_up_by_their_shapes_and_keep_their_structure():
    """A Keras batch (x, y) takes the positional-tensor lookup; f((x, y)) and f(x, y) stay different traces."""
    f = gf.function(lambda *args: {"b": gf.reduce_sum(args[0][0] if isinstance(args[0], tuple) else args[0]),
                                   "a": gf.constant(1.0)})
    x, y = gf.ones((2,)), gf.ones((3,))
    for _ in range(3):
        out = f((x, y))
    assert list(out) == ["b", "a"] and out["b"].numpy() == 2.0  # the function's own key order
    f(x, y)
    f((y, x))
    f((x, y))
    assert f.experimental_get_tracing_count() == 3


def test_python_values_change_the_graph():
    f = gf.function(lambda x, flag: x * 2.0 if flag else x - 1.0)
    x = gf.constant([1.0])
    assert f(x, True).numpy()[0] == 2.0 and f(x, False).numpy()[0] == 0.0


def test_gf_print_runs_on_every_call_python_print_only_when_tracing(capfd):
    @gf.function
    def f(x):
        print("tracing")
        gf.print("value:", x, output_stream=sys.stdout)
        return x + 1.0

    for _ in range(3):
        f(gf.constant([1.0, 2.0]))
    out = capfd.readouterr().out
    assert out.count("tracing") == 1
    assert out.count("value: [1 2]") == 3 or out.count("value: [1. 2.]") == 3


def test_variables_are_state_of_the_graph():
    v = gf.Variable(1.0)

    @gf.function
    def step(x):
        v.assign_add(x)
        return v * 2.0

    assert float(step(gf.constant(2.0))) == 6.0
    assert float(step(gf.constant(3.0))) == 12.0
    assert float(v) == 6.0
    # a read before an assign in the same graph sees the old value
    @gf.function
    def swap():
        old = v.value()
        v.assign(old + 1.0)
        return old
    assert float(swap()) == 6.0 and float(v) == 7.0


def test_variables_may_be_created_on_the_first_trace_only():
    class Counter:
        def __init__(self):
            self.v = None

        @gf.function
        def __call__(self, x):
            if self.v is None:
                self.v = gf.Variable(lambda: gf.zeros(x.shape))
            self.v.assign_add(x)
            return self.v.value()

    c = Counter()
    c(gf.ones((2,)))
    np.testing.assert_allclose(c(gf.ones((2,))).numpy(), [2.0, 2.0])

    @gf.function
    def makes_one_each_time(x):
        return gf.Variable(1.0) * x

    makes_one_each_time(gf.constant(1.0))
    with pytest.raises(ValueError, match="create a variable .* after its first trace"):
        makes_one_each_time(gf.constant([1.0, 2.0]))  # a new shape: a second trace


def test_methods_get_one_trace_cache_per_instance():
    class Model:
        def __init__(self, k):
            self.k = k

        @gf.function
        def apply(self, x):
            return x * self.k

    a, b = Model(2.0), Model(3.0)
    x = gf.constant([1.0])
    assert a.apply(x).numpy()[0] == 2.0 and b.apply(x).numpy()[0] == 3.0
    assert a.apply.experimental_get_tracing_count() == 1


def test_input_signature_with_unknown_dims_traces_once_and_refuses_other_inputs():
    w = gf.Variable(np.ones((3, 4), np.float32))

    @gf.function(input_signature=[gf.TensorSpec([None, 3], gf.float32)])
    def f(x):
        return gf.nn.relu(gf.matmul(x, w)) + 1.0

    assert f(gf.ones((2, 3))).shape == (2, 4)
    assert f(gf.ones((7, 3))).shape == (7, 4)
    assert f(np.ones((5, 3), np.float32)).shape == (5, 4)
    assert f.experimental_get_tracing_count() == 1
    assert "float32[?,4]" in str(f.get_concrete_function().graph)
    with pytest.raises(ValueError, match="incompatible with the input_signature"):
        f(gf.ones((2, 4)))
    with pytest.raises(ValueError, match="incompatible"):
        f(gf.ones((2, 3), dtype=gf.float64))
    with pytest.raises(TypeError, match="input_signature has 1 entries"):
        f(gf.ones((2, 3)), gf.ones((2, 3)))


def test_reduce_retracing_relaxes_the_varying_dims():
    f = gf.function(lambda x: x + 1.0, reduce_retracing=True)
    for n in (2, 3, 4, 5):
        np.testing.assert_allclose(f(gf.ones((n,))).numpy(), np.full(n, 2.0))
    assert f.experimental_get_tracing_count() == 2


def test_run_functions_eagerly():
    traces = []

    @gf.function
    def f(x):
        traces.append(1)
        return x + float(gf.reduce_sum(x))  # a host read: only possible eagerly

    gf.config.run_functions_eagerly(True)
    try:
        assert gf.config.functions_run_eagerly()
        f(gf.ones((2,)))
        f(gf.ones((2,)))
        assert len(traces) == 2 and f.experimental_get_tracing_count() == 0
    finally:
        gf.config.run_functions_eagerly(False)
    with pytest.raises(TypeError, match="symbolic tensor .* has no value yet"):
        f(gf.ones((2,)))


def test_concrete_function_and_its_graph():
    f = gf.function(lambda x: gf.reduce_sum(gf.exp(x), axis=1))
    concrete = f.get_concrete_function(gf.TensorSpec([4, 3], gf.float32))
    text = str(concrete.graph)
    assert "exp(%0)" in text and "float32[4,3]" in text and "reduce_sum" in text
    assert len(text.splitlines()) == 1 + len(concrete.graph.nodes) + len(concrete.graph.constants) + 1
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(concrete(gf.constant(x)).numpy(), np.exp(x).sum(1), rtol=1e-6)
    assert concrete.structured_input_signature[0][0] == gf.TensorSpec([4, 3], gf.float32)
    with pytest.raises(ValueError, match="does not match"):
        concrete(gf.ones((2, 3)))


def test_a_warning_names_the_argument_that_keeps_changing(caplog):
    f = gf.function(lambda x, scale: x * scale)
    x = gf.ones((2,))
    logger = logging.getLogger("gpuflow")  # it does not propagate: listen on it directly
    logger.addHandler(caplog.handler)
    try:
        for k in range(7):
            f(x, float(k))
    finally:
        logger.removeHandler(caplog.handler)
    messages = [r.getMessage() for r in caplog.records if "has been traced" in r.getMessage()]
    assert len(messages) == 2 and "argument 'scale'" in messages[0] and "traced 6 times" in messages[0]


def test_a_symbolic_tensor_kept_outside_its_trace_is_refused():
    kept = []

    @gf.function
    def f(x):
        kept.append(x)
        return x + 1.0

    f(gf.ones((2,)))
    with pytest.raises(gf.errors.InvalidArgumentError, match="symbolic tensor"):
        gf.exp(kept[0])


# ---- gradients ---------------------------------------------------------------------------------------------
def test_a_tape_inside_the_function_is_traced():
    w = gf.Variable(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32))

    @gf.function
    def grad(x):
        with gf.GradientTape() as tape:
            y = gf.reduce_sum(gf.matmul(x, w) ** 2)
        return tape.gradient(y, w)

    x = np.array([[1.0, 1.0]], np.float32)
    expected = 2 * x.T @ (x @ w.numpy())
    np.testing.assert_allclose(grad(gf.constant(x)).numpy(), expected)
    np.testing.assert_allclose(grad(gf.constant(x)).numpy(), expected)


def test_a_function_is_differentiated_from_outside():
    f = gf.function(lambda x, y: gf.reduce_sum(gf.sin(x) * y))
    x = gf.Variable(np.array([0.3, -1.2], np.float32))
    y = gf.constant([2.0, 3.0])
    f(x, y)  # traced before the tape
    with gf.GradientTape() as tape:
        out = f(x, y)
    np.testing.assert_allclose(tape.gradient(out, x).numpy(), np.cos(x.numpy()) * [2.0, 3.0], rtol=1e-6)


# ---- control flow ------------------------------------------------------------------------------------------
def test_cond_runs_only_the_branch_taken():
    hits = gf.Variable(0.0)

    @gf.function
    def f(x):
        def positive():
            hits.assign_add(1.0)
            return x * 2.0
        return gf.cond(gf.reduce_sum(x) > 0, positive, lambda: -x)

    np.testing.assert_allclose(f(gf.constant([1.0, 2.0])).numpy(), [2.0, 4.0])
    np.testing.assert_allclose(f(gf.constant([-1.0, -2.0])).numpy(), [1.0, 2.0])
    assert f.experimental_get_tracing_count() == 1 and float(hits) == 1.0
    assert gf.cond(gf.constant(False), lambda: 1, lambda: 2) == 2  # eager: plain Python


def test_cond_branches_must_agree():
    @gf.function
    def f(x):
        return gf.cond(x > 0, lambda: x, lambda: gf.cast(x, gf.float64))

    with pytest.raises(TypeError, match="float32 where false_fn returns float64"):
        f(gf.constant(1.0))


def test_cond_gradient_inside_a_function():
    @gf.function
    def grad(x):
        with gf.GradientTape() as tape:
            tape.watch(x)
            y = gf.cond(gf.reduce_sum(x) > 0, lambda: x * x, lambda: x * 3.0)
        return tape.gradient(y, x)

    np.testing.assert_allclose(grad(gf.constant([1.0, 2.0])).numpy(), [2.0, 4.0])
    np.testing.assert_allclose(grad(gf.constant([-1.0, -2.0])).numpy(), [3.0, 3.0])


def test_while_loop_in_a_function_and_eagerly():
    def total(n):
        return gf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + gf.cast(i, gf.float32)),
                             [gf.constant(0), gf.constant(0.0)])[1]

    f = gf.function(total)
    assert float(f(gf.constant(5))) == 10.0 and float(f(gf.constant(10))) == 45.0
    assert f.experimental_get_tracing_count() == 1
    assert float(total(gf.constant(5))) == 10.0
    capped = gf.function(lambda: gf.while_loop(lambda i: i < 100, lambda i: i + 1, gf.constant(0),
                                               maximum_iterations=7))
    assert int(capped()) == 7


def test_while_loop_body_must_keep_shapes():
    @gf.function
    def f():
        return gf.while_loop(lambda x: gf.reduce_sum(x) < 10.0, lambda x: gf.concat([x, x], 0), [gf.ones((1,))])

    with pytest.raises(ValueError, match="must keep each loop variable's dtype and shape"):
        f()


# ---- threads -----------------------------------------------------------------------------------------------
def test_a_tape_sees_only_its_own_threads_ops():
    main_var, worker_var = gf.Variable(1.0), gf.Variable(2.0)
    started, done = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with gf.GradientTape() as tape:
            started.set()
            for _ in range(200):
                worker_var * 3.0
            done.wait(5)
        seen["worker"] = tape.watched_variables()

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait(5)
    with gf.GradientTape() as tape:
        for _ in range(200):
            main_var * 2.0
    done.set()
    thread.join(10)
    assert [v is main_var for v in tape.watched_variables()] == [True]
    assert [v is worker_var for v in seen["worker"]] == [True]


def test_dataset_map_workers_never_reach_a_tape():
    v = gf.Variable(1.0)
    ds = gf.data.Dataset.range(64).map(lambda i: gf.cast(i, gf.float32) * v, num_parallel_calls=4)
    with gf.GradientTape() as tape:
        total = sum(float(x) for x in ds)
    assert total == sum(range(64)) and tape.watched_variables() == ()


@pytest.mark.parametrize("use_while", [False, True])
def test_a_variable_assigned_in_control_flow_is_read_afresh_after_it(use_while):
    v = gf.Variable(1.0)

    def f(p):
        before = v * 2.0
        if use_while:
            gf.while_loop(lambda i: i < 2, lambda i: (v.assign_add(0.5), i + 1)[1], [gf.constant(0)])
        else:
            gf.cond(p, lambda: v.assign_add(1.0), lambda: v.assign_add(0.0))
        return before, v * 2.0

    before, after = gf.function(f)(gf.constant(True))
    assert (float(before), float(after)) == (2.0, 4.0)
