"""Common-subexpression elimination: equal pure computations merge; effects, control flow, check_numerics,
reads across an assign and distinct random draws never do; params compare by value and type, safely."""
import io

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.graph.ir import ASSIGN, PRINT, READ
from gpuflow.graph.passes.cse import eliminate_common_subexpressions as cse
from gpuflow.graph.passes.cse import params_key
from gpuflow.ops.dispatch import PRIMITIVES
from gpuflow.ops.random_prims import random_uniform
from gpuflow.tensor import TensorShape
from pass_graphs import Builder, prims, run, snapshot, traced

SPEC = gf.TensorSpec([4], gf.float32)
X = [1.0, 2.0, 3.0, 4.0]


def test_merges_equal_computations_and_keeps_the_values(device):
    def f(x):
        return gf.exp(x * 2.0) + gf.exp(x * 2.0)
    graph = traced(f, SPEC)
    before = snapshot(graph)
    out = cse(graph)
    assert prims(graph) == ["multiply", "exp", "multiply", "exp", "add"]
    assert prims(out) == ["multiply", "exp", "add"]
    (add,) = [n for n in out.nodes if n.prim.name == "add"]
    assert add.inputs[0] is add.inputs[1]
    assert snapshot(graph) == before
    x = gf.constant(X)
    np.testing.assert_array_equal(run(out, x)[0], run(graph, x)[0])


def test_different_params_or_inputs_do_not_merge():
    def f(x):
        m = gf.reshape(x, [2, 2])
        return gf.reduce_sum(m, axis=0), gf.reduce_sum(m, axis=1), gf.reduce_sum(m, axis=0, keepdims=True), x + 1.0, \
            x + 2.0
    out = cse(traced(f, SPEC))
    assert prims(out).count("reduce_sum") == 3 and prims(out).count("add") == 2
    got = run(out, gf.constant(X))
    np.testing.assert_array_equal(got[0], [4.0, 6.0])
    np.testing.assert_array_equal(got[1], [3.0, 7.0])


def test_graph_outputs_are_renamed_to_the_kept_value():
    def f(x):
        return gf.exp(x), gf.exp(x)
    graph = traced(f, SPEC)
    out = cse(graph)
    assert prims(out) == ["exp"] and out.outputs[0] is out.outputs[1]
    assert out.outputs[0].index in out.devices
    a, b = run(out, gf.constant(X))
    np.testing.assert_array_equal(a, np.exp(np.float32(X)))
    np.testing.assert_array_equal(a, b)


def test_small_constants_of_equal_value_merge_first():
    def f(x):
        # two captured constants of one value: their multiplies then merge too; a float64 3.0 stays apart
        return x * gf.constant(3.0) + x * gf.constant(3.0), gf.cast(x, gf.float64) * gf.constant(3.0, gf.float64)
    graph = traced(f, SPEC)
    out = cse(graph)
    assert len(graph.constants) == 3 and prims(graph).count("multiply") == 3
    assert prims(out).count("multiply") == 2
    np.testing.assert_array_equal(run(out, gf.constant(X))[0], np.float32(X) * 6)


def test_effects_never_merge(device):
    v = gf.Variable(gf.zeros([4]))
    stream = io.StringIO()

    def f(x):
        y = x * 2.0
        gf.print(y, output_stream=stream)
        gf.print(y, output_stream=stream)
        v.assign(y)
        v.assign(y)
        return v.read_value()
    graph = traced(f, SPEC)
    out = cse(graph)
    assert [n.prim for n in out.nodes].count(PRINT) == 2 and [n.prim for n in out.nodes].count(ASSIGN) == 2
    run(out, gf.constant(X))
    assert stream.getvalue().count("[2. 4. 6. 8.]") == 2


def test_reads_across_an_assign_of_their_variable_stay_apart(device):
    """read v; v := x; read v: each read and what it feeds stays (READs are effects: never merged)."""
    v = gf.Variable([10.0, 20.0, 30.0, 40.0])
    b = Builder(v._device)
    x = b.input([4])
    two = b.constant(2.0)
    var = b.variable(v)
    spec = [((4,), gf.float32)]
    first = b.node(READ, out=spec, var=var)
    before = b.node(PRIMITIVES["multiply"], first, two, out=spec)
    b.node(ASSIGN, x, var=var)
    second = b.node(READ, out=spec, var=var)
    after = b.node(PRIMITIVES["multiply"], second, two, out=spec)
    graph = b.returns(before, after)
    out = cse(graph)
    assert prims(out) == prims(graph)
    old, new = run(out, gf.constant(X))
    np.testing.assert_array_equal(old, [20.0, 40.0, 60.0, 80.0])
    np.testing.assert_array_equal(new, np.float32(X) * 2)


def test_control_flow_and_check_numerics_never_merge():
    def f(x):
        p = gf.reduce_sum(x) > 0.0
        a = gf.cond(p, lambda: x * 2.0, lambda: x)
        b = gf.cond(p, lambda: x * 2.0, lambda: x)
        return gf.debugging.check_numerics(a, "a") + gf.debugging.check_numerics(a, "a") + b
    out = cse(traced(f, SPEC))
    assert prims(out).count("cond") == 2 and prims(out).count("check_numerics") == 2
    np.testing.assert_array_equal(run(out, gf.constant(X))[0], np.float32(X) * 6)


def test_distinct_random_draws_stay_apart(device):
    def f():
        return gf.random.uniform([4]), gf.random.uniform([4])  # each draw has an offset feed of its own
    graph = traced(f)
    out = cse(graph)
    assert prims(out).count("random_uniform") == 2
    a, b = run(out)
    assert not np.array_equal(a, b)


def test_a_draw_repeated_with_the_same_offset_and_key_is_one_draw(device):
    def f(offset):
        params = dict(shape=(4,), dtype=gf.float32, key=99)
        return random_uniform(offset, **params), random_uniform(offset, **params), \
            random_uniform(offset, **{**params, "key": 100})
    graph = traced(f, gf.TensorSpec([], gf.int64))
    out = cse(graph)
    assert prims(out).count("random_uniform") == 2
    offset = gf.constant(5, dtype=gf.int64)
    same, again, other = run(out, offset)
    np.testing.assert_array_equal(same, again)
    np.testing.assert_array_equal(same, run(graph, offset)[1])  # what the unmerged second draw gives
    assert not np.array_equal(same, other)


def test_runs_inside_cond_branches():
    def f(x):
        return gf.cond(gf.reduce_sum(x) > 0.0, lambda: gf.exp(x) * gf.exp(x), lambda: x)
    out = cse(traced(f, SPEC))
    (node,) = [n for n in out.nodes if n.prim.name == "cond"]
    assert prims(node.params["branches"][0]) == ["exp", "multiply"]
    np.testing.assert_allclose(run(out, gf.constant(X))[0], np.exp(np.float32(X)) ** 2, rtol=1e-6)


@pytest.mark.parametrize("a, b", [(1, 1.0), (1, True), (0.0, -0.0), ((1, 2), [1, 2]), ((1, 2), TensorShape([1, 2])),
                                  (np.zeros(3), np.zeros(4)), (np.zeros(3, np.float32), np.zeros(3, np.float64)),
                                  ({"a": 1}, {"a": 2}), (object(), object()), (gf.float32, gf.float64)])
def test_params_that_differ_have_different_keys(a, b):
    assert params_key(a) != params_key(b)


@pytest.mark.parametrize("make", [lambda: 1.5, lambda: float("nan"), lambda: (1, (2, 3)), lambda: [1, [2]],
                                  lambda: np.arange(6).reshape(2, 3), lambda: np.float32(2), lambda: {"b": 1, "a": [2]},
                                  lambda: gf.int64, lambda: None, lambda: "relu"])
def test_equal_params_have_equal_hashable_keys(make):
    assert params_key(make()) == params_key(make())
    hash(params_key(make()))  # lists, dicts and arrays included


def test_an_arbitrary_object_is_equal_only_to_itself():
    thing = object()
    assert params_key(thing) == params_key(thing)
