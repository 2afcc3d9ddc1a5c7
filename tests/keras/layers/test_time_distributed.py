"""TimeDistributed: forward vs NumPy and vs calling the wrapped layer on each step, one call of the wrapped layer
per call, float64 gradients (inputs and shared weights), configs, Sequential/functional models, masks, errors."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from tests.harness import check_grad, rand


def mask_of(t):
    m = getattr(t, "_keras_mask", None)
    return None if m is None else np.asarray(m.numpy())


@pytest.mark.parametrize("shape", [(2, 5, 3), (1, 1, 4), (3, 2, 4, 3), (0, 3, 2), (4, 0, 3)])
def test_dense_matches_numpy(device, shape):
    td = layers.TimeDistributed(layers.Dense(6, activation="tanh", bias_initializer="glorot_uniform"))
    x = rand(shape)
    y = td(x)
    kernel, bias = td.layer.kernel.numpy(), td.layer.bias.numpy()
    np.testing.assert_allclose(y.numpy(), np.tanh(x @ kernel + bias), rtol=1e-5, atol=1e-6)
    assert y.shape == shape[:-1] + (6,)


@pytest.mark.parametrize("wrapped", [lambda: layers.Dense(3), lambda: layers.Conv2D(4, 3, padding="same"),
                                     lambda: layers.Conv2D(2, (2, 3), strides=2), lambda: layers.MaxPooling2D(2)],
                         ids=["dense", "conv_same", "conv_strided", "maxpool"])
def test_matches_the_wrapped_layer_on_each_step(device, wrapped):
    inner = wrapped()
    shape = (2, 4, 3) if isinstance(inner, layers.Dense) else (2, 3, 6, 7, 2)
    td = layers.TimeDistributed(inner)
    x = rand(shape, seed=3)
    y = td(x).numpy()
    steps = np.stack([inner(x[:, t]).numpy() for t in range(shape[1])], axis=1)
    np.testing.assert_allclose(y, steps, rtol=1e-5, atol=1e-6)


def test_wrapped_layer_is_called_once_not_once_per_step():
    inner = layers.Dense(2)
    calls = []
    original = inner.call

    def spy(inputs):
        calls.append(tuple(inputs.shape))
        return original(inputs)
    inner.call = spy
    layers.TimeDistributed(inner)(rand((3, 7, 5)))
    assert calls == [(21, 5)]


def test_weights_are_the_wrapped_layers_shared_by_all_steps():
    td = layers.TimeDistributed(layers.Dense(4))
    td(rand((2, 9, 3)))
    assert [w is v for w, v in zip(td.weights, td.layer.weights)] == [True, True]
    assert [tuple(w.shape) for w in td.trainable_weights] == [(3, 4), (4,)]
    assert td.count_params() == 16


def _dense_fn(td):
    """fn(x, kernel, bias) → td(x) with the wrapped Dense's weights replaced by those tensors (for check_grad)."""
    def fn(x, kernel, bias):
        saved = td.layer.kernel, td.layer.bias
        td.layer.kernel, td.layer.bias = kernel, bias
        try:
            return td(x)
        finally:
            td.layer.kernel, td.layer.bias = saved
    return fn


def test_gradients_float64_dense():
    td = layers.TimeDistributed(layers.Dense(3, activation="sigmoid", dtype="float64"), dtype="float64")
    x = rand((2, 4, 3), "float64", seed=1)
    td(x)
    check_grad(_dense_fn(td), [x, td.layer.kernel.numpy(), td.layer.bias.numpy()])


def test_gradients_float64_conv2d():
    td = layers.TimeDistributed(layers.Conv2D(2, 2, dtype="float64"))  # its dtype follows the wrapped layer's
    assert td.dtype == "float64"
    x = rand((1, 2, 3, 3, 2), "float64", seed=2)
    td(x)

    def fn(x, kernel):
        saved = td.layer.kernel
        td.layer.kernel = kernel
        try:
            return td(x)
        finally:
            td.layer.kernel = saved
    check_grad(fn, [x, td.layer.kernel.numpy()])


def test_weight_gradient_sums_over_steps():
    # A weight used at every step gets the sum of the per-step gradients.
    td = layers.TimeDistributed(layers.Dense(2, use_bias=False))
    x = rand((2, 3, 4))
    with gf.GradientTape() as tape:
        loss = gf.reduce_sum(td(x))
    (g,) = tape.gradient(loss, td.trainable_weights)
    np.testing.assert_allclose(g.numpy(), np.repeat(x.reshape(-1, 4).sum(0)[:, None], 2, axis=1), rtol=1e-5)


def test_config_round_trip_rebuilds_the_wrapped_layer():
    td = layers.TimeDistributed(layers.Conv2D(3, 2, activation="relu", name="c"), name="td")
    config = td.get_config()
    assert config["layer"]["class_name"] == "Conv2D" and config["layer"]["config"]["filters"] == 3
    again = layers.TimeDistributed.from_config(config)
    assert again.get_config() == config and again.layer is not td.layer and again.layer.name == "c"
    x = rand((2, 3, 4, 4, 1))
    expected = td(x).numpy()
    again(x)
    again.set_weights(td.get_weights())
    np.testing.assert_array_equal(again(x).numpy(), expected)


def test_in_sequential_fit_save_and_load(tmp_path):
    model = gf.keras.Sequential([layers.TimeDistributed(layers.Dense(8, activation="relu"), input_shape=(5, 3)),
                                 layers.TimeDistributed(layers.Dense(1))])
    assert tuple(model.output_shape) == (None, 5, 1) and model.count_params() == 32 + 9
    x = rand((16, 5, 3), seed=4)
    y = x.sum(-1, keepdims=True)
    model.compile(gf.keras.optimizers.Adam(0.05), "mse")
    history = model.fit(x, y, epochs=15, batch_size=8, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]
    path = str(tmp_path / "td.keras")
    model.save(path)
    loaded = gf.keras.models.load_model(path)
    assert type(loaded.layers[0]) is layers.TimeDistributed
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    clone = gf.keras.models.clone_model(model)
    assert [type(layer.layer) for layer in clone.layers] == [layers.Dense, layers.Dense]


def test_in_functional_model_with_conv2d_and_unknown_time():
    inputs = gf.keras.Input((None, 8, 8, 1))
    h = layers.TimeDistributed(layers.Conv2D(4, 3, activation="relu"))(inputs)
    h = layers.TimeDistributed(layers.GlobalAveragePooling2D())(h)
    outputs = layers.TimeDistributed(layers.Dense(2))(h)
    model = gf.keras.Model(inputs, outputs)
    assert tuple(model.output_shape) == (None, None, 2)
    for steps in (1, 3):
        assert model.predict(rand((2, steps, 8, 8, 1)), verbose=0).shape == (2, steps, 2)
    rebuilt = gf.keras.Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    x = rand((2, 3, 8, 8, 1), seed=5)
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_summary_lists_it_with_the_wrapped_weights():
    model = gf.keras.Sequential([layers.TimeDistributed(layers.Dense(4), input_shape=(5, 3), name="per_step")])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "per_step" in text and "(None, 5, 4)" in text and "16" in text


def test_mask_passes_through_to_the_outputs(device):
    ids = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    x = layers.Embedding(5, 3, mask_zero=True)(ids)
    y = layers.TimeDistributed(layers.Dense(2))(x)
    np.testing.assert_array_equal(mask_of(y), ids != 0)


def test_mask_reaches_a_wrapped_layer_that_takes_one():
    seen = []

    class Recorder(layers.Layer):
        def call(self, inputs, mask=None):
            seen.append(None if mask is None else mask.numpy())
            return inputs * 2.0

    x = gf.constant(rand((2, 3, 4)))
    x._keras_mask = gf.constant(np.array([[True, True, False], [True, False, False]]))
    layers.TimeDistributed(Recorder())(x)
    np.testing.assert_array_equal(seen[0], [True, True, False, True, False, False])


def test_masked_model_ignores_padded_steps():
    # Embedding(mask_zero) → TimeDistributed(Dense) → LSTM: padding never changes the LSTM's last output.
    inputs = gf.keras.Input((None,), dtype="int32")
    h = layers.Embedding(6, 4, mask_zero=True)(inputs)
    h = layers.TimeDistributed(layers.Dense(3, activation="tanh"))(h)
    model = gf.keras.Model(inputs, layers.LSTM(2)(h))
    short = model.predict(np.array([[4, 2]]), verbose=0)
    padded = model.predict(np.array([[4, 2, 0, 0, 0]]), verbose=0)
    np.testing.assert_allclose(padded, short, rtol=1e-5, atol=1e-6)


def test_training_flag_reaches_the_wrapped_layer():
    td = layers.TimeDistributed(layers.Dropout(0.5, seed=1))
    x = np.ones((4, 6, 8), np.float32)
    np.testing.assert_array_equal(td(x, training=False).numpy(), x)
    dropped = td(x, training=True).numpy()
    assert set(np.unique(dropped)) == {0.0, 2.0}


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match="TimeDistributed: layer must be a gf.keras.layers.Layer instance"):
        layers.TimeDistributed("dense")
    with pytest.raises(ValueError, match=r"td \(TimeDistributed\): expects inputs of rank >= 3.*\(4, 3\)"):
        layers.TimeDistributed(layers.Dense(2), name="td")(rand((4, 3)))
    bad = gf.constant(rand((2, 3, 4)))
    bad._keras_mask = gf.constant(np.ones((2, 5), bool))
    with pytest.raises(ValueError, match=r"mask must be shaped \(2, 3, \.\.\.\).*\(2, 5\)"):
        layers.TimeDistributed(layers.Dense(2))(bad)
