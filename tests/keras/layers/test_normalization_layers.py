"""BatchNormalization and LayerNormalization: forward vs NumPy, moving statistics, training vs
inference, float64 gradients wrt inputs and weights, input errors."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from layer_helpers import built, np_weights, with_weights
from tests.harness import check_grad, check_op, rand


def ref_normalize(x, axes, gamma, beta, eps, mean=None, var=None):
    """Normalise x over `axes` (or with the given statistics); gamma/beta broadcast along the kept axes."""
    x = x.astype(np.float64)
    if mean is None:
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def randomize(layer):
    """Non-trivial gamma/beta so the tests see them."""
    for i, w in enumerate(layer.weights):
        if w.trainable:
            w.assign(rand(tuple(w.shape), w.dtype.name, 0.5, 1.5, seed=10 + i))
    return layer


# ---- BatchNormalization ----------------------------------------------------------------------

@pytest.mark.parametrize("shape,axis", [((8, 3), -1), ((4, 3, 5, 2), -1), ((4, 3, 5, 2), 1), ((1, 2), -1)])
def test_batch_norm_training_forward(device, shape, axis):
    layer = randomize(built(layers.BatchNormalization(axis=axis), shape))
    gamma, beta = np_weights(layer, "gamma", "beta")
    axis = axis % len(shape)
    reduce = tuple(i for i in range(len(shape)) if i != axis)
    bshape = [shape[i] if i == axis else 1 for i in range(len(shape))]
    check_op(lambda x: layer(x, training=True), [rand(shape, low=2, high=6)],
             lambda x: ref_normalize(x, reduce, gamma.reshape(bshape), beta.reshape(bshape), 1e-3), device,
             rtol=1e-4, atol=1e-4)


def test_batch_norm_moving_statistics_follow_the_momentum_formula():
    layer = built(layers.BatchNormalization(momentum=0.9), (6, 4))
    mean, var = np.zeros(4), np.ones(4)
    for seed in range(3):
        x = rand((6, 4), seed=seed, low=-1, high=5).astype(np.float64)
        layer(x.astype(np.float32), training=True)
        mean = 0.9 * mean + 0.1 * x.mean(0)
        var = 0.9 * var + 0.1 * x.var(0)  # the biased batch variance, as Keras 3
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), var, rtol=1e-5)


def test_batch_norm_inference_uses_moving_statistics(device):
    layer = built(layers.BatchNormalization(axis=1, epsilon=0.01), (2, 3, 4))
    randomize(layer)
    layer.moving_mean.assign(rand((3,), seed=5))
    layer.moving_variance.assign(rand((3,), low=0.5, high=2, seed=6))
    gamma, beta, mm, mv = (w.reshape(1, 3, 1) for w in np_weights(layer, "gamma", "beta", "moving_mean",
                                                                    "moving_variance"))
    before = layer.moving_mean.numpy()
    check_op(lambda x: layer(x, training=False), [rand((2, 3, 4))],
             lambda x: ref_normalize(x, None, gamma, beta, 0.01, mm, mv), device, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), before)  # inference leaves them alone


def test_frozen_batch_norm_runs_in_inference_mode():
    layer = built(layers.BatchNormalization(), (5, 2))
    layer.trainable = False
    x = rand((5, 2), low=3, high=9)
    np.testing.assert_allclose(layer(x, training=True).numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), 0)


def test_batch_norm_weights_and_flags():
    layer = built(layers.BatchNormalization(center=False, scale=False), (3, 4))
    assert [w.name.split("/")[-1] for w in layer.weights] == ["moving_mean:0", "moving_variance:0"]
    assert layer.trainable_weights == []
    x = rand((3, 4))
    np.testing.assert_allclose(layer(x, training=True).numpy(), ref_normalize(x, 0, 1, 0, 1e-3), rtol=1e-4,
                               atol=1e-5)
    full = built(layers.BatchNormalization(), (3, 4))
    assert [w.name.split("/")[-1] for w in full.trainable_weights] == ["gamma:0", "beta:0"]


@pytest.mark.parametrize("shape,axis", [((4, 3), -1), ((2, 3, 2), 1)])
def test_batch_norm_grad_in_training(shape, axis):
    layer = randomize(built(layers.BatchNormalization(axis=axis, dtype="float64"), shape))
    fn = with_weights(layer, ["gamma", "beta"], training=True)
    check_grad(fn, [rand(shape)] + np_weights(layer, "gamma", "beta"))


def test_batch_norm_input_errors():
    layer = built(layers.BatchNormalization(), (2, 3))
    with pytest.raises(ValueError, match=r"batch_normalization.*built for size \(3,\) on axes \[1\] but got inputs "
                                         r"of shape \(2, 4\)"):
        layer(rand((2, 4)))
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        layers.BatchNormalization(axis=3)(rand((2, 3)))
    with pytest.raises(ValueError, match="momentum must be in"):
        layers.BatchNormalization(momentum=2)


# ---- LayerNormalization ----------------------------------------------------------------------

@pytest.mark.parametrize("shape,axis", [((3, 7), -1), ((2, 3, 4), [1, 2]), ((2, 3, 4), 1), ((2, 3, 4, 5), [1, 3]),
                                        ((5, 1), -1)])
def test_layer_norm_forward(device, shape, axis):
    layer = randomize(built(layers.LayerNormalization(axis=axis, epsilon=1e-5), shape))
    axes = tuple(a % len(shape) for a in (axis if isinstance(axis, list) else [axis]))
    bshape = [shape[i] if i in axes else 1 for i in range(len(shape))]
    gamma, beta = (w.reshape(bshape) for w in np_weights(layer, "gamma", "beta"))
    check_op(layer, [rand(shape, low=-3, high=5)], lambda x: ref_normalize(x, axes, gamma, beta, 1e-5), device,
             rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape,axis", [((2, 4), -1), ((2, 2, 3), [1, 2]), ((2, 3, 2), 1)])
def test_layer_norm_grad(shape, axis):
    layer = randomize(built(layers.LayerNormalization(axis=axis, dtype="float64"), shape))
    check_grad(with_weights(layer, ["gamma", "beta"]), [rand(shape)] + np_weights(layer, "gamma", "beta"))


def test_layer_norm_without_center_and_scale():
    layer = layers.LayerNormalization(center=False, scale=False)
    x = rand((3, 6))
    np.testing.assert_allclose(layer(x).numpy(), ref_normalize(x, -1, 1, 0, 1e-3), rtol=1e-4, atol=1e-5)
    assert layer.weights == []


def test_layer_norm_input_errors():
    layer = built(layers.LayerNormalization(), (2, 5))
    with pytest.raises(ValueError, match=r"layer_normalization.*\(LayerNormalization\): was built for size \(5,\)"):
        layer(rand((2, 6)))
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        layers.LayerNormalization(epsilon=0)


def test_normalization_in_a_functional_model():
    inputs = gf.keras.Input((4,))
    outputs = layers.LayerNormalization()(layers.BatchNormalization()(inputs))
    assert tuple(outputs.shape) == (None, 4)
