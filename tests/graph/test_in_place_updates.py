"""A compiled step updates parameters and optimizer slots in their own buffers, unless someone holds one."""
import numpy as np
import pytest

import gpuflow as gf

keras = gf.keras


def _model(optimizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3)])
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _buffers(model):
    slots = [v for v in model.optimizer.variables if v is not model.optimizer.iterations]
    return [id(v._data) for v in model.weights + slots]


@pytest.mark.parametrize("device", ["cpu", "sim", pytest.param("cuda", marks=pytest.mark.gpu)])
@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_updates_write_into_the_variables_own_buffers(device, optimizer):
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 6), dtype=np.float32), rng.integers(0, 3, 64)
    with gf.device(device):
        model = _model(optimizer)
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        buffers = _buffers(model)
        before = [w.numpy() for w in model.weights]
        model.fit(x, y, batch_size=32, epochs=2, verbose=0)
        assert _buffers(model) == buffers  # no new buffers: every update wrote in place
        assert all(not np.array_equal(a, w.numpy()) for a, w in zip(before, model.weights))


def test_a_kept_value_is_never_overwritten():
    rng = np.random.default_rng(1)
    x, y = rng.random((64, 6), dtype=np.float32), rng.integers(0, 3, 64)
    with gf.device("sim"):
        model = _model("adam")
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        kept, view = model.weights[0].value(), gf.reshape(model.weights[2], [-1])  # a Tensor and a view
        snapshot = (kept.numpy().copy(), view.numpy().copy())
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    np.testing.assert_array_equal(kept.numpy(), snapshot[0])
    np.testing.assert_array_equal(view.numpy(), snapshot[1])
    assert not np.array_equal(model.weights[0].numpy(), snapshot[0])


def test_in_place_and_eager_training_agree():
    rng = np.random.default_rng(2)
    x, y = rng.random((96, 6), dtype=np.float32), rng.integers(0, 3, 96)
    results = []
    for eager in (True, False):
        model = _model(keras.optimizers.Adam(0.05))
        model.compile(optimizer=keras.optimizers.Adam(0.05), run_eagerly=eager,
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, batch_size=32, epochs=3, verbose=0)
        results.append([w.numpy() for w in model.weights])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
