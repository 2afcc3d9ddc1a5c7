"""TF's functional ops (map_fn, vectorized_map, scan, foldl, foldr) and multi-way branches (case, switch_case):
results against Python references, eagerly and inside a gf.function (equal), with nests, empty inputs and
gradients; and the errors."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError


def _both(fn, *args):
    """fn(*args) eagerly and as a gf.function, which must agree; returns the eager result."""
    eager = fn(*args)
    traced = gf.function(fn)(*args)
    for e, t in zip(gf.nest.flatten(eager), gf.nest.flatten(traced)):
        np.testing.assert_array_equal(np.asarray(e), np.asarray(t))
    return eager


def test_map_fn_over_a_nest(device):
    x = gf.constant(np.arange(12.0).reshape(4, 3))
    y = gf.constant(np.arange(4, dtype=np.int32))
    out = _both(lambda a, b: gf.map_fn(lambda row: {"sum": gf.reduce_sum(row[0]), "shifted": row[1] + 1}, (a, b)),
                x, y)
    np.testing.assert_array_equal(out["sum"].numpy(), [3.0, 12.0, 21.0, 30.0])
    np.testing.assert_array_equal(out["shifted"].numpy(), [1, 2, 3, 4])
    np.testing.assert_array_equal(gf.vectorized_map(lambda r: r * 2.0, x).numpy(), x.numpy() * 2)


def test_map_fn_gradients_and_empty_inputs():
    x = gf.constant(np.arange(6.0).reshape(3, 2))
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = gf.reduce_sum(gf.function(lambda t: gf.map_fn(lambda r: gf.reduce_sum(r * r), t))(x))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), 2 * x.numpy())
    assert gf.map_fn(lambda r: r * 2.0, gf.zeros((0, 5))).shape == (0, 5)
    empty = gf.map_fn(lambda r: gf.reduce_sum(r), gf.zeros((0, 5)), fn_output_signature=gf.TensorSpec([], gf.float32))
    assert empty.shape == (0,)
    with pytest.raises(InvalidArgumentError, match="map_fn: every tensor of elems needs the same length"):
        gf.map_fn(lambda r: r, (gf.zeros((2, 1)), gf.zeros((3, 1))))


@pytest.mark.parametrize("reverse", [False, True])
def test_scan(device, reverse):
    elems = np.array([1.0, 2.0, 3.0, 4.0])
    order = elems[::-1] if reverse else elems
    running = np.cumsum(order)
    expected = running[::-1] if reverse else running
    got = _both(lambda t: gf.scan(lambda acc, v: acc + v, t, reverse=reverse), gf.constant(elems))
    np.testing.assert_array_equal(got.numpy(), expected)
    with_init = _both(lambda t: gf.scan(lambda acc, v: (acc[0] + v, acc[1] * v), t, initializer=(
        gf.constant(10.0, gf.float64), gf.constant(1.0, gf.float64)), reverse=reverse), gf.constant(elems))
    sums, products = 10 + np.cumsum(order), np.cumprod(order)
    np.testing.assert_array_equal(with_init[0].numpy(), sums[::-1] if reverse else sums)
    np.testing.assert_array_equal(with_init[1].numpy(), products[::-1] if reverse else products)


def test_folds():
    v = gf.constant([1.0, 2.0, 3.0])
    assert float(_both(lambda t: gf.foldl(lambda a, x: a * 2.0 + x, t), v)) == 11.0   # (1*2+2)*2+3
    assert float(_both(lambda t: gf.foldr(lambda a, x: a * 2.0 + x, t), v)) == 17.0   # (3*2+2)*2+1
    assert float(gf.foldl(lambda a, x: a - x, v, initializer=gf.constant(10.0))) == 4.0
    with pytest.raises(InvalidArgumentError, match="foldl: elems is empty and there is no initializer"):
        gf.foldl(lambda a, x: a + x, gf.zeros((0,)))
    with pytest.raises(InvalidArgumentError, match="scan: elems is empty and there is no initializer"):
        gf.scan(lambda a, x: a + x, gf.zeros((0,)))


def test_switch_case_eagerly_and_traced():
    branches = [lambda: gf.constant(10.0), lambda: gf.constant(20.0), lambda: gf.constant(30.0)]
    assert [float(gf.switch_case(k, branches)) for k in (0, 2, 9)] == [10.0, 30.0, 30.0]  # out of range: last
    traced = gf.function(lambda i: gf.switch_case(i, branches, default=lambda: gf.constant(-1.0)))
    assert [float(traced(gf.constant(k))) for k in (0, 1, 2, 7, -1)] == [10.0, 20.0, 30.0, -1.0, -1.0]
    keyed = {4: lambda: gf.constant(4), 1: lambda: gf.constant(1)}
    assert int(gf.switch_case(gf.constant(4), keyed)) == 4
    assert int(gf.switch_case(2, [(2, lambda: gf.constant(2)), (5, lambda: gf.constant(5))])) == 2
    with pytest.raises(TypeError, match="switch_case: branch_fns must be"):
        gf.switch_case(0, [])
    with pytest.raises(InvalidArgumentError, match="branch_index must be a scalar integer tensor"):
        gf.function(lambda i: gf.switch_case(i, branches))(gf.constant([0, 1]))


def test_case_eagerly_and_traced():
    def pick(v):
        return gf.case([(v < 0, lambda: -v), (v > 10, lambda: v - 10.0)], default=lambda: v * 0.0)
    assert [float(pick(gf.constant(k))) for k in (-3.0, 15.0, 5.0)] == [3.0, 5.0, 0.0]
    traced = gf.function(pick)
    assert [float(traced(gf.constant(k))) for k in (-3.0, 15.0, 5.0)] == [3.0, 5.0, 0.0]
    # no default: the last pair's fn runs when nothing is true
    assert float(gf.case([(False, lambda: gf.constant(1.0)), (False, lambda: gf.constant(2.0))])) == 2.0
    with pytest.raises(InvalidArgumentError, match="case: exclusive=True but predicates \\[0, 1\\]"):
        gf.case([(True, lambda: gf.constant(1.0)), (True, lambda: gf.constant(2.0))], exclusive=True)
