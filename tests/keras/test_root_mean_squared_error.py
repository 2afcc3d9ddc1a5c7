"""RootMeanSquaredError: Keras's values (sqrt of the weighted mean over samples of each sample's mean squared
error, the root taken after accumulating), sample weights of every rank, config round-trip, and name lookup."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import metrics

RNG = np.random.default_rng(7)


def reference(batches):
    """float64 NumPy: per-sample mean of squared errors over non-batch axes, weighted mean over samples, sqrt."""
    errors, weights = [], []
    for y_true, y_pred, w in batches:
        sq = (np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64)) ** 2
        if w is None:
            w = np.ones(sq.shape[:1])
        w = np.broadcast_to(np.asarray(w, np.float64).reshape(np.shape(w) + (1,) * (sq.ndim - np.ndim(w))), sq.shape)
        axes = tuple(range(1, sq.ndim))
        # Keras: values * weight, then both reduced with a mean over the weight's non-batch axes.
        errors.append((sq * w).mean(axis=axes) if axes else sq * w)
        weights.append(w.mean(axis=axes) if axes else w)
    return np.sqrt(np.sum(np.concatenate(errors)) / np.sum(np.concatenate(weights)))


def test_keras_docstring_values(device):
    m = metrics.RootMeanSquaredError()
    m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    np.testing.assert_allclose(m.result().numpy(), 0.5, rtol=1e-6)
    m.reset_state()
    m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]], sample_weight=[1, 0])
    np.testing.assert_allclose(m.result().numpy(), np.sqrt(0.5), rtol=1e-6)


@pytest.mark.parametrize("shape", [(6,), (5, 1), (4, 3), (3, 2, 4), (1, 7)])
@pytest.mark.parametrize("weighting", ["none", "per_sample", "column", "full"])
def test_matches_numpy_over_several_batches(device, shape, weighting):
    m = metrics.RootMeanSquaredError(dtype="float64")
    batches = []
    for _ in range(3):
        y_true, y_pred = RNG.normal(size=shape), RNG.normal(size=shape)
        w = {"none": None, "per_sample": RNG.uniform(0.1, 2, shape[:1]),
             "column": RNG.uniform(0.1, 2, shape[:1] + (1,)) if len(shape) > 1 else RNG.uniform(0.1, 2, shape[:1]),
             "full": RNG.uniform(0.1, 2, shape)}[weighting]
        batches.append((y_true, y_pred, w))
        m.update_state(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(m.result().numpy(), reference(batches), rtol=1e-10)


def test_accumulates_before_the_root():
    # Two batches with errors 0 and 2: sqrt(mean(0, 4)) = sqrt(2), not mean(0, 2) = 1.
    m = metrics.RootMeanSquaredError()
    m.update_state([0.0], [0.0])
    m.update_state([0.0], [2.0])
    np.testing.assert_allclose(m.result().numpy(), np.sqrt(2.0), rtol=1e-6)


def test_column_labels_against_flat_predictions_are_aligned():
    # squeeze_or_expand_to_same_rank: y_true (N, 1) vs y_pred (N,) compares per sample, never broadcasts to (N, N).
    m = metrics.RootMeanSquaredError()
    m.update_state(np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 2.0, 5.0]))
    np.testing.assert_allclose(m.result().numpy(), np.sqrt(4.0 / 3.0), rtol=1e-6)


def test_empty_result_is_zero_and_reset_clears():
    m = metrics.RootMeanSquaredError()
    assert m.result().numpy() == 0.0
    m.update_state([1.0, 2.0], [3.0, 3.0])
    m.reset_state()
    assert all(np.all(v.numpy() == 0) for v in m.variables) and m.result().numpy() == 0.0


def test_config_round_trip_and_serialization():
    m = metrics.RootMeanSquaredError(name="rmse", dtype="float64")
    assert m.get_config() == {"name": "rmse", "dtype": "float64"}
    again = metrics.RootMeanSquaredError.from_config(m.get_config())
    assert again.name == "rmse" and again.dtype == gf.float64
    revived = metrics.deserialize(metrics.serialize(m))
    assert type(revived) is metrics.RootMeanSquaredError and revived.name == "rmse"


def test_name_lookup_follows_keras():
    assert type(metrics.get("RootMeanSquaredError")) is metrics.RootMeanSquaredError
    assert type(metrics.get("root_mean_squared_error")) is metrics.RootMeanSquaredError
    assert metrics.get("mean_squared_error") is metrics.mean_squared_error  # the function wins, as in Keras
    with pytest.raises(ValueError, match="Keras has no 'rmse' alias"):
        metrics.get("rmse")


def test_in_fit_history(device):
    model = gf.keras.Sequential([gf.keras.layers.Dense(1, input_shape=(3,), kernel_initializer="zeros")])
    model.compile("sgd", "mse", metrics=["root_mean_squared_error", metrics.RootMeanSquaredError(name="rmse")])
    x, y = RNG.normal(size=(8, 3)).astype("float32"), RNG.normal(size=(8, 1)).astype("float32")
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["root_mean_squared_error"], np.sqrt(np.mean(y ** 2)), rtol=1e-5)
    np.testing.assert_allclose(logs["rmse"], logs["root_mean_squared_error"], rtol=1e-6)
    np.testing.assert_allclose(logs["rmse"] ** 2, logs["loss"], rtol=1e-5)
