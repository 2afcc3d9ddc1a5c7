"""Resizing and the random image layers: values worked out by hand (quarter turns, whole-pixel shifts, a 2x
zoom) and against gf.image, on cpu and sim; per-image draws, repeated by seeds, redrawn per call inside
gf.function and per element in Dataset.map; the identity outside training; a small model trained by fit,
saved as .keras and loaded; and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from tests.harness import check_op, rand

RANDOM_LAYERS = [lambda: layers.RandomFlip(seed=1), lambda: layers.RandomRotation(0.2, seed=2),
                 lambda: layers.RandomZoom(0.3, seed=3), lambda: layers.RandomTranslation(0.2, 0.3, seed=4)]


def test_resizing(device):
    x = rand((2, 6, 9, 3), seed=1)
    check_op(layers.Resizing(4, 5), [x], lambda a: gf.image.resize(a, [4, 5]).numpy(), device, rtol=1e-6)
    check_op(layers.Resizing(3, 3, interpolation="nearest"), [x[0]],
             lambda a: gf.image.resize(a, [3, 3], method="nearest").numpy(), device)
    # crop: the centred 6x6 window of a 6x9 image (Keras 3: start int((9 - 6) / 2) = 1), then resized
    check_op(layers.Resizing(4, 4, crop_to_aspect_ratio=True), [x],
             lambda a: gf.image.resize(a[:, :, 1:7], [4, 4]).numpy(), device, rtol=1e-6)
    # pad: to 9x9 with 1 row above and 2 below, filled with fill_value, then resized
    padded = np.pad(x, [(0, 0), (1, 2), (0, 0), (0, 0)], constant_values=0.5)
    check_op(layers.Resizing(3, 3, pad_to_aspect_ratio=True, fill_value=0.5), [x],
             lambda a: gf.image.resize(padded, [3, 3]).numpy(), device, rtol=1e-6)
    first = np.moveaxis(x, -1, 1)
    check_op(layers.Resizing(4, 5, data_format="channels_first"), [first],
             lambda a: np.moveaxis(gf.image.resize(x, [4, 5]).numpy(), -1, 1), device, rtol=1e-6)
    assert layers.Resizing(4, 5).compute_output_shape((None, 6, 9, 3)) == (None, 4, 5, 3)
    assert layers.Resizing(4, 5, data_format="channels_first").compute_output_shape((2, 3, 6, 9)) == (2, 3, 4, 5)


def test_resizing_keeps_an_unknown_batch_in_a_model():
    model = gf.keras.Sequential([gf.keras.Input((6, 8, 3)), layers.Resizing(3, 4), layers.Flatten()])
    assert model.output_shape == (None, 36)
    assert model.predict(rand((5, 6, 8, 3)), verbose=0).shape == (5, 36)


@pytest.mark.parametrize("make", RANDOM_LAYERS, ids=["flip", "rotation", "zoom", "translation"])
def test_random_layers_are_the_identity_outside_training(device, make):
    x = rand((3, 5, 6, 2), seed=2)
    layer = make()
    check_op(lambda t: layer(t, training=False), [x], lambda a: a, device)
    ints = np.arange(60, dtype=np.int32).reshape(1, 5, 6, 2)
    out = check_op(lambda t: layer(t, training=False), [ints], lambda a: a, device)
    assert out.dtype == gf.float32  # the compute dtype, training or not


@pytest.mark.parametrize("make", RANDOM_LAYERS, ids=["flip", "rotation", "zoom", "translation"])
def test_random_layers_draw_per_image_and_repeat_with_the_seed(device, make):
    one = rand((1, 8, 8, 1), seed=3)
    batch = np.repeat(one, 24, axis=0)
    with gf.device(device):
        layer = make()
        gf.random.set_seed(11)
        out = layer(batch).numpy()  # called alone: training, as in Keras
        assert len({o.tobytes() for o in out}) > 1, "every image gets its own transform"
        gf.random.set_seed(11)
        np.testing.assert_array_equal(make()(batch).numpy(), out)
        assert layer(one[0]).shape == (8, 8, 1)  # one 3-D image


def test_rotation_by_a_quarter_turn(device):
    x = rand((2, 4, 4, 1), seed=4)
    # factor (0.25, 0.25): exactly pi / 2, counter-clockwise
    check_op(lambda t: layers.RandomRotation((0.25, 0.25), interpolation="nearest")(t), [x],
             lambda a: np.rot90(a, axes=(1, 2)), device)
    check_op(lambda t: layers.RandomRotation((-0.25, -0.25), interpolation="nearest")(t), [x],
             lambda a: np.rot90(a, -1, axes=(1, 2)), device)


def test_translation_by_whole_pixels(device):
    x = rand((2, 4, 8, 3), seed=5)
    shifted = np.full_like(x, 0.25)
    shifted[:, 2:, 2:] = x[:, :-2, :-2]  # down by 0.5 * 4 rows, right by 0.25 * 8 columns
    check_op(lambda t: layers.RandomTranslation((0.5, 0.5), (0.25, 0.25), fill_mode="constant", fill_value=0.25)(t),
             [x], lambda a: shifted, device)
    wrapped = np.roll(x, (2, 2), axis=(1, 2))
    check_op(lambda t: layers.RandomTranslation((0.5, 0.5), (0.25, 0.25), fill_mode="wrap")(t), [x],
             lambda a: wrapped, device)
    reflected = np.concatenate([x[:, 1::-1], x[:, :2]], axis=1)  # rows ba|ab: reflect about the edge
    check_op(lambda t: layers.RandomTranslation((0.5, 0.5), 0.0, fill_mode="reflect")(t), [x],
             lambda a: reflected, device)


def test_zoom_in_by_two(device):
    x = rand((1, 5, 5, 2), seed=6)
    # zoom 0.5 about the centre: output pixel p reads input 0.5 * p + 1 (nearest: halves round away from 0)
    rows = np.floor(0.5 * np.arange(5) + 1 + 0.5).astype(int)
    check_op(lambda t: layers.RandomZoom((-0.5, -0.5), interpolation="nearest")(t), [x],
             lambda a: a[:, rows][:, :, rows], device)
    # width_factor None keeps the aspect ratio; a width of its own zooms the columns alone
    check_op(lambda t: layers.RandomZoom((0.0, 0.0), (-0.5, -0.5), interpolation="nearest")(t), [x],
             lambda a: a[:, :, rows], device)


def test_flip_modes(device):
    x = rand((64, 3, 3, 1), seed=7)
    with gf.device(device):
        out = layers.RandomFlip("horizontal", seed=1)(x).numpy()
        assert all(np.array_equal(o, a) or np.array_equal(o, a[:, ::-1]) for o, a in zip(out, x))
        out = layers.RandomFlip("vertical")(x).numpy()
        assert all(np.array_equal(o, a) or np.array_equal(o, a[::-1]) for o, a in zip(out, x))
        out = layers.RandomFlip()(x).numpy()
        kinds = [next(k for k, f in enumerate([a, a[:, ::-1], a[::-1], a[::-1, ::-1]]) if np.array_equal(o, f))
                 for o, a in zip(out, x)]
        assert set(kinds) == {0, 1, 2, 3}, "the two coins are independent"


def test_traced_by_gf_function_draws_on_every_call(device):
    x = np.repeat(rand((1, 6, 6, 1), seed=8), 8, axis=0)
    with gf.device(device):
        aug = gf.keras.Sequential([layers.RandomFlip(), layers.RandomRotation(0.3), layers.RandomZoom(0.2),
                                   layers.RandomTranslation(0.2, 0.2)])
        f = gf.function(lambda t: aug(t, training=True))
        first, second = f(gf.constant(x)).numpy(), f(gf.constant(x)).numpy()
        assert not np.array_equal(first, second)
        assert f.experimental_get_tracing_count() == 1
        g = gf.function(lambda t: aug(t, training=False))
        np.testing.assert_array_equal(g(gf.constant(x)).numpy(), x)


def test_in_dataset_map_repeats_with_the_seed():
    x = rand((10, 5, 5, 1), seed=9)
    layer = layers.RandomRotation(0.5, fill_mode="nearest")

    def run():
        gf.random.set_seed(3)
        ds = gf.data.Dataset.from_tensor_slices(x).map(layer, num_parallel_calls=3).batch(4)
        return np.concatenate([b.numpy() for b in ds])
    first = run()
    assert first.shape == x.shape and not np.allclose(first, x)
    np.testing.assert_array_equal(run(), first)


def test_in_a_model_trained_by_fit_and_saved(tmp_path):
    rng = np.random.default_rng(10)
    x = rng.uniform(0, 255, (32, 10, 12, 3)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) / 255 > 0.5).astype("float32")[:, None]
    model = gf.keras.Sequential([
        gf.keras.Input((10, 12, 3)), layers.Resizing(8, 8), layers.Rescaling(1 / 255), layers.RandomFlip(seed=1),
        layers.RandomRotation(0.1, seed=2), layers.RandomZoom(0.1, seed=3), layers.RandomTranslation(0.1, 0.1, seed=4),
        layers.Normalization(mean=0.5, variance=0.1, axis=None), layers.Conv2D(4, 3, activation="relu"),
        layers.GlobalAveragePooling2D(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    # predict runs the random layers as the identity: the same answer twice, and the same as without them
    out = model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), out)
    plain = x
    for layer in model.layers:
        if not isinstance(layer, (layers.RandomFlip, layers.RandomRotation, layers.RandomZoom,
                                  layers.RandomTranslation)):
            plain = layer(plain)
    np.testing.assert_allclose(plain.numpy(), out, rtol=1e-5, atol=1e-6)
    path = str(tmp_path / "augment.keras")
    model.save(path)
    again = gf.keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), out, rtol=1e-6)
    assert [type(a).__name__ for a in again.layers] == [type(a).__name__ for a in model.layers]
    assert again.layers[5].get_config() == model.layers[5].get_config()


def test_errors():
    with pytest.raises(ValueError, match=r"interpolation 'bicubic' is not one of"):
        layers.Resizing(3, 3, interpolation="bicubic")
    with pytest.raises(ValueError, match=r"height and width must be positive"):
        layers.Resizing(0, 3)
    with pytest.raises(ValueError, match=r"mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical'"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match=r"a single factor must not be negative"):
        layers.RandomRotation(-0.1)
    with pytest.raises(ValueError, match=r"height_factor \(0.5, 0.2\) must give lower <= upper"):
        layers.RandomZoom((0.5, 0.2))
    with pytest.raises(ValueError, match=r"height_factor 1.5 must give lower <= upper within \[-1.0, 1.0\]"):
        layers.RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match=r"fill_mode must be one of"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match=r"expects images of rank 3 \(height, width, channels\) or 4 .*got shape "
                                         r"\(3, 4\)"):
        layers.RandomRotation(0.1)(np.ones((3, 4), np.float32))
