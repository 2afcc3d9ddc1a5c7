"""Every model of examples/ gives the same training and predictions compiled with the graph passes on, compiled
with them off, and eagerly, on cpu and sim: two Adam steps on a batch of 8 digits, then predict.

The models come from examples/ itself where the example defines a builder (mnist_mlp, cnn, export_mobile,
custom_training_loop's MyModel); lstm_sequence builds its model inline, so its layers are repeated here.
mirrored_mnist trains mnist_mlp's model under MirroredStrategy (logical devices can be split once per process:
the distributed step has its own tests)."""
import numpy as np
import pytest

import gpuflow as gf
from example_models import digits, example_module
from harness import TOL, assert_close
from pass_graphs import optimizer_options

keras = gf.keras
MODES = ("eager", "passes_off", "passes_on")


def _lstm():
    return keras.Sequential([keras.Input(shape=(8, 8)), keras.layers.LSTM(64), keras.layers.Dense(10)])


BUILDERS = {
    "mnist_mlp": (lambda: example_module("mnist_mlp").build_model((8, 8)), False),
    "cnn": (lambda: example_module("cnn").build_model((8, 8, 1)), True),
    "lstm_sequence": (_lstm, False),
    "export_mobile": (lambda: example_module("export_mobile").build_model(), True),
}
LOSS = dict(from_logits=True)


def _keras_run(name, mode, device):
    build, channels = BUILDERS[name]
    x, y = digits(8, channels=channels)
    with gf.device(device):
        keras.utils.set_random_seed(0)
        model = build()
        from_logits = name != "export_mobile"  # its model ends in a Softmax
        # epsilon 1e-3: Adam would turn the rounding noise of a gradient that is zero in exact arithmetic (a
        # convolution's bias before BatchNormalization) into full-size steps whose signs differ with the order
        # a reduction adds in (fused kernels add in another order than the unfused ones)
        model.compile(optimizer=keras.optimizers.Adam(3e-3, epsilon=1e-3), metrics=["accuracy"],
                      run_eagerly=mode == "eager",
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits))
        logs = [model.train_on_batch(x, y, return_dict=True) for _ in range(2)]
        predicted = model.predict(x, batch_size=8, verbose=0)
    return [w.numpy() for w in model.weights], logs, predicted


def _custom_loop_run(mode, device):
    """examples/custom_training_loop.py's step (its train_step, as a gf.function unless eager)."""
    x, y = digits(8)
    with gf.device(device):
        keras.utils.set_random_seed(0)
        model = example_module("custom_training_loop").MyModel()
        loss_object = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        optimizer = keras.optimizers.Adam()
        train_loss = keras.metrics.Mean(name="train_loss")
        train_accuracy = keras.metrics.SparseCategoricalAccuracy(name="train_accuracy")

        def train_step(images, labels):
            with gf.GradientTape() as tape:
                predictions = model(images, training=True)
                loss = loss_object(labels, predictions)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            train_loss.update_state(loss)
            train_accuracy.update_state(labels, predictions)
        images, labels = gf.constant(x), gf.constant(y)
        # Built first: built inside the traced step, its weights would be drawn at trace time, before the
        # dropout mask that eager code draws between them (same numbers, another order)
        model(images)
        step = train_step if mode == "eager" else gf.function(train_step)
        for _ in range(2):
            step(images, labels)
        logs = [{"loss": train_loss.result().numpy(), "accuracy": train_accuracy.result().numpy()}]
        predicted = model(images, training=False).numpy()
    return [w.numpy() for w in model.weights], logs, predicted


def _run(name, mode, device):
    options = {} if mode != "passes_off" else {"disable_meta_optimizer": True}
    with optimizer_options(**options):
        return _custom_loop_run(mode, device) if name == "custom_training_loop" else _keras_run(name, mode, device)


@pytest.mark.parametrize("device", ["cpu", "sim"])
@pytest.mark.parametrize("name", [*BUILDERS, "custom_training_loop"])
def test_compiled_with_passes_matches_without_and_eager(name, device):
    runs = {mode: _run(name, mode, device) for mode in MODES}
    weights, logs, predicted = runs["passes_on"]
    for other in ("passes_off", "eager"):
        what = f"{name} on {device}, passes on against {other}"
        assert_close(weights, runs[other][0], *TOL["float32"], f"{what}: weights")
        assert_close(predicted, runs[other][2], *TOL["float32"], f"{what}: predictions")
        for got, want in zip(logs, runs[other][1]):
            for key in got:
                np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6, err_msg=f"{what}: {key}")
