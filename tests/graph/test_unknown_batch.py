"""Keras layers trace once with an unknown batch size (input_signature with None first dim), as a serving
signature needs: the graph then answers every batch size, equal to the eager layer."""
import numpy as np
import pytest

import gpuflow as gf

L = gf.keras.layers

CASES = {  # name: (layer factory, input shape without the batch, dtype)
    "flatten": (lambda: L.Flatten(), (4, 3), "float32"),
    "dense": (lambda: L.Dense(5, activation="relu"), (6,), "float32"),
    "conv2d": (lambda: L.Conv2D(4, 3, padding="same", activation="relu"), (6, 6, 2), "float32"),
    "conv2d_groups": (lambda: L.Conv2D(4, 3, groups=2), (6, 6, 2), "float32"),
    "max_pool": (lambda: L.MaxPooling2D(2), (6, 6, 2), "float32"),
    "avg_pool": (lambda: L.AveragePooling2D(2), (6, 6, 2), "float32"),
    "batch_norm": (lambda: L.BatchNormalization(), (6,), "float32"),
    "layer_norm": (lambda: L.LayerNormalization(), (3, 6), "float32"),
    "dropout": (lambda: L.Dropout(0.5), (6,), "float32"),
    "lstm": (lambda: L.LSTM(5), (4, 3), "float32"),
    "lstm_sequences": (lambda: L.LSTM(5, return_sequences=True), (4, 3), "float32"),
    "gru": (lambda: L.GRU(5), (4, 3), "float32"),
    "simple_rnn": (lambda: L.SimpleRNN(5), (4, 3), "float32"),
    "embedding": (lambda: L.Embedding(10, 3), (4,), "int32"),
    "softmax": (lambda: L.Softmax(), (6,), "float32"),
    "reshape": (lambda: L.Reshape((2, 3)), (6,), "float32"),
}


def _input(shape, dtype, batch, rng):
    if dtype == "int32":
        return rng.integers(0, 10, (batch,) + shape).astype("int32")
    return rng.standard_normal((batch,) + shape).astype("float32")


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_traces_once_for_any_batch(name, device):
    make, shape, dtype = CASES[name]
    rng = np.random.default_rng(0)
    with gf.device(device):
        layer = make()
        layer(_input(shape, dtype, 2, rng))  # build
        f = gf.function(lambda x: layer(x, training=False), input_signature=[gf.TensorSpec((None,) + shape, dtype)])
        graph = f.get_concrete_function().graph
        assert graph.inputs[0].shape[0] is None and graph.outputs[0].shape[0] is None
        for batch in (1, 3, 5):
            x = _input(shape, dtype, batch, rng)
            np.testing.assert_allclose(f(x).numpy(), layer(x, training=False).numpy(), rtol=1e-6, atol=1e-6)
        assert f.experimental_get_tracing_count() == 1, "an unknown batch size must not need one trace per shape"
