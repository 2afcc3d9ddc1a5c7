"""Conv1D / Conv2D layers: forward vs direct-loop references, gradients w.r.t. input, kernel and bias,
output shapes (also symbolic), config round-trips, errors."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from tests.harness import check_grad, rand
from tests.ops.test_conv import ref_conv2d


def swapped(layer, x, kernel, bias):
    """layer(x) with its kernel and bias replaced by the given tensors (so the tape sees them)."""
    saved = layer.kernel, layer.bias
    layer.kernel, layer.bias = kernel, bias
    try:
        return layer(x)
    finally:
        layer.kernel, layer.bias = saved


@pytest.mark.parametrize("kwargs,shape", [
    (dict(filters=4, kernel_size=3), (2, 6, 7, 3)),
    (dict(filters=3, kernel_size=(2, 3), strides=2, padding="same"), (1, 7, 6, 2)),
    (dict(filters=2, kernel_size=3, padding="same", dilation_rate=2), (2, 7, 7, 2)),
    (dict(filters=4, kernel_size=3, groups=2, padding="same", activation="relu"), (2, 5, 6, 4)),
])
def test_conv2d_forward_vs_direct_loops(device, kwargs, shape):
    layer = layers.Conv2D(**kwargs, bias_initializer="random_uniform")
    x = rand(shape, seed=1)
    out = layer(x).numpy()
    strides = (kwargs.get("strides", 1),) * 2
    dilations = (kwargs.get("dilation_rate", 1),) * 2
    expected = ref_conv2d(x.astype(np.float64), layer.kernel.numpy().astype(np.float64), strides,
                          kwargs.get("padding", "valid").upper(), dilations, kwargs.get("groups", 1))
    expected = expected + layer.bias.numpy()
    if kwargs.get("activation") == "relu":
        expected = np.maximum(expected, 0)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    assert layer.kernel.shape == layer.kernel_size + (shape[-1] // layer.groups, layer.filters)
    assert tuple(layer.compute_output_shape(shape)) == out.shape


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_forward(device, padding):
    layer = layers.Conv1D(3, 3, padding=padding, dilation_rate=2, bias_initializer="ones")
    x = rand((2, 9, 2), seed=2)
    out = layer(x).numpy()
    k = layer.kernel.numpy().astype(np.float64)
    xin = np.pad(x, ((0, 0), (4, 0), (0, 0))) if padding == "causal" else x
    expected = ref_conv2d(xin[:, None].astype(np.float64), k[None], (1, 1), "VALID" if padding == "causal"
                          else padding.upper(), (1, 2))[:, 0] + 1
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    assert tuple(layer.compute_output_shape(x.shape)) == out.shape


def test_conv1d_causal_output_sees_only_the_past():
    layer = layers.Conv1D(1, 3, padding="causal", kernel_initializer="ones", use_bias=False)
    x = np.zeros((1, 6, 1), np.float32)
    x[0, 3, 0] = 1
    np.testing.assert_array_equal(layer(x).numpy()[0, :, 0], [0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize("cls,kwargs,shape", [
    (layers.Conv2D, dict(filters=2, kernel_size=2, strides=2, padding="same"), (1, 3, 4, 2)),
    (layers.Conv2D, dict(filters=2, kernel_size=2, groups=2, dilation_rate=2), (1, 4, 4, 2)),
    (layers.Conv1D, dict(filters=2, kernel_size=2, padding="causal"), (1, 4, 2)),
])
def test_conv_layer_gradients_float64(cls, kwargs, shape):
    layer = cls(**kwargs, dtype="float64")
    layer.build(shape)
    check_grad(lambda x, k, b: swapped(layer, x, k, b),
               [rand(shape, "float64", seed=3), layer.kernel.numpy(), rand((layer.filters,), "float64", seed=4)])


def test_conv_trains_through_a_tape():
    layer = layers.Conv2D(2, 3, padding="same")
    x = rand((2, 5, 5, 3), seed=5)
    with gf.GradientTape() as tape:
        loss = gf.reduce_sum(layer(x) ** 2)
    grads = tape.gradient(loss, layer.trainable_weights)
    assert [tuple(g.shape) for g in grads] == [(3, 3, 3, 2), (2,)]


def test_symbolic_shapes_and_models():
    inputs = gf.keras.Input((None, 9, 3))
    out = layers.Conv2D(4, 3, strides=2, padding="same")(inputs)
    assert tuple(out.shape) == (None, None, 5, 4)
    seq = gf.keras.Input((None, 4))
    assert tuple(layers.Conv1D(6, 3)(seq).shape) == (None, None, 6)


@pytest.mark.parametrize("cls,kwargs", [
    (layers.Conv2D, dict(filters=4, kernel_size=(3, 2), strides=(2, 1), padding="same", dilation_rate=1, groups=2,
                         activation="relu", use_bias=False, kernel_initializer="he_normal",
                         kernel_regularizer="l2", bias_constraint="non_neg")),
    (layers.Conv1D, dict(filters=3, kernel_size=5, padding="causal", dilation_rate=2, activation="tanh",
                         bias_initializer="ones", activity_regularizer="l1")),
])
def test_config_round_trip(cls, kwargs):
    layer = cls(**kwargs)
    config = layer.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    for key in ("filters", "padding", "groups"):
        assert config[key] == getattr(layer, key)
    assert config["kernel_size"] == layer.kernel_size and config["data_format"] == "channels_last"


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"conv\w* \(Conv2D\): only data_format='channels_last'"):
        layers.Conv2D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match=r"\(Conv2D\): groups must .* dividing filters \(3\)"):
        layers.Conv2D(3, 3, groups=2)
    with pytest.raises(ValueError, match=r"\(Conv2D\): expects inputs of rank 4 .* got shape \(2, 5, 3\)"):
        layers.Conv2D(2, 3)(np.zeros((2, 5, 3), np.float32))
    layer = layers.Conv2D(2, 3)
    layer(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"built for 3 input channels .* \(1, 5, 5, 4\)"):
        layer(np.zeros((1, 5, 5, 4), np.float32))
    with pytest.raises(ValueError, match=r"spans 3 but spatial axis 0 .* \(1, 2, 5, 3\) has only 2; use padding="):
        layer(np.zeros((1, 2, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"multiple of groups=2"):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), np.float32))
