"""Constant folding: pure nodes on constants run once at plan time, chains included, on the node's own device;
large broadcasts, effects, check_numerics and nodes that fail now stay nodes."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.graph.passes.fold import LARGE, fold_constants
from gpuflow.runtime import counters
from pass_graphs import prims, run, snapshot, traced

SPEC = gf.TensorSpec([4], gf.float32)
X = [1.0, 2.0, 3.0, 4.0]


def seed_times(x):
    """The shape of a loss's gradient seed: 1 / n reshaped and broadcast over the batch, then used."""
    seed = gf.broadcast_to(gf.reshape(gf.constant(1.0) / gf.constant(128.0), [1]), [4])
    return x * seed


def test_a_chain_on_constants_folds_to_one_constant(device):
    graph = traced(seed_times, SPEC)
    before = snapshot(graph)
    out = fold_constants(graph)
    assert prims(graph) == ["divide", "reshape", "broadcast_to", "multiply"]
    assert prims(out) == ["multiply"]
    (node,) = out.nodes
    folded = out.constants[node.inputs[1].index]
    assert folded.device == gf.constant(0.0).device  # computed on the node's device, not on cpu
    np.testing.assert_array_equal(folded.numpy(), np.full(4, 1 / 128, np.float32))
    assert snapshot(graph) == before
    x = gf.constant(X)
    np.testing.assert_array_equal(run(out, x)[0], run(graph, x)[0])


def test_folding_runs_at_plan_time_so_a_step_launches_less(device):
    x = gf.constant(X)
    graph = traced(seed_times, SPEC)
    out = fold_constants(graph)
    launches = []
    for g in (graph, out):
        run(g, x)  # the first run may compile kernels: count the second
        with counters.measure() as m:
            run(g, x)
        launches.append(m.delta["launches"])
    assert launches[1] == 1 < launches[0]  # the multiply only (sim's reshape is a view: no launch to save)


def test_a_large_broadcast_of_a_small_constant_stays_a_node():
    side = 300  # 90000 elements > LARGE: a kernel per step is cheaper than holding them

    def f(x):
        big = gf.broadcast_to(gf.constant(2.0), [side, side])
        return gf.reduce_sum(big) * x
    assert side * side > LARGE
    out = fold_constants(traced(f, SPEC))
    assert prims(out) == ["broadcast_to", "reduce_sum", "multiply"]
    np.testing.assert_array_equal(run(out, gf.constant(X))[0], np.float32(X) * 2 * side * side)


def test_a_large_result_no_bigger_than_its_inputs_folds():
    big = gf.constant(np.arange(LARGE + 10, dtype=np.float32))

    def f(x):
        return gf.reduce_sum(big * 2.0) + x
    out = fold_constants(traced(f, SPEC))
    assert prims(out) == ["add"]
    np.testing.assert_allclose(run(out, gf.constant(X))[0], np.float32(X) + 2 * big.numpy().sum(), rtol=1e-6)


def test_effects_and_reads_are_never_folded():
    v = gf.Variable(5.0)

    def f(x):
        v.assign(gf.constant(2.0) * 3.0)  # the multiply folds, the assign stays
        return x * v.read_value()
    out = fold_constants(traced(f, SPEC))
    assert prims(out) == ["assign_variable", "multiply"]
    v.assign(0.0)
    np.testing.assert_array_equal(run(out, gf.constant(X))[0], np.float32(X) * 6)
    assert v.numpy() == 6.0


def test_check_numerics_on_a_constant_raises_when_the_step_runs_not_when_it_is_planned():
    def f(x):
        return x + gf.debugging.check_numerics(gf.constant(np.nan) * 1.0, "bad constant")
    out = fold_constants(traced(f, SPEC))
    assert prims(out) == ["check_numerics", "add"]
    with pytest.raises(gf.errors.InvalidArgumentError, match="bad constant"):
        run(out, gf.constant(X))


def test_a_node_that_fails_now_stays_and_fails_in_the_step():
    def f(x):
        return x + gf.reduce_sum(gf.gather(gf.constant([1.0, 2.0]), gf.constant([5])))
    out = fold_constants(traced(f, SPEC))  # no error here
    assert "gather" in prims(out)
    with pytest.raises(gf.errors.InvalidArgumentError, match="out of range"):
        run(out, gf.constant(X))


def test_random_draws_fed_each_call_do_not_fold():
    def f(x):
        return x + gf.random.uniform([4])
    out = fold_constants(traced(f, SPEC))
    assert "random_uniform" in prims(out)


def test_folds_inside_cond_branches():
    def f(x):
        return gf.cond(gf.reduce_sum(x) > 0.0, lambda: x * (gf.constant(2.0) + 1.0), lambda: x)
    out = fold_constants(traced(f, SPEC))
    (node,) = [n for n in out.nodes if n.prim.name == "cond"]
    assert prims(node.params["branches"][0]) == ["multiply"]
    np.testing.assert_array_equal(run(out, gf.constant(X))[0], np.float32(X) * 3)


def test_the_mlp_train_step_gradient_seed_folds():
    """The issue's case: in the bench MLP's traced train step, divide(1, n) → reshape → broadcast_to on constants."""
    keras = gf.keras
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(5, activation="relu"), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    x, y = np.ones((8, 6), np.float32), np.zeros(8, np.int32)
    model.train_on_batch(x, y)
    (concrete,) = model.make_train_function().concrete_functions
    graph = concrete.graph
    out = fold_constants(graph)
    assert prims(graph).count("broadcast_to") == 1 and prims(graph).count("reshape") == 1
    assert "broadcast_to" not in prims(out) and "reshape" not in prims(out)
    assert prims(out).count("divide") == prims(graph).count("divide") - 1
