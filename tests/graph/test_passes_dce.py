"""Dead-code elimination: what it drops (pure work nothing uses, unused constants) and what it keeps (effects,
control flow, check_numerics, multi-output nodes with one output used), on traced and hand-built graphs."""
import io

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.graph.ir import ASSIGN, READ
from gpuflow.graph.passes.dce import eliminate_dead_code
from pass_graphs import prims, run, snapshot, traced

SPEC = gf.TensorSpec([4], gf.float32)


def test_drops_what_reaches_no_output_and_keeps_the_values(device):
    def f(x):
        unused = gf.exp(x) * 3.0  # two nodes and a constant nobody needs
        del unused
        return gf.sqrt(x) + 1.0
    graph = traced(f, SPEC)
    before = snapshot(graph)
    out = eliminate_dead_code(graph)
    assert prims(graph) == ["exp", "multiply", "sqrt", "add"]
    assert prims(out) == ["sqrt", "add"]
    assert len(out.constants) == 1 and len(graph.constants) == 2  # 3.0 went with its multiply
    assert snapshot(graph) == before  # a pass never touches its argument
    x = gf.constant([1.0, 4.0, 9.0, 16.0])
    np.testing.assert_array_equal(run(out, x)[0], run(graph, x)[0])


def test_keeps_effects_and_what_they_use_in_order(device):
    v = gf.Variable(gf.zeros([4]))
    w = gf.Variable(1.0)

    def f(x):
        v.assign(x * 2.0)            # assigned, never returned: the multiply stays
        w.read_value()               # a read nobody uses: an effect, stays
        gf.print(gf.reduce_sum(x), output_stream=io.StringIO())
        v.assign(v + 1.0)            # a second assign of the same variable, after the first
        return gf.constant(0.0)
    graph = traced(f, SPEC)
    out = eliminate_dead_code(graph)
    assert prims(out) == prims(graph)
    effects = [(n.prim.name, n.params.get("var")) for n in out.nodes if n.prim in (READ, ASSIGN)]
    assert effects == [(n.prim.name, n.params.get("var")) for n in graph.nodes if n.prim in (READ, ASSIGN)]
    run(out, gf.constant([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(v.numpy(), [3.0, 5.0, 7.0, 9.0])


def test_keeps_check_numerics_whose_result_is_unused():
    def f(x):
        gf.debugging.check_numerics(gf.math.log(x), "log of x")
        return x + 1.0
    out = eliminate_dead_code(traced(f, SPEC))
    assert prims(out) == ["log", "check_numerics", "add"]
    with pytest.raises(gf.errors.InvalidArgumentError, match="log of x"):
        run(out, gf.constant([-1.0, 1.0, 2.0, 3.0]))


def test_a_node_stays_when_any_of_its_outputs_is_used():
    graph = traced(gf.argsort, SPEC)  # sort_with_indices: (values, indices), only the indices returned
    out = eliminate_dead_code(graph)
    assert prims(out) == prims(graph) and "sort_with_indices" in prims(out)
    np.testing.assert_array_equal(run(out, gf.constant([3.0, 1.0, 2.0, 0.0]))[0], [3, 1, 2, 0])


def test_outputs_that_are_inputs_or_constants_survive():
    c = gf.constant(7.0)

    def f(x):
        gf.exp(x)
        return x, c
    out = eliminate_dead_code(traced(f, SPEC))
    assert prims(out) == [] and len(out.constants) == 1
    x = gf.constant([1.0, 2.0, 3.0, 4.0])
    got = run(out, x)
    np.testing.assert_array_equal(got[0], x.numpy())
    assert got[1] == 7.0


def test_runs_inside_cond_branches_and_keeps_the_cond(device):
    def f(x):
        def yes():
            gf.exp(x)  # dead inside the branch
            return x * 2.0

        def no():
            gf.sin(x)
            return x - 1.0
        return gf.cond(gf.reduce_sum(x) > 0.0, yes, no)
    graph = traced(f, SPEC)
    out = eliminate_dead_code(graph)
    (node,) = [n for n in out.nodes if n.prim.name == "cond"]
    assert [prims(g) for g in node.params["branches"]] == [["multiply"], ["subtract"]]
    (traced_node,) = [n for n in graph.nodes if n.prim.name == "cond"]
    assert [prims(g) for g in traced_node.params["branches"]] == [["exp", "multiply"], ["sin", "subtract"]]
    for values in ([1.0, 2.0, 3.0, 4.0], [-1.0, -2.0, -3.0, -4.0]):
        x = gf.constant(values)
        np.testing.assert_array_equal(run(out, x)[0], run(graph, x)[0])


def test_keeps_a_cond_whose_outputs_are_unused():
    v = gf.Variable(0.0)

    def f(x):
        gf.cond(gf.reduce_sum(x) > 0.0, lambda: v.assign_add(1.0), lambda: v.assign_add(-1.0))
        return x
    out = eliminate_dead_code(traced(f, SPEC))
    assert "cond" in prims(out)
    run(out, gf.constant([1.0, 1.0, 1.0, 1.0]))
    assert v.numpy() == 1.0
