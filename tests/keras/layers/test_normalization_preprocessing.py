"""The Normalization preprocessing layer: adapt on arrays, tensors and Datasets (batched or not, `steps`)
against NumPy's float64 statistics, every `axis` form, given mean/variance, invert, on cpu and sim; in a
model trained by fit and saved as .keras, in Dataset.map, traced by gf.function; and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from tests.harness import check_op, rand


def _ref(x, mean, var, invert=False):
    scale = np.maximum(np.sqrt(var), 1e-7)
    return mean + x * scale if invert else (x - mean) / scale


@pytest.mark.parametrize("axis,shape", [(-1, (50, 3)), (None, (40, 5)), ((1, 3), (6, 2, 3, 4)), (1, (7, 3, 2)),
                                        (-1, (9, 4, 4, 3))], ids=str)
def test_adapt_on_an_array(device, axis, shape):
    x = rand(shape, low=-3, high=5, seed=len(shape))
    layer = layers.Normalization(axis=axis)
    layer.adapt(x)
    keep = () if axis is None else tuple(a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis))
    reduce = tuple(a for a in range(len(shape)) if a not in keep)
    mean = x.astype(np.float64).mean(axis=reduce, keepdims=True)
    var = x.astype(np.float64).var(axis=reduce, keepdims=True)
    np.testing.assert_allclose(layer.get_weights()[0], mean.reshape(layer.get_weights()[0].shape), rtol=1e-6)
    np.testing.assert_allclose(layer.get_weights()[1], var.reshape(layer.get_weights()[1].shape), rtol=1e-6)
    check_op(layer, [x], lambda a: _ref(a, mean, var), device, rtol=1e-5, atol=1e-5)


def test_adapt_on_datasets_and_tensors_matches_the_array():
    x = rand((103, 4), low=0, high=10, seed=1)
    whole = layers.Normalization()
    whole.adapt(x)
    for data in (gf.data.Dataset.from_tensor_slices(x).batch(10), gf.constant(x)):
        layer = layers.Normalization()
        layer.adapt(data)
        for a, b in zip(layer.get_weights(), whole.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6)
    # A Dataset of 1-D elements (feature vectors, not batches) is batched by 128 first, as in Keras.
    layer = layers.Normalization()
    layer.adapt(gf.data.Dataset.from_tensor_slices(x))
    for a, b in zip(layer.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    # steps: only the first batches
    layer = layers.Normalization()
    layer.adapt(gf.data.Dataset.from_tensor_slices(x).batch(10), steps=2)
    np.testing.assert_allclose(layer.get_weights()[0], x[:20].astype(np.float64).mean(0), rtol=1e-6)


def test_given_mean_and_variance_and_invert(device):
    x = rand((5, 3), seed=2)
    mean, var = [1.0, -2.0, 0.5], [4.0, 0.25, 1.0]
    norm = layers.Normalization(mean=mean, variance=var)
    check_op(norm, [x], lambda a: _ref(a, np.array(mean), np.array(var)), device)
    back = layers.Normalization(mean=mean, variance=var, invert=True)
    check_op(lambda t: back(norm(t)), [x], lambda a: a, device, rtol=1e-6, atol=1e-6)
    check_op(layers.Normalization(mean=2.0, variance=9.0, axis=None), [x], lambda a: (a - 2) / 3, device)
    assert norm.get_weights() == [] and norm.get_config()["mean"] == mean


def test_integer_inputs_become_floats(device):
    x = np.arange(12, dtype=np.int32).reshape(4, 3)
    out = check_op(layers.Normalization(mean=1.0, variance=4.0, axis=None), [x], lambda a: (a - 1) / 2, device)
    assert out.dtype == gf.float32


def test_in_a_model_trained_by_fit_and_saved(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(50, 10, (64, 3)).astype("float32")
    y = ((x[:, :1] - 50) / 10 * 2).astype("float32")
    norm = layers.Normalization()
    norm.adapt(x)
    model = gf.keras.Sequential([gf.keras.Input((3,)), norm, layers.Dense(1)])
    model.compile(optimizer=gf.keras.optimizers.Adam(0.05), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    path = str(tmp_path / "norm.keras")
    model.save(path)
    again = gf.keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(again.layers[0].get_weights()[0], x.mean(0), rtol=1e-5)


def test_in_dataset_map_and_gf_function(device):
    x = rand((12, 4), seed=4)
    norm = layers.Normalization(mean=[0.5] * 4, variance=[2.0] * 4)
    mapped = np.concatenate([b.numpy() for b in gf.data.Dataset.from_tensor_slices(x).batch(5).map(norm)])
    np.testing.assert_allclose(mapped, _ref(x, 0.5, 2.0), rtol=1e-6)
    with gf.device(device):
        f = gf.function(lambda t: norm(t))
        np.testing.assert_allclose(f(gf.constant(x)).numpy(), _ref(x, 0.5, 2.0), rtol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match=r"give both mean and variance, or neither"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match=r"adapt learns them only for a layer made without them"):
        layers.Normalization(mean=1.0, variance=1.0).adapt(np.ones((2, 2)))
    layer = layers.Normalization()
    layer.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"adapt data of shape \(4, 5\) does not match the layer's input shape "
                                         r"\(4, 3\) on the kept axes \[1\]"):
        layer.adapt(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"axis \(3,\) is out of range"):
        layers.Normalization(axis=3).adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"adapt needs a Dataset of feature tensors.*ds.map\(lambda x, y: x\)"):
        layers.Normalization().adapt(gf.data.Dataset.from_tensor_slices((np.ones((4, 2)), np.ones(4))))
    with pytest.raises(ValueError, match=r"mean/variance of shape \(2,\) do not fit the statistics shape \(3,\)"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0])(np.ones((2, 3), np.float32))
