"""The engine with the real gf.keras.layers: configs round-trip through the layer registry."""
import numpy as np

from gpuflow import keras
from gpuflow.keras import layers as L


def test_mnist_mlp_summary_and_sequential_config_round_trip():
    model = keras.Sequential([L.Dense(128, activation="relu", input_shape=(784,)), L.Dropout(0.2),
                              L.Dense(10, activation="softmax")])
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 101,770 (397.54 KB)" in lines
    clone = keras.Sequential.from_config(model.get_config())
    assert [type(layer).__name__ for layer in clone.layers] == ["Dense", "Dropout", "Dense"]
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_functional_config_round_trip_with_two_inputs_and_batch_norm_state():
    num, tok = keras.Input((8,), name="num"), keras.Input((5,), dtype="int32", name="tok")
    merged = L.Concatenate()([L.Dense(4)(num), L.Flatten()(L.Embedding(20, 3)(tok))])
    out = L.Dense(1, activation="sigmoid", name="out")(L.BatchNormalization()(merged))
    model = keras.Model([num, tok], out)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x, t = rng.random((32, 8), dtype=np.float32), rng.integers(0, 20, (32, 5))
    history = model.fit([x, t], (x[:, :1] > 0.5).astype(np.float32), epochs=2, batch_size=8, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())  # includes the BatchNormalization moving statistics
    np.testing.assert_allclose(clone.predict([x, t], verbose=0), model.predict([x, t], verbose=0), rtol=1e-5)


def test_fit_evaluate_predict_on_gf_data_datasets():
    import gpuflow as gf
    rng = np.random.default_rng(0)
    x = rng.random((64, 3), dtype=np.float32)
    y = x @ np.array([[1.0], [2.0], [3.0]], np.float32)
    train = gf.data.Dataset.from_tensor_slices((x, y)).shuffle(64).batch(16)
    model = keras.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    history = model.fit(train, epochs=4, validation_data=train.take(1), verbose=0)
    assert len(history.history["val_loss"]) == 4 and history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(gf.data.Dataset.from_tensor_slices(x).batch(32), verbose=0).shape == (64, 1)
    endless = gf.data.Dataset.from_tensor_slices((x, y)).batch(10).repeat()
    assert len(model.fit(endless, steps_per_epoch=3, epochs=2, verbose=0).epoch) == 2
