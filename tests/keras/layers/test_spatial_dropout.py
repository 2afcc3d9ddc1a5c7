"""SpatialDropout1D / SpatialDropout2D: in training, each (sample, channel) is kept whole (scaled by
1 / (1 - rate)) or dropped whole, at rate `rate`; the identity otherwise; the rank is checked; a compiled fit."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from tests.harness import rand


def _reference_from_mask(x, y, channel_axis, rate):
    """Keras' definition read back from the output: the (sample, channel) mask it used, and x * mask / (1 - rate)."""
    spatial = tuple(i for i in range(1, x.ndim) if i != channel_axis)
    kept = (y != 0).any(axis=spatial, keepdims=True)
    return kept, np.where(kept, x / (1 - rate), 0)


@pytest.mark.parametrize("layer,shape,channel_axis", [
    (lambda r: layers.SpatialDropout1D(r), (16, 7, 12), 2),
    (lambda r: layers.SpatialDropout2D(r), (8, 3, 5, 16), 3),
    (lambda r: layers.SpatialDropout2D(r, data_format="channels_first"), (8, 16, 3, 5), 1)])
@pytest.mark.parametrize("rate", [0.25, 0.6])
def test_whole_channels_are_dropped_at_the_rate(device, layer, shape, channel_axis, rate):
    x = rand(shape, low=0.5, high=2)  # no zeros, so a zero in the output is a dropped entry
    dropout = layer(rate)
    with gf.device(device):
        np.testing.assert_array_equal(dropout(gf.constant(x)).numpy(), x)  # training defaults to False
        np.testing.assert_array_equal(dropout(gf.constant(x), training=False).numpy(), x)
        y = dropout(gf.constant(x), training=True).numpy()
    kept, expected = _reference_from_mask(x, y, channel_axis, rate)
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    assert kept.shape[0] == shape[0] and kept.size == shape[0] * shape[channel_axis]
    assert 1 - kept.mean() == pytest.approx(rate, abs=0.15)


def test_seed_repeats_and_gradient_uses_the_mask():
    x = rand((4, 6, 8), low=1, high=2)
    draws = []
    for _ in range(2):
        gf.random.set_seed(5)
        draws.append(layers.SpatialDropout1D(0.5, seed=3)(x, training=True).numpy())
    np.testing.assert_array_equal(*draws)
    t = gf.constant(x.astype(np.float64))
    with gf.GradientTape() as tape:
        tape.watch(t)
        y = layers.SpatialDropout1D(0.4, dtype="float64")(t, training=True)
    np.testing.assert_allclose(tape.gradient(y, t).numpy() * x, y.numpy(), rtol=1e-12)


def test_rank_and_arguments_are_checked():
    with pytest.raises(ValueError, match=r"\(SpatialDropout1D\): expects inputs of rank 3 \(batch, steps, "
                                         r"channels\), got shape \(2, 3\)"):
        layers.SpatialDropout1D(0.5)(rand((2, 3)))
    with pytest.raises(ValueError, match=r"\(SpatialDropout2D\): expects inputs of rank 4 \(batch, channels, rows, "
                                         r"cols\), got shape \(2, 3, 4\)"):
        layers.SpatialDropout2D(0.5, data_format="channels_first")(rand((2, 3, 4)), training=True)
    with pytest.raises(ValueError, match="rate must be in"):
        layers.SpatialDropout1D(1.5)
    with pytest.raises(ValueError, match="data_format must be 'channels_last' or 'channels_first'"):
        layers.SpatialDropout2D(0.1, data_format="nhwc")
    assert "noise_shape" not in layers.SpatialDropout2D(0.1).get_config()


def test_a_compiled_fit_trains_through_it():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(64, 6, 6, 4)).astype(np.float32)
    y = x[..., :2].mean(axis=(1, 2, 3))[:, None]
    model = gf.keras.Sequential([gf.keras.Input((6, 6, 4)), layers.Conv2D(8, 3, padding="same"),
                                 layers.SpatialDropout2D(0.2, seed=1), layers.GlobalAveragePooling2D(),
                                 layers.Dense(1)])
    model.compile(gf.keras.optimizers.Adam(0.02), "mse")
    loss = model.fit(x, y, batch_size=16, epochs=10, verbose=0).history["loss"]
    assert loss[-1] < loss[0]
    np.testing.assert_array_equal(model.predict(x[:5], verbose=0), model.predict(x[:5], verbose=0))
