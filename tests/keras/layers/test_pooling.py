"""Pooling layers: forward vs explicit windows, gradients, output shapes, keepdims, configs, errors."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from tests.harness import check_grad, rand
from tests.ops.test_pool import ref_pool


@pytest.mark.parametrize("cls,reduce", [(layers.MaxPooling2D, np.max), (layers.AveragePooling2D, np.mean)])
@pytest.mark.parametrize("kwargs,shape", [
    ({}, (2, 6, 7, 3)),
    (dict(pool_size=3, strides=2, padding="same"), (1, 7, 5, 2)),
    (dict(pool_size=(2, 3), strides=1), (2, 4, 5, 1)),
])
def test_pool2d_layers_forward(device, cls, reduce, kwargs, shape):
    layer = cls(**kwargs)
    x = rand(shape, seed=1)
    out = layer(x).numpy()
    expected = ref_pool(x.astype(np.float64), layer.pool_size, layer.strides, layer.padding.upper(), reduce)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    assert tuple(layer.compute_output_shape(shape)) == out.shape


@pytest.mark.parametrize("cls,reduce", [(layers.MaxPooling1D, np.max), (layers.AveragePooling1D, np.mean)])
def test_pool1d_layers_forward(device, cls, reduce):
    layer = cls(pool_size=3, strides=2, padding="same")
    x = rand((2, 9, 3), seed=2)
    out = layer(x).numpy()
    np.testing.assert_allclose(out, ref_pool(x[:, None].astype(np.float64), (1, 3), (1, 2), "SAME", reduce)[:, 0],
                               rtol=1e-6, atol=1e-6)
    assert tuple(layer.compute_output_shape(x.shape)) == out.shape


@pytest.mark.parametrize("cls,reduce,rank", [
    (layers.GlobalAveragePooling2D, np.mean, 2), (layers.GlobalMaxPooling2D, np.max, 2),
    (layers.GlobalAveragePooling1D, np.mean, 1), (layers.GlobalMaxPooling1D, np.max, 1),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(device, cls, reduce, rank, keepdims):
    x = rand((2, 5, 4, 3)[:rank + 1] + (3,), seed=3)
    layer = cls(keepdims=keepdims)
    out = layer(x).numpy()
    axes = tuple(range(1, rank + 1))
    np.testing.assert_allclose(out, reduce(x, axis=axes, keepdims=keepdims), rtol=1e-6)
    assert tuple(layer.compute_output_shape(x.shape)) == out.shape


@pytest.mark.parametrize("layer", [layers.MaxPooling2D(3, 2, "same"), layers.AveragePooling2D(2, 1),
                                   layers.GlobalAveragePooling2D(), layers.AveragePooling1D(2, 1, "same")])
def test_pooling_gradients_float64(layer):
    shape = (1, 5, 4, 2) if "2D" in type(layer).__name__ else (1, 5, 2)
    # Distinct values so finite differences never move the max to another element.
    x = np.random.default_rng(4).permutation(int(np.prod(shape))).reshape(shape).astype(np.float64) / 7
    # A float32 layer casts float64 inputs to float32 (Keras' autocast): the float64 check needs a float64 layer.
    layer = type(layer).from_config({**layer.get_config(), "dtype": "float64"})
    check_grad(layer, [x], eps=1e-4)


def test_symbolic_shapes():
    inputs = gf.keras.Input((None, 7, 3))
    assert tuple(layers.MaxPooling2D(2, padding="same")(inputs).shape) == (None, None, 4, 3)
    assert tuple(layers.GlobalMaxPooling2D(keepdims=True)(inputs).shape) == (None, 1, 1, 3)


@pytest.mark.parametrize("layer", [layers.MaxPooling2D((2, 3), (1, 2), "same"), layers.AveragePooling1D(4),
                                   layers.GlobalAveragePooling2D(keepdims=True), layers.GlobalMaxPooling1D()])
def test_config_round_trip(layer):
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    if hasattr(layer, "strides"):
        assert config["strides"] == layer.strides and config["pool_size"] == layer.pool_size


def test_strides_default_to_pool_size_and_aliases():
    assert layers.MaxPooling2D((3, 2)).strides == (3, 2)
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"\(MaxPooling2D\): expects inputs of rank 4 .* \(2, 5, 3\)"):
        layers.MaxPooling2D()(np.zeros((2, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(AveragePooling2D\): pool_size \(3, 3\) is larger than the input "
                                         r"\(1, 2, 5, 1\)"):
        layers.AveragePooling2D(3)(np.zeros((1, 2, 5, 1), np.float32))
    with pytest.raises(ValueError, match=r"\(GlobalMaxPooling2D\): only data_format='channels_last'"):
        layers.GlobalMaxPooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match=r"padding must be 'valid' or 'same'"):
        layers.MaxPooling1D(padding="causal")
