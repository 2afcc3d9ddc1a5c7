"""prefetch_to_device / copy_to_device, and fit/evaluate/predict through the scheduler: same results as without."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.backend.cuda import CudaBackend
from gpuflow.errors import InvalidArgumentError
from gpuflow.runtime import scheduler

from _stream_helpers import each_schedule

DEVICES = ["cpu", "sim", pytest.param("cuda", marks=pytest.mark.gpu)]
X = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
Y = np.arange(10)


def dataset():
    return gf.data.Dataset.from_tensor_slices((X, Y)).map(lambda a, b: (a * 2.0, b)).batch(3)


@pytest.mark.parametrize("device", DEVICES)
def test_prefetch_to_device_yields_uploaded_tensors_in_order(device):
    ds = dataset().apply(gf.data.experimental.prefetch_to_device(device))
    assert ds.element_spec == dataset().element_spec and len(ds) == 4
    batches = list(ds)
    assert all(x.device == str(gf.devices.parse(device)) and y.dtype == gf.int64 for x, y in batches)
    np.testing.assert_allclose(np.concatenate([x.numpy() for x, _ in batches]), X * 2)
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in batches]), Y)


def test_copy_to_device_and_its_arguments():
    out = list(dataset().apply(gf.data.experimental.copy_to_device("sim")))
    assert [x.shape[0] for x, _ in out] == [3, 3, 3, 1] and out[0][0].device == "sim:0"
    with pytest.raises(InvalidArgumentError, match="source_device must be the host"):
        gf.data.experimental.copy_to_device("sim", source_device="sim")
    with pytest.raises(InvalidArgumentError, match="buffer_size must be >= 1"):
        dataset().apply(gf.data.experimental.prefetch_to_device("sim", buffer_size=0))


def test_prefetch_to_device_must_come_last():
    ds = dataset().apply(gf.data.experimental.prefetch_to_device("sim")).map(lambda a, b: a)
    with pytest.raises(InvalidArgumentError, match="must be the last transformation"):
        list(ds)


def _train(device, data, on, epochs=2):
    scheduler.set_enabled(on)
    np.random.seed(0)
    with gf.device(device):
        gf.random.set_seed(1)
        model = gf.keras.Sequential([gf.keras.layers.Dense(8, activation="relu"), gf.keras.layers.Dropout(0.25),
                                     gf.keras.layers.Dense(3)])
        model.compile("adam", gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        x, y = data()
        if y is None:
            history = model.fit(x, epochs=epochs, verbose=0)
            evaluation = model.evaluate(x, verbose=0)
        else:
            history = model.fit(x, y, batch_size=16, epochs=epochs, shuffle=True, verbose=0)
            evaluation = model.evaluate(x, y, batch_size=16, verbose=0)
        prediction = model.predict(TRAIN_X, batch_size=16, verbose=0)
    return history.history, evaluation, prediction


TRAIN_X = np.random.default_rng(1).normal(size=(64, 5)).astype(np.float32)
TRAIN_Y = np.random.default_rng(2).integers(0, 3, size=64)
DATA = {
    "arrays": lambda: (TRAIN_X, TRAIN_Y),
    "float64 arrays": lambda: (TRAIN_X.astype(np.float64), TRAIN_Y),
    "dataset": lambda: (gf.data.Dataset.from_tensor_slices((TRAIN_X, TRAIN_Y)).shuffle(64, seed=3)
                        .map(lambda a, b: (a + 1.0, b)).batch(16), None),
    "batch list": lambda: ([(TRAIN_X[i:i + 16], TRAIN_Y[i:i + 16]) for i in range(0, 64, 16)], None),
    "device tensors": lambda: (gf.constant(TRAIN_X), gf.constant(TRAIN_Y)),
    "float64 device tensors": lambda: (gf.constant(TRAIN_X.astype(np.float64)), gf.constant(TRAIN_Y)),
}


def test_float64_device_tensors_train_as_float32_arrays_do():
    assert _train("sim", DATA["float64 device tensors"], True)[0] == _train("sim", DATA["arrays"], True)[0]


@pytest.mark.parametrize("device", ["cpu", "sim"])
@pytest.mark.parametrize("data", sorted(DATA))
def test_fit_evaluate_predict_give_the_same_results_with_and_without_the_scheduler(device, data):
    with_it, without = _train(device, DATA[data], True), _train(device, DATA[data], False)
    assert with_it[0] == without[0] and with_it[1] == without[1]
    np.testing.assert_array_equal(with_it[2], without[2])


def test_fit_on_sim_is_the_same_under_every_schedule():
    reference = _train("sim", DATA["arrays"], False)
    for got in each_schedule(lambda: _train("sim", DATA["arrays"], True)):
        assert got[0] == reference[0] and got[1] == reference[1]
        np.testing.assert_array_equal(got[2], reference[2])


def test_device_resident_data_is_sliced_on_the_device(monkeypatch):
    with gf.device("sim"):
        x, y = gf.constant(TRAIN_X), gf.constant(TRAIN_Y)
    pulled = []
    to_numpy = CudaBackend.to_numpy
    monkeypatch.setattr(CudaBackend, "to_numpy",
                        lambda self, data, dtype: pulled.append(data.shape) or to_numpy(self, data, dtype))
    _train("sim", lambda: (x, y), True, epochs=1)
    assert (64, 5) not in pulled and (64,) not in pulled  # never the whole data set
    assert (16, 5) not in pulled  # nor a batch of it: batches are gathered on the device
