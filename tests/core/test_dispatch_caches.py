"""The caches on the eager hot path give the same answers as the uncached code.

bind caches infer's specs per primitive, math.operands reuses the tensors of Python numbers,
and Layer._tracked_values remembers which attributes can hold layers. Each must behave exactly
as recomputing would, including errors and the cases where Python calls different values equal.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.errors import InvalidArgumentError
from gpuflow.ops import dispatch
from gpuflow.ops import elementwise as ew
from gpuflow.ops import math as gmath


def test_infer_cache_still_raises_after_a_good_call():
    a = gf.constant(np.ones((2, 3), np.float32))
    b = gf.constant(np.ones((3,), np.float32))
    assert gf.add(a, b).shape == (2, 3)
    assert gf.add(a, b).shape == (2, 3)  # served from the cache
    bad = gf.constant(np.ones((4,), np.float32))
    for _ in range(2):  # failures are never cached: the second call raises too
        with pytest.raises(InvalidArgumentError, match="add: shapes"):
            gf.add(a, bad)
    with pytest.raises(InvalidArgumentError, match="different dtypes"):
        gf.add(a, gf.constant(np.ones((3,), np.float64)))


def test_infer_cache_keys_by_param_type_and_shape():
    x = gf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert gf.reduce_sum(x, axis=1).shape == (2,)
    assert gf.reduce_sum(x, axis=1, keepdims=True).shape == (2, 1)
    assert gf.reduce_sum(x, axis=0).shape == (3,)
    y = gf.constant(np.arange(12, dtype=np.float32).reshape(3, 4))
    assert gf.reduce_sum(y, axis=1).shape == (3,)  # same params, other input shape
    assert gf.reshape(x, (3, 2)).shape == (3, 2)
    assert gf.reshape(x, (6,)).shape == (6,)
    assert dispatch._param_key(1) != dispatch._param_key(1.0) != dispatch._param_key(True)
    assert dispatch._param_key((1, 2)) == dispatch._param_key((1, 2))


def test_infer_cache_skips_unhashable_params_and_stays_bounded():
    prim = ew.unary["relu"]
    prim.specs.clear()
    x = gf.constant(np.ones((2,), np.float32))
    for n in range(dispatch.SPEC_CACHE_SIZE + 10):
        gf.reshape(gf.constant(np.ones((n + 1,), np.float32)), (n + 1, 1))
    assert len(gf.ops.movement.reshape.specs) <= dispatch.SPEC_CACHE_SIZE
    with pytest.raises(dispatch._Uncacheable):
        dispatch._param_key([1, 2])
    gf.nn.relu(x)
    assert len(prim.specs) == 1


@pytest.mark.parametrize("value", [0.0, -0.0, 1, 1.0, True, 2.5, -3])
def test_python_scalars_convert_as_before(value):
    like = gf.constant(np.ones((2,), np.float32))
    _, t = gmath.operands(like, value)
    expected = gmath._convert_like(value, like)  # the uncached conversion
    assert t.dtype == expected.dtype and t.device == like.device
    np.testing.assert_array_equal(t.numpy(), expected.numpy())
    assert math.copysign(1.0, float(t.numpy())) == math.copysign(1.0, float(value))


def test_scalar_cache_separates_signed_zero_types_dtypes_and_nan():
    f32 = gf.constant(np.ones((2,), np.float32))
    f16 = gf.constant(np.ones((2,), np.float16))
    i32 = gf.constant(np.ones((2,), np.int32))
    assert gf.divide(f32, 0.0).numpy().tolist() == [np.inf, np.inf]
    assert gf.divide(f32, -0.0).numpy().tolist() == [-np.inf, -np.inf]
    assert (f16 * 2.0).dtype == gf.float16 and (f32 * 2.0).dtype == gf.float32
    assert (i32 * 2).dtype == gf.int32 and gmath.operands(i32, True)[1].dtype == gf.bool
    assert np.isnan((f32 + float("nan")).numpy()).all()
    with pytest.raises(InvalidArgumentError):
        i32 * 2.5  # a fraction does not become an int, cached or not
    with pytest.raises(InvalidArgumentError):
        i32 * 2.5


def test_cached_scalar_is_shared_but_immutable():
    like = gf.constant(np.ones((2,), np.float32))
    a = gmath.operands(like, 3.0)[1]
    b = gmath.operands(like, 3.0)[1]
    assert a is b
    with pytest.raises(ValueError):
        a._data[...] = 7  # nothing may write into a buffer that other expressions share
    assert float(a.numpy()) == 3.0


def test_scalar_cache_respects_device(device):
    with gf.device(device):
        x = gf.constant(np.ones((2,), np.float32))
    y = x * 4.0
    assert y.device == x.device
    np.testing.assert_array_equal(y.numpy(), [4.0, 4.0])


def test_tape_records_variables_watched_explicitly_and_by_access():
    v = gf.Variable(np.float32(2.0))
    w = gf.Variable(np.float32(3.0), trainable=False)
    with gf.GradientTape() as tape:
        tape.watch(v)
        y = v * v + w * v
    assert [u is v for u in tape.watched_variables()] == [True]
    (g,) = tape.gradient(y, [v])
    assert float(g.numpy()) == pytest.approx(2 * 2.0 + 3.0)


def test_map_structure_single_and_nested():
    assert gf.nest.map_structure(lambda a: a + 1, 1) == 2
    assert gf.nest.map_structure(lambda a: a * 2, {"b": [1, (2,)], "a": 3}) == {"a": 6, "b": [2, (4,)]}
    with pytest.raises(ValueError, match="structures differ"):
        gf.nest.map_structure(lambda a, b: a, [1], [1, 2])


def test_layer_tracking_sees_every_change():
    keras = gf.keras

    class Block(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.parts = []
            self.extra = None

        def call(self, x):
            for p in self.parts:
                x = p(x)
            return x

    block = Block()
    assert block._flatten_layers(include_self=False) == []
    d1 = keras.layers.Dense(2)
    block.parts.append(d1)  # a list appended to after assignment
    assert block._flatten_layers(include_self=False) == [d1]
    d2 = keras.layers.Dense(3)
    block.extra = d2  # None replaced by a layer: same name, new type
    assert block._flatten_layers(include_self=False) == [d1, d2]
    block.parts[0] = d3 = keras.layers.Dense(4)  # replaced inside the list
    assert block._flatten_layers(include_self=False) == [d3, d2]
    block.__dict__["sneaky"] = {"k": d1}  # even past __setattr__
    assert block._flatten_layers(include_self=False) == [d3, d2, d1]
    del block.extra
    assert block._flatten_layers(include_self=False) == [d3, d1]
    block(gf.constant(np.ones((1, 5), np.float32)))
    assert len(block.trainable_weights) == 2
    d3.trainable = False
    assert len(block.trainable_weights) == 0 and len(block.non_trainable_weights) == 2
    assert "_tracking_plan_cache" not in [k for k in block.get_config()]


class _Counter:
    """A trace that counts calls per primitive name, then passes them down."""

    def __init__(self):
        self.calls = {}

    def process(self, prim, inputs, params, device, level):
        self.calls[prim.name] = self.calls.get(prim.name, 0) + 1
        return dispatch.bind_below(level, prim, inputs, params, device)


def _count(fn):
    counter = _Counter()
    dispatch.trace_stack().append(counter)
    try:
        result = fn()
    finally:
        dispatch.trace_stack().remove(counter)
    return result, counter.calls


def test_unneeded_input_gradients_are_not_computed():
    rng = np.random.default_rng(0)
    data = gf.constant(rng.standard_normal((4, 5)).astype(np.float32))
    w = gf.Variable(rng.standard_normal((5, 3)).astype(np.float32))
    with gf.GradientTape(persistent=True) as tape:
        y = gf.reduce_sum(gf.matmul(data, w) * 2.0)
    (gw,), calls = _count(lambda: tape.gradient(y, [w]))
    assert calls.get("matmul") == 1  # only d/dw: the data's gradient would be dropped
    np.testing.assert_allclose(gw.numpy(), 2.0 * data.numpy().T @ np.ones((4, 3), np.float32), rtol=1e-5)
    # watched explicitly, the data gets its gradient too, and the same d/dw
    with gf.GradientTape() as tape:
        tape.watch(data)
        y = gf.reduce_sum(gf.matmul(data, w) * 2.0)
    (gd, gw2), calls = _count(lambda: tape.gradient(y, [data, w]))
    assert calls.get("matmul") == 2
    np.testing.assert_allclose(gd.numpy(), 2.0 * np.ones((4, 3), np.float32) @ w.numpy().T, rtol=1e-5)
    np.testing.assert_allclose(gw2.numpy(), gw.numpy(), rtol=1e-6)


def test_grad_rules_called_outside_a_tape_compute_every_gradient():
    from gpuflow.ops import linalg_prims
    a = gf.constant(np.ones((2, 3), np.float32))
    b = gf.constant(np.ones((3, 4), np.float32))
    g = gf.constant(np.ones((2, 4), np.float32))
    ga, gb = linalg_prims.matmul.grad(g, None, a, b, transpose_a=False, transpose_b=False)
    assert ga.shape == (2, 3) and gb.shape == (3, 4)


def test_second_order_gradient_through_skipping_rules():
    x = gf.Variable(np.float32(3.0))
    c = gf.constant(np.float32(5.0))
    with gf.GradientTape() as outer:
        with gf.GradientTape() as inner:
            y = x * x * c
        dy = inner.gradient(y, x)  # 2 x c
    d2y = outer.gradient(dy, x)  # 2 c
    assert float(dy.numpy()) == pytest.approx(30.0) and float(d2y.numpy()) == pytest.approx(10.0)


def test_numpy_backend_quiet_matches_errstate_and_restores():
    import warnings
    from gpuflow.backend.numpy._registry import quiet
    before = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning would fail the test
        with quiet():
            with quiet():  # nests
                np.log(np.zeros(2, np.float32))
            np.float32(1e38) * np.float32(1e38)
            assert set(np.geterr().values()) == {"ignore"}
        x = gf.constant(np.array([0.0, -1.0], np.float32))
        assert np.isneginf(gf.math.log(x).numpy()[0]) and np.isnan(gf.math.log(x).numpy()[1])
    assert np.geterr() == before
    with pytest.raises(ZeroDivisionError):
        with quiet():
            raise ZeroDivisionError
    assert np.geterr() == before


def test_grad_rule_skips_do_not_leak_into_a_nested_call_of_the_same_rule():
    from gpuflow.ops import linalg_prims
    a = gf.constant(np.ones((2, 3), np.float32))
    b = gf.constant(np.ones((3, 4), np.float32))
    g = gf.constant(np.ones((2, 4), np.float32))
    seen = []
    # as if a tape were running the matmul rule with input 0 dropped ...
    dispatch._rule_call.skip = (linalg_prims.matmul.grad, [0])
    try:
        seen.append(dispatch.grad_needed(linalg_prims.matmul.grad, 0))
        # ... and that rule ran the same rule again, for a call whose gradients are all kept
        ga, gb = dispatch.call_grad_rule(linalg_prims.matmul, [], g, None, a, b, transpose_a=False,
                                         transpose_b=False)
        seen.append(dispatch.grad_needed(linalg_prims.matmul.grad, 0))
    finally:
        dispatch._rule_call.skip = None
    assert ga is not None and ga.shape == (2, 3) and gb.shape == (3, 4)  # the inner call computed both
    assert seen == [False, False]  # and the outer call's skips are back afterwards
