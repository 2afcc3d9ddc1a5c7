"""get_config → from_config round-trips for every layer, with every constructor argument in the config."""
import importlib
import inspect
import json
import pkgutil

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
    (layers.SpatialDropout1D(0.2, seed=5), (2, 3, 4)),
    (layers.SpatialDropout2D(0.4, data_format="channels_first", seed=6), (2, 3, 4, 4)),
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
    (layers.Dot(axes=(2, 1), normalize=True), [(2, 3, 4), (2, 4, 5)]),
    (layers.Dot(axes=-1), [(2, 3), (2, 3)]),
    (layers.BatchNormalization(axis=1, momentum=0.9, epsilon=0.01, center=False,
                               gamma_initializer=initializers.RandomNormal(1.0, 0.1, seed=3),
                               moving_variance_initializer="ones", gamma_regularizer="l2",
                               gamma_constraint="non_neg", trainable=False), (2, 3, 4)),
    (layers.LayerNormalization(axis=[1, 2], epsilon=1e-5, scale=False,
                               beta_initializer=initializers.Constant(0.2)), (2, 3, 4)),
    (layers.GroupNormalization(groups=2, axis=1, epsilon=1e-4, center=False,
                               gamma_initializer=initializers.RandomUniform(0.5, 1.5, seed=7),
                               gamma_regularizer="l2", gamma_constraint="non_neg"), (2, 4, 3)),
    (layers.GroupNormalization(groups=-1, beta_initializer=initializers.Constant(0.1)), (2, 3, 4)),
    (layers.Rescaling(0.5, offset=2.0, dtype="float64"), (2, 3)),
    (layers.Normalization(axis=(1, 2), mean=[[1.0, 2.0], [3.0, 4.0]], variance=[[1.0, 2.0], [0.5, 4.0]],
                          invert=True), (2, 2, 2)),
    (layers.Normalization(axis=None), (2, 3)),
    (layers.Resizing(3, 5, interpolation="nearest", crop_to_aspect_ratio=True, data_format="channels_first"),
     (2, 3, 4, 4)),
    (layers.Resizing(2, 3, pad_to_aspect_ratio=True, fill_value=1.0), (2, 4, 4, 1)),
    (layers.CenterCrop(2, 3, data_format="channels_first"), (2, 1, 4, 5)),
    (layers.RandomFlip("vertical", seed=3), (2, 4, 4, 1)),
    (layers.RandomRotation((-0.1, 0.2), fill_mode="wrap", interpolation="nearest", seed=1, fill_value=0.5),
     (2, 4, 4, 1)),
    (layers.RandomZoom(0.2, (-0.1, 0.3), fill_mode="constant", seed=2, data_format="channels_first"), (2, 1, 4, 4)),
    (layers.RandomTranslation((-0.2, 0.1), 0.3, fill_mode="nearest", fill_value=1.0), (2, 4, 4, 1)),
    (layers.TimeDistributed(layers.Dense(3, activation="relu", kernel_regularizer="l2"), name="td"), (2, 4, 5)),
    (layers.TimeDistributed(layers.Conv2D(2, 3, padding="same")), (2, 3, 5, 5, 1)),
    (layers.Conv1D(3, 2, strides=1, padding="causal", dilation_rate=2, activation="tanh",
                   kernel_regularizer="l2", bias_constraint="non_neg"), (2, 6, 2)),
    (layers.Conv2D(4, (3, 2), strides=(2, 1), padding="same", groups=2, use_bias=False,
                   kernel_initializer=initializers.HeUniform(seed=5)), (2, 5, 5, 2)),
    (layers.Conv2DTranspose(3, (3, 3), strides=(2, 1), padding="same", output_padding=(1, 0), activation="relu",
                            kernel_regularizer="l2"), (2, 4, 5, 2)),
    (layers.Conv2DTranspose(2, 2, strides=2, dilation_rate=1, use_bias=False), (2, 3, 3, 1)),
    (layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, depthwise_regularizer="l2",
                            bias_constraint="non_neg"), (2, 5, 5, 3)),
    (layers.SeparableConv2D(4, 3, padding="same", depth_multiplier=2, activation="tanh",
                            pointwise_initializer=initializers.HeUniform(seed=2), depthwise_constraint="non_neg"),
     (2, 5, 5, 2)),
    (layers.MaxPooling1D(3, strides=2, padding="same"), (2, 7, 3)),
    (layers.AveragePooling1D(2), (2, 6, 3)),
    (layers.MaxPooling2D((2, 3), padding="valid"), (2, 4, 6, 3)),
    (layers.AveragePooling2D(2, strides=1, padding="same"), (2, 3, 3, 2)),
    (layers.GlobalMaxPooling1D(keepdims=True), (2, 5, 3)),
    (layers.GlobalAveragePooling1D(), (2, 5, 3)),
    (layers.GlobalMaxPooling2D(), (2, 3, 4, 2)),
    (layers.GlobalAveragePooling2D(keepdims=True), (2, 3, 4, 2)),
    (layers.SimpleRNN(3, activation="relu", return_sequences=True, go_backwards=True,
                      recurrent_initializer=initializers.Orthogonal(seed=6)), (2, 4, 3)),
    (layers.LSTM(3, unit_forget_bias=False, return_state=True), (2, 4, 3)),
    (layers.GRU(2, reset_after=False, return_sequences=True), (2, 4, 3)),
    (layers.Bidirectional(layers.LSTM(2, return_sequences=True), merge_mode="sum"), (2, 4, 3)),
    (layers.ZeroPadding1D((1, 2)), (2, 3, 2)),
    (layers.ZeroPadding2D(((1, 0), (2, 1))), (2, 3, 3, 2)),
    (layers.MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, use_bias=False, output_shape=6, seed=3,
                               kernel_initializer=initializers.HeNormal(seed=4), kernel_regularizer="l2"), (2, 4, 5)),
    (layers.MultiHeadAttention(1, 2, bias_initializer="ones"), (2, 3, 2)),
    (layers.Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=1), [(2, 3, 4), (2, 5, 4)]),
    (layers.AdditiveAttention(use_scale=False), [(2, 3, 4), (2, 5, 4), (2, 5, 4)]),
    (layers.RepeatVector(3), (2, 4)),
    (layers.Cropping1D((1, 2)), (2, 5, 3)),
    (layers.Cropping2D(((1, 0), (0, 2)), data_format="channels_first"), (2, 3, 4, 5)),
    (layers.UpSampling1D(3), (2, 3, 2)),
    (layers.UpSampling2D((2, 3), interpolation="bilinear"), (2, 3, 4, 2)),
    (layers.UpSampling2D(2, data_format="channels_first"), (2, 2, 3, 3)),
    (layers.ELU(alpha=0.5), (2, 3)),
    (layers.PReLU(alpha_initializer=initializers.Constant(0.25), alpha_regularizer="l2", alpha_constraint="non_neg",
                  shared_axes=[1]), (2, 3, 4)),
    (layers.UnitNormalization(axis=[1, 2]), (2, 3, 4)),
    (layers.GaussianNoise(0.3, seed=2), (2, 3)),
    (layers.ActivityRegularization(l1=0.01, l2=0.02), (2, 3)),
    (layers.Layer(name="plain", dtype="float64", autocast=False), (2, 3)),
    (layers.Dense(3, dtype="mixed_float16"), (2, 4)),
]
# Exported layers with no round trip here, and why.
NOT_HERE = {
    layers.Lambda: "refuses get_config on purpose (tests/keras/layers/test_core_layers.py)",
    layers.InputLayer: "its config spells its shape one way of several; every saved model round-trips it "
                       "(tests/keras/engine/test_model_json.py: test_input_layer_round_trips)",
}


def _inputs(shape):
    if shape is None:
        return np.array([[1, 9, 0]], np.int32)
    if isinstance(shape, list):
        return [rand(s, seed=i) for i, s in enumerate(shape)]
    return rand(shape)


def _numpy(out):
    """A layer's output(s) as a list of arrays (an LSTM with return_state gives three)."""
    return [t.numpy() for t in (out if isinstance(out, (list, tuple)) else [out])]


def _json(config):
    """`config` as it comes back from a JSON file: what a saved model keeps (tuples become lists)."""
    return json.loads(json.dumps(config))


@pytest.mark.parametrize("layer,shape", LAYERS, ids=lambda v: type(v).__name__ if hasattr(v, "get_config") else "")
def test_round_trip(layer, shape):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    # Through JSON too, as model.to_json() and .keras files keep it: the revived layer gives the same config.
    revived = type(layer).from_config(_json(config))
    assert _json(revived.get_config()) == _json(config)
    # Every constructor argument is in the config, so nothing is lost on the way.
    params = inspect.signature(type(layer).__init__).parameters
    args = {n for n, p in params.items() if n != "self" and p.kind is p.POSITIONAL_OR_KEYWORD}
    assert args - {"input_length"} <= set(config), f"missing from the config: {args - set(config)}"
    # With the same weights, the rebuilt layers compute the same thing.
    x = _inputs(shape)
    random = (layers.Dropout, layers.BatchNormalization, layers.RandomFlip, layers.RandomRotation, layers.RandomZoom,
              layers.RandomTranslation, layers.GaussianNoise)
    kwargs = {"training": False} if isinstance(layer, random) else {}
    expected = _numpy(layer(x, **kwargs))
    for copy in (again, revived):
        copy(x, **kwargs)
        copy.set_weights(layer.get_weights())
        for a, e in zip(_numpy(copy(x, **kwargs)), expected, strict=True):
            np.testing.assert_array_equal(a, e)
        assert copy.trainable == layer.trainable and copy.dtype == layer.dtype


def _is_layer(obj):
    return isinstance(obj, type) and issubclass(obj, layers.Layer)


# Found by looking, not listed: a new layer exported from gf.keras.layers fails here until LAYERS has a row for it.
EXPORTED = sorted({cls for cls in vars(layers).values() if _is_layer(cls)}, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", EXPORTED, ids=lambda c: c.__name__)
def test_every_exported_layer_has_a_round_trip(cls):
    if cls is layers.Lambda:  # its code is never saved, so it refuses get_config
        with pytest.raises(NotImplementedError, match="not serialised"):
            layers.Lambda(lambda x: x).get_config()
        return
    if cls in NOT_HERE:
        pytest.skip(NOT_HERE[cls])
    rows = [layer for layer, _ in LAYERS if type(layer) is cls]
    assert rows, f"{cls.__name__} has no config round-trip test: add a row for it to LAYERS"


def test_every_layer_class_is_exported():
    # load_model finds a layer class by its name in gf.keras.layers, so a class left out there cannot be loaded.
    for info in pkgutil.iter_modules(layers.__path__):  # every module, even one nothing imports yet
        module = importlib.import_module(f"{layers.__name__}.{info.name}")
        for name, cls in vars(module).items():
            if _is_layer(cls) and cls.__module__ == module.__name__ and not name.startswith("_"):
                assert getattr(layers, name, None) is cls, f"{module.__name__}.{name} is not in gf.keras.layers"
