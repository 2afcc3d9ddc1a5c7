"""Gradients at kinks and ties follow TensorFlow's documented subgradients.

check_grad compares with finite differences, which are meaningless at a kink, so those tests keep
inputs away from ties on purpose; these pin down what happens exactly there. TF's rules
(tensorflow/python/ops/math_grad.py, nn_grad.py):
- maximum: the gradient goes to x where x >= y, to y elsewhere; minimum: to x where x <= y.
- relu at 0 and relu6 at 0 and 6: 0 (ReluGrad uses features > 0; Relu6Grad 0 < features < 6).
- abs at 0: sign(0) = 0.
- clip_by_value: the gradient passes where lo <= x <= hi, bounds included.
- reduce_max/reduce_min: the gradient is split equally among the tied extremes (_MinOrMaxGrad).
- max_pool: the whole gradient goes to the first maximum of the window in row-major order.
Grad rules are shared Python, so these run on cpu and sim: sim checks that the comparison kernels
the rules use agree with cpu at exact ties.
"""
import numpy as np
import pytest

import gpuflow as gf

TIED = np.array([-1.0, 0.0, 2.0, 3.0])


def _grads(fn, *arrays, upstream=None):
    tensors = [gf.constant(a) for a in arrays]
    with gf.GradientTape() as tape:
        tape.watch(tensors)
        out = fn(*tensors)
        loss = gf.reduce_sum(out * gf.constant(upstream)) if upstream is not None else gf.reduce_sum(out)
    return [g.numpy() for g in tape.gradient(loss, tensors)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_maximum_tie_goes_to_x(device, dtype):
    x, y = TIED.astype(dtype), np.array([-1.0, 1.0, 2.0, 4.0], dtype)  # ties at 0 and 2
    gx, gy = _grads(gf.maximum, x, y)
    np.testing.assert_array_equal(gx, [1, 0, 1, 0])  # x >= y
    np.testing.assert_array_equal(gy, [0, 1, 0, 1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_minimum_tie_goes_to_x(device, dtype):
    x, y = TIED.astype(dtype), np.array([-1.0, 1.0, 2.0, 2.5], dtype)
    gx, gy = _grads(gf.minimum, x, y)
    np.testing.assert_array_equal(gx, [1, 1, 1, 0])  # x <= y
    np.testing.assert_array_equal(gy, [0, 0, 0, 1])


def test_maximum_tie_with_broadcast_scalar(device):
    # relu written as maximum(x, 0): TF gives the tie at 0 to x, and nothing to the broadcast 0.
    x = np.array([-1.0, 0.0, 0.0, 2.0], "float32")
    gx, g0 = _grads(gf.maximum, x, np.float32(0.0))
    np.testing.assert_array_equal(gx, [0, 1, 1, 1])
    assert g0 == 1.0  # only the one x < 0 sends gradient to y


def test_relu_family_at_their_kinks(device):
    x = np.array([-1.0, 0.0, 3.0, 6.0, 7.0], "float32")
    (g,) = _grads(gf.nn.relu, x)
    np.testing.assert_array_equal(g, [0, 0, 1, 1, 1])
    (g,) = _grads(gf.nn.relu6, x)
    np.testing.assert_array_equal(g, [0, 0, 1, 0, 0])
    (g,) = _grads(lambda t: gf.nn.leaky_relu(t, alpha=0.25), x)  # TF: alpha where features <= 0
    np.testing.assert_array_equal(g, [0.25, 0.25, 1, 1, 1])


def test_abs_at_zero(device):
    (g,) = _grads(gf.abs, np.array([-2.0, 0.0, 2.0], "float32"))
    np.testing.assert_array_equal(g, [-1, 0, 1])


def test_clip_by_value_passes_at_its_bounds(device):
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0], "float32")
    (g,) = _grads(lambda t: gf.clip_by_value(t, -1.0, 1.0), x)
    np.testing.assert_array_equal(g, [0, 1, 1, 1, 0])


@pytest.mark.parametrize("reduce,pick", [(gf.reduce_max, np.max), (gf.reduce_min, np.min)])
def test_reduce_extreme_splits_among_ties(device, reduce, pick):
    x = np.array([[1.0, 5.0, 5.0, 0.0], [1.0, 1.0, 1.0, 1.0], [-3.0, 2.0, -3.0, 2.0]], "float32")
    upstream = np.array([2.0, 4.0, 6.0], "float32")
    (g,) = _grads(lambda t: reduce(t, axis=1), x, upstream=upstream)
    ties = (x == pick(x, axis=1, keepdims=True)).astype("float32")
    np.testing.assert_array_equal(g, ties / ties.sum(axis=1, keepdims=True) * upstream[:, None])
    (g,) = _grads(lambda t: reduce(t), x)  # over everything: one share per tied element of the whole
    everywhere = (x == pick(x)).astype("float32")
    np.testing.assert_array_equal(g, everywhere / everywhere.sum())


def test_max_pool_gives_the_first_maximum_everything(device):
    # One 2x2 window per output; each window's maximum is tied, at different positions.
    x = np.array([[7.0, 7.0, 1.0, 4.0],
                  [7.0, 0.0, 4.0, 4.0],
                  [0.0, 2.0, 3.0, 3.0],
                  [2.0, 1.0, 3.0, 3.0]], "float32").reshape(1, 4, 4, 1)
    (g,) = _grads(lambda t: gf.nn.max_pool2d(t, 2, 2, "VALID"), x,
                  upstream=np.array([[10.0, 20.0], [30.0, 40.0]], "float32").reshape(1, 2, 2, 1))
    expected = np.array([[10, 0, 0, 20],
                         [0, 0, 0, 0],
                         [0, 30, 40, 0],
                         [0, 0, 0, 0]], "float32").reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(g, expected)


def test_overlapping_max_pool_windows_add_up_at_a_shared_maximum(device):
    x = np.array([0.0, 1.0, 5.0, 1.0, 0.0], "float32").reshape(1, 1, 5, 1)  # 5 is in all three windows
    (g,) = _grads(lambda t: gf.nn.max_pool2d(t, (1, 3), 1, "VALID"), x)
    np.testing.assert_array_equal(g.reshape(-1), [0, 0, 3, 0, 0])
