"""Keras runs compiled by default: the compiled step gives eager's results, for every model of examples/."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow import keras
from harness import TOL, assert_close

layers = keras.layers


def _digits(n):
    (x, y), _ = keras.datasets.digits.load_data()
    return (x[:n] / 16.0).astype(np.float32), y[:n]


def _mlp():
    return keras.Sequential([layers.Flatten(input_shape=(8, 8)), layers.Dense(32, activation="relu"),
                             layers.Dense(10)])


def _cnn():  # examples/cnn.py's layers, smaller; Dropout left out: its masks are drawn per step
    return keras.Sequential([layers.Input(shape=(8, 8, 1)), layers.Conv2D(4, 3, padding="same", activation="relu"),
                             layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10)])


def _lstm():
    return keras.Sequential([layers.Input(shape=(8, 8)), layers.LSTM(8), layers.Dense(10)])


MODELS = {"mlp": (_mlp, lambda x: x), "cnn": (_cnn, lambda x: x[..., None]), "lstm": (_lstm, lambda x: x)}


def _train(build, x, y, run_eagerly, device, **compile_kwargs):
    with gf.device(device):
        keras.utils.set_random_seed(3)
        model = build()
        model.compile(optimizer=keras.optimizers.Adam(0.01), run_eagerly=run_eagerly, metrics=["accuracy"],
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), **compile_kwargs)
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        evaluated = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
        predicted = model.predict(x, batch_size=16, verbose=0)
    return [w.numpy() for w in model.weights], history.history, evaluated, predicted


@pytest.mark.parametrize("device", ["cpu", "sim"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_compiled_fit_evaluate_predict_match_eager(name, device):
    build, shape = MODELS[name]
    n = 40 if device == "cpu" else 24  # 3 batches of 16, the last one short (a second trace)
    x, y = _digits(n)
    x = shape(x)
    eager = _train(build, x, y, True, device)
    compiled = _train(build, x, y, False, device)
    assert_close(compiled[0], eager[0], *TOL["float32"], f"{name} weights on {device}")
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(compiled[1][key], eager[1][key], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(compiled[2][key], eager[2][key], rtol=1e-4, atol=1e-5)
    assert_close(compiled[3], eager[3], *TOL["float32"], f"{name} predictions on {device}")


def test_fit_runs_a_compiled_step_by_default_and_traces_once_per_batch_shape():
    x, y = _digits(40)
    model = _mlp()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    train = model.make_train_function()
    assert isinstance(train, gf.graph.Function) and not model.run_eagerly
    assert train.experimental_get_tracing_count() == 2  # batches of 16, and the last one of 8
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=True)
    assert model.run_eagerly and not isinstance(model.make_train_function(), gf.graph.Function)


def test_steps_per_execution_gives_the_same_training():
    x, y = _digits(80)
    one = _train(_mlp, x, y, False, "cpu")
    three = _train(_mlp, x, y, False, "cpu", steps_per_execution=3)
    assert_close(three[0], one[0], *TOL["float32"], "steps_per_execution=3")
    np.testing.assert_allclose(three[1]["loss"], one[1]["loss"], rtol=1e-5)


def test_batch_callbacks_see_the_last_step_of_each_execution():
    x, y = _digits(80)  # 5 batches of 16
    seen = []
    model = _mlp()
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), steps_per_execution=2)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))])
    assert seen == [1, 3, 4]


def test_a_learning_rate_change_reaches_the_compiled_step():
    x, y = _digits(32)
    model = _mlp()
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.optimizer.learning_rate = 0.0  # a callback's or the user's assign between steps
    before = [w.numpy() for w in model.weights]
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    for a, b in zip(before, model.weights):
        np.testing.assert_array_equal(a, b.numpy())
    assert int(model.optimizer.iterations) == 4


def test_a_schedule_is_evaluated_per_step_in_the_compiled_step():
    x, y = _digits(64)
    rates = []

    class Recording(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            rates.append(int(step))
            return 0.1 / (1 + int(step))

        def get_config(self):
            return {}

    model = _mlp()
    model.compile(keras.optimizers.SGD(Recording()), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert rates[-4:] == [0, 1, 2, 3]


def test_seed_code_with_its_own_tf_function_train_step():
    tf = gf  # `import gpuflow as tf`
    x, y = _digits(64)

    class MyModel(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.flatten = tf.keras.layers.Flatten()
            self.d1 = tf.keras.layers.Dense(32, activation="relu")
            self.d2 = tf.keras.layers.Dense(10)

        def call(self, x):
            return self.d2(self.d1(self.flatten(x)))

    model = MyModel()
    loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.Adam()
    train_loss = tf.keras.metrics.Mean(name="train_loss")
    train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="train_accuracy")

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            predictions = model(images, training=True)
            loss = loss_object(labels, predictions)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        train_loss(loss)
        train_accuracy(labels, predictions)

    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    losses = []
    for epoch in range(5):
        train_loss.reset_state()
        train_accuracy.reset_state()
        for images, labels in ds:
            train_step(images, labels)
        losses.append(float(train_loss.result()))
    assert train_step.experimental_get_tracing_count() == 1
    assert losses[-1] < losses[0] and int(optimizer.iterations) == 20
