"""ZeroPadding1D/2D: forward vs np.pad for every padding form and both data formats, gradients,
symbolic shapes, config round trips (also through a saved model config), errors."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from tests.harness import check_grad, rand


@pytest.mark.parametrize("padding,pairs", [(1, (1, 1)), (3, (3, 3)), ((0, 2), (0, 2)), ((2, 0), (2, 0)),
                                           ((0, 0), (0, 0))])
@pytest.mark.parametrize("data_format", [None, "channels_last", "channels_first"])
def test_zero_padding1d_forward(device, padding, pairs, data_format):
    layer = layers.ZeroPadding1D(padding, data_format=data_format)
    x = rand((2, 5, 3), seed=1)
    axis = 2 if data_format == "channels_first" else 1
    expected = np.pad(x, [pairs if a == axis else (0, 0) for a in range(3)])
    out = layer(x)
    np.testing.assert_array_equal(out.numpy(), expected)
    assert layer.padding == pairs and tuple(layer.compute_output_shape(x.shape)) == expected.shape


@pytest.mark.parametrize("padding,pairs", [
    (1, ((1, 1), (1, 1))), (2, ((2, 2), (2, 2))), ((1, 3), ((1, 1), (3, 3))), (((0, 2), (3, 1)), ((0, 2), (3, 1))),
    (((1, 0), 2), ((1, 0), (2, 2))), ((0, 0), ((0, 0), (0, 0))),
])
@pytest.mark.parametrize("data_format", [None, "channels_first"])
def test_zero_padding2d_forward(device, padding, pairs, data_format):
    layer = layers.ZeroPadding2D(padding, data_format=data_format)
    x = rand((2, 5, 4, 3), seed=2)
    pads = [(0, 0), (0, 0), *pairs] if data_format == "channels_first" else [(0, 0), *pairs, (0, 0)]
    expected = np.pad(x, pads)
    np.testing.assert_array_equal(layer(x).numpy(), expected)
    assert layer.padding == pairs and tuple(layer.compute_output_shape(x.shape)) == expected.shape


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_zero_padding_keeps_a_layer_dtype(device, dtype):
    x = rand((1, 3, 2, 2), dtype, seed=3)
    out = layers.ZeroPadding2D(1, dtype=dtype)(x)
    assert out.dtype == gf.as_dtype(dtype)
    np.testing.assert_array_equal(out.numpy().astype(np.float64), np.pad(x.astype(np.float64),
                                                                        [(0, 0), (1, 1), (1, 1), (0, 0)]))


def test_zero_padding_gradients_float64():
    check_grad(layers.ZeroPadding2D(((1, 2), (0, 1)), dtype="float64"), [rand((2, 3, 2, 2))])
    check_grad(layers.ZeroPadding1D((2, 1), dtype="float64"), [rand((2, 3, 2))])


def test_symbolic_shapes_and_model():
    inputs = gf.keras.Input((None, 7, 3))
    assert tuple(layers.ZeroPadding2D(((1, 2), (3, 0)))(inputs).shape) == (None, None, 10, 3)
    seq = gf.keras.Input((6, 4))
    outputs = layers.ZeroPadding1D(2)(seq)
    assert tuple(outputs.shape) == (None, 10, 4)
    model = gf.keras.Model(seq, outputs)
    x = rand((3, 6, 4), seed=4)
    np.testing.assert_array_equal(model(x).numpy(), np.pad(x, [(0, 0), (2, 2), (0, 0)]))
    again = gf.keras.Model.from_config(model.get_config())
    np.testing.assert_array_equal(again(x).numpy(), model(x).numpy())


@pytest.mark.parametrize("layer", [layers.ZeroPadding1D((2, 3)), layers.ZeroPadding1D(4, data_format="channels_first"),
                                   layers.ZeroPadding2D(((1, 2), (3, 4)), name="zp"),
                                   layers.ZeroPadding2D((1, 0), data_format="channels_first")])
def test_config_round_trip(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config and again.padding == layer.padding
    x = rand((2, 3, 4) if "1D" in type(layer).__name__ else (2, 3, 4, 5), seed=5)
    np.testing.assert_array_equal(again(x).numpy(), layer(x).numpy())


def test_errors_name_the_layer_and_the_problem():
    with pytest.raises(ValueError, match=r"\(ZeroPadding2D\): expects inputs of rank 4 \(batch, height, width, "
                                         r"channels\), got shape \(2, 5, 3\)"):
        layers.ZeroPadding2D()(np.zeros((2, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(ZeroPadding1D\): expects inputs of rank 3 \(batch, channels, steps\)"):
        layers.ZeroPadding1D(data_format="channels_first")(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(ZeroPadding1D\): padding must be a non-negative int or 2 of them, "
                                         r"got -1"):
        layers.ZeroPadding1D(-1)
    with pytest.raises(ValueError, match=r"\(ZeroPadding1D\): padding must be .*got \(1, 2, 3\)"):
        layers.ZeroPadding1D((1, 2, 3))
    with pytest.raises(ValueError, match=r"\(ZeroPadding2D\): padding must be an int, 2 ints \(height, width\) or "
                                         r"2 pairs"):
        layers.ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match=r"\(ZeroPadding2D\): each of padding's height and width entries must be a "
                                         r"non-negative int or 2 of them, got \(1, -2\)"):
        layers.ZeroPadding2D(((0, 0), (1, -2)))
    with pytest.raises(ValueError, match=r"\(ZeroPadding2D\): data_format must be 'channels_last' or "
                                         r"'channels_first', got 'NHWC'"):
        layers.ZeroPadding2D(data_format="NHWC")


def test_saved_model_round_trip(tmp_path):
    inputs = gf.keras.Input((5, 4, 2))
    model = gf.keras.Model(inputs, layers.ZeroPadding2D(((1, 2), 3))(inputs))
    model.save(str(tmp_path / "padded.keras"))
    again = gf.keras.models.load_model(str(tmp_path / "padded.keras"))
    x = rand((2, 5, 4, 2), seed=6)
    assert again.layers[-1].padding == ((1, 2), (3, 3))
    np.testing.assert_array_equal(again(x).numpy(), np.pad(x, [(0, 0), (1, 2), (3, 3), (0, 0)]))
