"""Keras 3's remaining losses (MAPE, MSLE, LogCosh, Poisson, CosineSimilarity, Hinge, SquaredHinge,
CategoricalHinge, BinaryFocalCrossentropy): per-sample values against NumPy written from Keras' formulas, on
every device; classes with their configs; lookup by name; and training with one."""
import numpy as np
import pytest

import gpuflow as gf

L = gf.keras.losses
EPS = 1e-7


def _softplus(x):
    return np.logaddexp(0.0, x)


def _unit(x, axis=-1):
    return x / np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), 1e-12))


def _hinge_labels(y):
    return 2 * y - 1 if np.isin(y, (0.0, 1.0)).all() else y


def _focal(y, p, gamma=2.0, alpha=0.25, balance=False):
    c = np.clip(p, EPS, 1 - EPS)
    bce = -(y * np.log(c) + (1 - y) * np.log(1 - c))
    p_t = y * p + (1 - y) * (1 - p)
    out = (1 - p_t) ** gamma * bce
    if balance:
        out = (y * alpha + (1 - y) * (1 - alpha)) * out
    return out.mean(-1)


REFERENCES = {
    "mean_absolute_percentage_error": lambda y, p: 100 * np.mean(np.abs((y - p) / np.maximum(np.abs(y), EPS)), -1),
    "mean_squared_logarithmic_error": lambda y, p: np.mean(
        (np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(y, EPS) + 1)) ** 2, -1),
    "log_cosh": lambda y, p: np.mean((p - y) + _softplus(-2 * (p - y)) - np.log(2), -1),
    "poisson": lambda y, p: np.mean(p - y * np.log(p + EPS), -1),
    "cosine_similarity": lambda y, p: -np.sum(_unit(y) * _unit(p), -1),
    "hinge": lambda y, p: np.mean(np.maximum(1 - _hinge_labels(y) * p, 0), -1),
    "squared_hinge": lambda y, p: np.mean(np.maximum(1 - _hinge_labels(y) * p, 0) ** 2, -1),
    "categorical_hinge": lambda y, p: np.maximum(np.max((1 - y) * p, -1) - np.sum(y * p, -1) + 1, 0),
    "binary_focal_crossentropy": lambda y, p: _focal(y, p),
}


def _data(name, seed=0):
    rng = np.random.default_rng(seed)
    if name in ("hinge", "squared_hinge", "binary_focal_crossentropy"):
        y = rng.integers(0, 2, (5, 4)).astype(np.float64)
    elif name == "categorical_hinge":
        y = np.eye(4)[rng.integers(0, 4, 5)]
    else:
        y = rng.uniform(0.1, 3.0, (5, 4))
    p = rng.uniform(0.05, 0.95, (5, 4)) if name == "binary_focal_crossentropy" else rng.uniform(0.1, 3.0, (5, 4))
    if name == "hinge":
        p = rng.normal(size=(5, 4))
    return y, p


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_per_sample_values(device, name):
    y, p = _data(name)
    got = getattr(L, name)(gf.constant(y), gf.constant(p)).numpy()
    np.testing.assert_allclose(got, REFERENCES[name](y, p), rtol=1e-10, atol=1e-12)
    assert L.get(name) is getattr(L, name)


def test_hinge_keeps_labels_that_are_already_minus_one_and_one():
    y, p = np.array([[-1.0, 1.0, 1.0]]), np.array([[0.3, -0.2, 2.0]])
    np.testing.assert_allclose(L.hinge(gf.constant(y), gf.constant(p)).numpy(), np.mean(np.maximum(1 - y * p, 0), -1))


def test_focal_options_and_logits():
    y, p = _data("binary_focal_crossentropy", 1)
    logits = np.log(p / (1 - p))
    got = L.binary_focal_crossentropy(gf.constant(y), gf.constant(logits), from_logits=True, gamma=3.0,
                                      apply_class_balancing=True, alpha=0.4).numpy()
    np.testing.assert_allclose(got, _focal(y, p, gamma=3.0, alpha=0.4, balance=True), rtol=1e-9)


@pytest.mark.parametrize("cls", [L.MeanAbsolutePercentageError, L.MeanSquaredLogarithmicError, L.LogCosh, L.Poisson,
                                 L.CosineSimilarity, L.Hinge, L.SquaredHinge, L.CategoricalHinge,
                                 L.BinaryFocalCrossentropy])
def test_classes_reduce_and_round_trip_their_configs(cls):
    loss = cls(reduction="sum") if cls is not L.BinaryFocalCrossentropy else cls(gamma=1.5, reduction="sum")
    name = loss.fn.__name__
    y, p = _data(name, 2)
    expected = REFERENCES[name](y, p) if cls is not L.BinaryFocalCrossentropy else _focal(y, p, gamma=1.5)
    assert float(loss(gf.constant(y), gf.constant(p))) == pytest.approx(expected.sum(), rel=1e-9)
    again = L.deserialize(L.serialize(loss))
    assert type(again) is cls and again.get_config() == loss.get_config()
    assert isinstance(L.get(cls.__name__), cls)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        cls(not_an_option=1)


def test_a_model_trains_with_a_new_loss_by_name():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x @ rng.normal(size=(3, 1))).astype(np.float32)
    model = gf.keras.Sequential([gf.keras.Input((3,)), gf.keras.layers.Dense(1)])
    model.compile(gf.keras.optimizers.Adam(0.05), loss="log_cosh")
    history = model.fit(x, y, batch_size=16, epochs=15, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 3
