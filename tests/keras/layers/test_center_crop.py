"""CenterCrop: the centred window against a NumPy reference of Keras 3's rule (crop start (size - target) // 2),
both layouts, one image or a batch; smaller images go through Keras' smart resize (crop to the aspect ratio,
then bilinear); compute dtype; errors; a compiled fit."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from tests.harness import check_op, rand


def ref_center_crop(x, height, width, channels_first=False):
    """Keras 3 for images at least (height, width): x[..., h0:h0 + height, w0:w0 + width, :], h0 = (H - height) // 2."""
    rows = x.ndim - (2 if channels_first else 3)
    h0, w0 = (x.shape[rows] - height) // 2, (x.shape[rows + 1] - width) // 2
    index = [slice(None)] * x.ndim
    index[rows], index[rows + 1] = slice(h0, h0 + height), slice(w0, w0 + width)
    return x[tuple(index)].astype(np.float32)


@pytest.mark.parametrize("shape,height,width,data_format", [
    ((2, 10, 12, 3), 4, 6, None), ((2, 9, 7, 1), 4, 3, "channels_last"), ((8, 8, 3), 5, 8, None),
    ((2, 3, 10, 12), 7, 5, "channels_first"), ((3, 6, 9), 6, 2, "channels_first"), ((1, 5, 5, 2), 5, 5, None)])
def test_crops_the_centre(device, shape, height, width, data_format):
    layer = layers.CenterCrop(height, width, data_format=data_format)
    check_op(layer, [rand(shape, low=0, high=255)],
             lambda x: ref_center_crop(x, height, width, data_format == "channels_first"), device, dtype="float32")
    assert layer.compute_output_shape(shape) == ref_center_crop(
        np.zeros(shape), height, width, data_format == "channels_first").shape


@pytest.mark.parametrize("shape,height,width", [((2, 4, 6, 3), 8, 8), ((2, 10, 4, 1), 6, 6)])
def test_smaller_images_are_resized_as_keras_smart_resize(device, shape, height, width):
    x = rand(shape, low=0, high=1)
    expected = layers.Resizing(height, width, crop_to_aspect_ratio=True)(x).numpy()
    with gf.device(device):
        out = layers.CenterCrop(height, width)(gf.constant(x))
    assert out.shape == (shape[0], height, width, shape[3])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    # Keras' smart_resize of a 4x6 image to 8x8 crops the centred 4x4 first: pure upsampling of those columns.
    if shape[1:3] == (4, 6):
        np.testing.assert_allclose(out.numpy(), gf.image.resize(x[:, :, 1:5], (8, 8)).numpy(), rtol=1e-5, atol=1e-6)


def test_ints_are_cast_to_the_compute_dtype():
    x = rand((2, 6, 6, 1), "int32", low=0, high=9)
    out = layers.CenterCrop(2, 2)(x)
    assert out.dtype == gf.float32
    np.testing.assert_array_equal(out.numpy(), x[:, 2:4, 2:4].astype(np.float32))
    assert layers.CenterCrop(2, 2, dtype="float64")(x).dtype == gf.float64


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"center_crop.*\(CenterCrop\): expects images of rank 3 .* got shape "
                                         r"\(2, 3\)"):
        layers.CenterCrop(1, 1)(rand((2, 3)))
    with pytest.raises(ValueError, match="height and width must be positive, got 0 and 3"):
        layers.CenterCrop(0, 3)
    with pytest.raises(ValueError, match="data_format must be 'channels_last' or 'channels_first'"):
        layers.CenterCrop(2, 2, data_format="NHWC")


def test_a_compiled_fit_trains_through_it():
    rng = np.random.default_rng(6)
    x = rng.uniform(0, 1, (48, 8, 8, 2)).astype(np.float32)
    y = x[:, 2:6, 2:6, 0].mean(axis=(1, 2))[:, None]
    model = gf.keras.Sequential([gf.keras.Input((8, 8, 2)), layers.CenterCrop(4, 4), layers.Flatten(),
                                 layers.Dense(1)])
    assert model.output_shape == (None, 1)
    model.compile(gf.keras.optimizers.Adam(0.02), "mse")
    loss = model.fit(x, y, batch_size=16, epochs=10, verbose=0).history["loss"]
    assert loss[-1] < loss[0]
