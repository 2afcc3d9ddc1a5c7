"""uint8 images end to end, on cpu and sim: NumPy uint8 pixels through Dataset.from_tensor_slices (kept uint8),
a Keras Input(dtype="uint8") feeding Rescaling, a CNN fitted to high accuracy, and the same model saved as a
.keras file and as a SavedModel whose signature takes uint8."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow import keras


def bright_or_dark(n=96, seed=0):
    """8x8 grey images, class 1 when a 4x4 patch somewhere is bright: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 90, size=(n, 8, 8, 1))
    y = rng.integers(0, 2, size=n).astype(np.int32)
    for i in np.nonzero(y)[0]:
        r, c = rng.integers(0, 5, size=2)
        x[i, r:r + 4, c:c + 4] = rng.integers(200, 256, size=(4, 4, 1))
    return x.astype(np.uint8), y


def uint8_cnn():
    inputs = keras.Input(shape=(8, 8, 1), dtype="uint8", name="pixels")
    h = keras.layers.Rescaling(1 / 255.0)(inputs)
    h = keras.layers.Conv2D(4, 3, activation="relu")(h)
    h = keras.layers.GlobalMaxPooling2D()(h)
    return keras.Model(inputs, keras.layers.Dense(2)(h))


@pytest.fixture(scope="module")
def images():
    return bright_or_dark()


def test_fit_on_uint8_pixels(device, images, tmp_path):
    x, y = images
    ds = gf.data.Dataset.from_tensor_slices((x, y)).shuffle(96, seed=1).batch(16)
    assert ds.element_spec[0].dtype == gf.uint8 and ds.element_spec[0].shape.as_list() == [None, 8, 8, 1]
    keras.utils.set_random_seed(0)
    model = uint8_cnn()
    assert model.inputs[0].dtype == gf.uint8 and model.layers[1].compute_dtype == "float32"
    model.compile(optimizer=keras.optimizers.Adam(0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(ds, epochs=12, verbose=0).history
    assert history["loss"][-1] < history["loss"][0] / 2 and history["accuracy"][-1] >= 0.9, history

    # predict on NumPy uint8 = the layers applied to the pixels cast to float32 by hand
    logits = model.predict(x[:8], verbose=0)
    by_hand = gf.cast(gf.constant(x[:8]), gf.float32) * (1 / 255.0)
    for layer in model.layers[2:]:
        by_hand = layer(by_hand)
    np.testing.assert_allclose(logits, by_hand.numpy(), rtol=1e-5, atol=1e-6)

    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    assert again.inputs[0].dtype == gf.uint8
    np.testing.assert_array_equal(again.predict(x[:8], verbose=0), logits)

    gf.saved_model.save(model, tmp_path / "saved")
    serve = gf.saved_model.load(tmp_path / "saved").signatures["serving_default"]
    ((name, spec),) = serve.inputs
    assert spec.dtype == gf.uint8 and tuple(spec.shape) == (None, 8, 8, 1)
    (out,) = serve(**{name: x[:8]}).values()
    np.testing.assert_allclose(out.numpy(), logits, rtol=1e-6, atol=1e-6)
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"holds 256, out of range for uint8 \(0 to 255\)"):
        serve(**{name: np.full((1, 8, 8, 1), 256)})


def test_dataset_map_casts_the_pixels(device, images):
    x, y = images
    ds = gf.data.Dataset.from_tensor_slices((x, y)).map(lambda px, label: (gf.cast(px, gf.float32) / 255.0, label))
    assert ds.element_spec[0].dtype == gf.float32
    first, label = next(iter(ds.batch(4)))
    np.testing.assert_allclose(first.numpy(), x[:4] / np.float32(255.0), rtol=1e-6)
    assert label.dtype == gf.int32
