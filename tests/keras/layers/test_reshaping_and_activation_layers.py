"""RepeatVector, Cropping1D/2D, UpSampling1D/2D, ELU, PReLU, UnitNormalization, GaussianNoise and
ActivityRegularization against NumPy, on every device; in a model (shapes through the functional API, gradients to
PReLU's alpha); and their errors."""
import numpy as np
import pytest

import gpuflow as gf

layers = gf.keras.layers


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_repeat_crop_and_upsample(device):
    v = _x((2, 4))
    np.testing.assert_array_equal(layers.RepeatVector(3)(gf.constant(v)).numpy(), np.repeat(v[:, None], 3, axis=1))
    s = _x((2, 6, 3))
    np.testing.assert_array_equal(layers.Cropping1D((1, 2))(gf.constant(s)).numpy(), s[:, 1:4])
    np.testing.assert_array_equal(layers.UpSampling1D(2)(gf.constant(s)).numpy(), np.repeat(s, 2, axis=1))
    img = _x((2, 5, 4, 3))
    np.testing.assert_array_equal(layers.Cropping2D(((1, 2), (0, 1)))(gf.constant(img)).numpy(), img[:, 1:3, 0:3])
    np.testing.assert_array_equal(layers.Cropping2D(1)(gf.constant(img)).numpy(), img[:, 1:4, 1:3])
    first = np.transpose(img, (0, 3, 1, 2))
    np.testing.assert_array_equal(layers.Cropping2D(((1, 2), (0, 1)), data_format="channels_first")(
        gf.constant(first)).numpy(), first[:, :, 1:3, 0:3])
    up = layers.UpSampling2D((2, 3))(gf.constant(img)).numpy()
    np.testing.assert_array_equal(up, np.repeat(np.repeat(img, 2, axis=1), 3, axis=2))
    bilinear = layers.UpSampling2D(2, interpolation="bilinear")(gf.constant(img)).numpy()
    np.testing.assert_allclose(bilinear, gf.image.resize(gf.constant(img), (10, 8), "bilinear").numpy(), rtol=1e-6)


def test_elu_prelu_and_unit_normalization(device):
    x = _x((2, 3, 4), 1)
    np.testing.assert_allclose(layers.ELU(0.5)(gf.constant(x)).numpy(), np.where(x > 0, x, 0.5 * np.expm1(x)),
                               rtol=1e-6, atol=1e-7)
    prelu = layers.PReLU(alpha_initializer=gf.keras.initializers.Constant(0.2), shared_axes=[1])
    np.testing.assert_allclose(prelu(gf.constant(x)).numpy(), np.where(x > 0, x, 0.2 * x), rtol=1e-6)
    assert prelu.alpha.shape == (1, 4)
    norms = np.sqrt(np.sum(x * x, axis=-1, keepdims=True))
    np.testing.assert_allclose(layers.UnitNormalization()(gf.constant(x)).numpy(), x / norms, rtol=1e-5)


def test_gaussian_noise_and_activity_regularization():
    x = gf.constant(np.zeros((2000,), np.float32))
    noise = layers.GaussianNoise(0.5, seed=3)
    np.testing.assert_array_equal(noise(x).numpy(), 0.0)  # inference: the identity
    drawn = noise(x, training=True).numpy()
    assert abs(drawn.std() - 0.5) < 0.05 and abs(drawn.mean()) < 0.05
    reg = layers.ActivityRegularization(l1=0.1, l2=0.2)
    y = gf.constant([[1.0, -2.0]])
    np.testing.assert_array_equal(reg(y).numpy(), y.numpy())
    assert float(reg.losses[0]) == pytest.approx(0.1 * 3 + 0.2 * 5)


def test_in_a_model_prelu_learns_its_slope():
    inputs = gf.keras.Input((5, 3))
    h = layers.UpSampling1D(2)(layers.Cropping1D((1, 0))(inputs))
    h = layers.PReLU()(layers.Dense(4)(h))
    out = layers.Dense(1)(layers.RepeatVector(2)(layers.GlobalAveragePooling1D()(h)))
    model = gf.keras.Model(inputs, out)
    assert tuple(model.output_shape) == (None, 2, 1)
    model.compile(gf.keras.optimizers.Adam(0.05), "mse")
    x = _x((32, 5, 3), 4)
    y = np.abs(x).mean(axis=(1, 2))[:, None, None].repeat(2, axis=1)
    prelu = next(layer for layer in model.layers if isinstance(layer, layers.PReLU))
    before = prelu.alpha.numpy().copy()
    model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert not np.array_equal(prelu.alpha.numpy(), before)


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"RepeatVector\): expects inputs of rank 2"):
        layers.RepeatVector(2)(gf.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"Cropping1D\): cropping \(2, 2\) removes more than the 3 steps"):
        layers.Cropping1D(2)(gf.zeros((1, 3, 1)))
    with pytest.raises(ValueError, match="interpolation must be 'nearest' or 'bilinear'"):
        layers.UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match=r"PReLU\): shared axis 3 is not an axis"):
        layers.PReLU(shared_axes=3)(gf.zeros((1, 2)))
    with pytest.raises(ValueError, match="stddev must be >= 0"):
        layers.GaussianNoise(-1.0)
