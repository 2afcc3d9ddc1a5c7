"""get_config → from_config round-trips for every layer, with every constructor argument in the config."""
import inspect

import numpy as np
import pytest

from gpuflow.keras import constraints, initializers, layers, regularizers
from tests.harness import rand

LAYERS = [
    (layers.Dense(3, activation="gelu", use_bias=True, kernel_initializer=initializers.HeNormal(seed=1),
                  bias_initializer=initializers.Constant(0.5), kernel_regularizer=regularizers.L2(0.1),
                  bias_regularizer="l1", activity_regularizer=regularizers.L1L2(0.1, 0.2),
                  kernel_constraint=constraints.MaxNorm(2.0), bias_constraint="non_neg", name="d"), (2, 4)),
    (layers.Dense(2, use_bias=False, input_shape=(5,)), (2, 5)),
    (layers.Activation("softsign"), (2, 3)),
    (layers.ReLU(max_value=4.0, negative_slope=0.2, threshold=0.1), (2, 3)),
    (layers.LeakyReLU(negative_slope=0.05), (2, 3)),
    (layers.Softmax(axis=(1, 2)), (2, 3, 4)),
    (layers.Dropout(0.3, noise_shape=(None, 1), seed=4), (2, 3)),
    (layers.Flatten(data_format="channels_first"), (2, 3, 4)),
    (layers.Reshape((2, -1)), (2, 3, 4)),
    (layers.Permute((2, 1)), (2, 3, 4)),
    (layers.Embedding(10, 4, embeddings_initializer=initializers.RandomUniform(seed=2),
                      embeddings_regularizer="l2", embeddings_constraint="unit_norm"), None),
    (layers.Embedding(10, 4, mask_zero=True), None),
    (layers.Masking(mask_value=0.5), (2, 3, 4)),
    (layers.Add(), [(2, 3), (2, 3)]),
    (layers.Subtract(), [(2, 3), (2, 3)]),
    (layers.Multiply(), [(2, 3), (2, 3)]),
    (layers.Average(), [(2, 3), (2, 3)]),
    (layers.Maximum(), [(2, 3), (2, 3)]),
    (layers.Minimum(), [(2, 3), (2, 3)]),
    (layers.Concatenate(axis=1), [(2, 3), (2, 1)]),
    (layers.BatchNormalization(axis=1, momentum=0.9, epsilon=0.01, center=False,
                               gamma_initializer=initializers.RandomNormal(1.0, 0.1, seed=3),
                               moving_variance_initializer="ones", gamma_regularizer="l2",
                               gamma_constraint="non_neg", trainable=False), (2, 3, 4)),
    (layers.LayerNormalization(axis=[1, 2], epsilon=1e-5, scale=False,
                               beta_initializer=initializers.Constant(0.2)), (2, 3, 4)),
    (layers.Rescaling(0.5, offset=2.0, dtype="float64"), (2, 3)),
    (layers.TimeDistributed(layers.Dense(3, activation="relu", kernel_regularizer="l2"), name="td"), (2, 4, 5)),
    (layers.TimeDistributed(layers.Conv2D(2, 3, padding="same")), (2, 3, 5, 5, 1)),
]


def _inputs(shape):
    if shape is None:
        return np.array([[1, 9, 0]], np.int32)
    if isinstance(shape, list):
        return [rand(s, seed=i) for i, s in enumerate(shape)]
    return rand(shape)


@pytest.mark.parametrize("layer,shape", LAYERS, ids=lambda v: type(v).__name__ if hasattr(v, "get_config") else "")
def test_round_trip(layer, shape):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    # Every constructor argument is in the config, so nothing is lost on the way.
    params = inspect.signature(type(layer).__init__).parameters
    args = {n for n, p in params.items() if n != "self" and p.kind is p.POSITIONAL_OR_KEYWORD}
    assert args - {"input_length"} <= set(config), f"missing from the config: {args - set(config)}"
    # With the same weights, the rebuilt layer computes the same thing.
    x = _inputs(shape)
    kwargs = {"training": False} if isinstance(layer, (layers.Dropout, layers.BatchNormalization)) else {}
    expected = layer(x, **kwargs).numpy()
    again(x, **kwargs)
    again.set_weights(layer.get_weights())
    np.testing.assert_array_equal(again(x, **kwargs).numpy(), expected)
    assert again.trainable == layer.trainable and again.dtype == layer.dtype


def test_every_exported_layer_is_covered():
    covered = {type(layer) for layer, _ in LAYERS} | {layers.Lambda}  # Lambda refuses get_config (core tests)
    mine = {cls for name, cls in vars(layers).items() if isinstance(cls, type) and issubclass(cls, layers.Layer)
            and cls.__module__.split(".")[-1] in ("core", "merge", "normalization", "preprocessing", "wrappers")}
    assert mine <= covered, f"layers without a config round-trip test: {sorted(c.__name__ for c in mine - covered)}"
