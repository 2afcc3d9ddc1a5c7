"""Models in the style of examples/ (the digits MLP, CNN, LSTM, and the subclassed model of the custom training
loop, imported from examples/ itself), trained briefly on a slice of the embedded digits."""
import importlib.util
import os

import numpy as np

import gpuflow as gf

L = gf.keras.layers
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def example_module(name):
    """examples/<name>.py as a module (its main() is not run)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def digits(n=64, channels=False):
    (x, y), _ = gf.keras.datasets.digits.load_data()
    x = (x[:n] / 16.0).astype("float32")
    return (x[..., None] if channels else x), y[:n].astype("int32")


def build(name):
    """(model, inputs) for `name` in mlp, cnn, lstm, subclassed, under the current device."""
    if name == "mlp":
        model = gf.keras.Sequential([L.Flatten(input_shape=(8, 8)), L.Dense(32, activation="relu"), L.Dropout(0.2),
                                     L.Dense(10)])
        x, y = digits()
    elif name == "cnn":
        model = example_module("cnn").build_model((8, 8, 1))
        x, y = digits(channels=True)
    elif name == "lstm":
        model = gf.keras.Sequential([gf.keras.Input(shape=(8, 8)), L.LSTM(16), L.Dense(10)])
        x, y = digits()
    else:
        model = example_module("custom_training_loop").MyModel()
        x, y = digits()
    model.compile(optimizer="adam", loss=gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    return model, x


def predict(model, x):
    return np.asarray(model.predict(x, verbose=0))
