"""GradientTape semantics, following TensorFlow."""
import numpy as np
import pytest

import gpuflow as gf


def test_trainable_variables_are_watched_automatically(device):
    w = gf.Variable([[1.0, 2.0], [3.0, 4.0]])
    frozen = gf.Variable([1.0, 1.0], trainable=False)
    x = gf.constant([[1.0, 1.0]])
    with gf.GradientTape() as tape:
        y = gf.reduce_sum(gf.matmul(x, w) * frozen)
    gw, gf_ = tape.gradient(y, [w, frozen])
    np.testing.assert_allclose(gw.numpy(), np.ones((2, 2)))
    assert gf_ is None
    assert tape.watched_variables() == (w,)


def test_watch_constants_and_nested_sources():
    x = gf.constant(3.0)
    y = gf.constant(2.0)
    with gf.GradientTape() as tape:
        tape.watch([x, y])
        z = x * x * y
    grads = tape.gradient(z, {"x": x, "pair": (y, x)})
    assert float(grads["x"]) == 12.0 and float(grads["pair"][0]) == 9.0 and float(grads["pair"][1]) == 12.0


def test_non_persistent_tape_can_be_used_once():
    x = gf.Variable(1.0)
    with gf.GradientTape() as tape:
        y = x * 2.0
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)


def test_persistent_tape_and_output_gradients():
    x = gf.Variable([1.0, 2.0])
    with gf.GradientTape(persistent=True) as tape:
        y = x * x
        z = gf.reduce_sum(y)
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), [2, 4])
    np.testing.assert_allclose(tape.gradient(y, x, output_gradients=gf.constant([10.0, 1.0])).numpy(), [20, 4])


def test_non_scalar_targets_are_summed():
    x = gf.Variable([1.0, 2.0, 3.0])
    with gf.GradientTape() as tape:
        y = x * 3.0
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [3, 3, 3])


def test_broadcasting_reduces_gradients_to_input_shapes(device):
    a = gf.Variable(np.ones((3, 1), np.float32))
    b = gf.Variable(np.ones((4,), np.float32))
    with gf.GradientTape() as tape:
        y = gf.reduce_sum(a * b)
    ga, gb = tape.gradient(y, [a, b])
    assert ga.shape == (3, 1) and gb.shape == (4,)
    np.testing.assert_allclose(ga.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_allclose(gb.numpy(), np.full((4,), 3.0))


def test_stop_gradient_and_unconnected():
    x = gf.Variable(2.0)
    u = gf.Variable(5.0)
    with gf.GradientTape(persistent=True) as tape:
        y = x * gf.stop_gradient(x)
    assert float(tape.gradient(y, x)) == 2.0
    assert tape.gradient(y, u) is None
    assert float(tape.gradient(y, u, unconnected_gradients=gf.UnconnectedGradients.ZERO)) == 0.0


def test_integer_inputs_get_no_gradient():
    i = gf.constant([1, 2])
    with gf.GradientTape() as tape:
        tape.watch(i)
        y = gf.cast(i, gf.float32) * 2.0
    assert tape.gradient(y, i) is None


def test_second_order_gradients_through_nested_tapes():
    x = gf.Variable(3.0)
    with gf.GradientTape() as outer:
        with gf.GradientTape() as inner:
            y = x * x * x
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert float(dy) == 27.0 and float(d2y) == 18.0


def test_stop_recording():
    x = gf.Variable(3.0)
    with gf.GradientTape() as tape:
        with tape.stop_recording():
            y = x * x
        z = x * 2.0
    assert float(tape.gradient(z, x)) == 2.0
    assert y is not None
