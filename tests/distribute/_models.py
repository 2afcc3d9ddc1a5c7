"""The model and data of the distribute tests: the digits MLP (64-128-10), small enough to train in a second."""
import numpy as np

import gpuflow as gf


def digits():
    (x, y), _ = gf.keras.datasets.digits.load_data()
    return x.reshape(len(x), -1).astype(np.float32) / 16.0, y


def mlp(optimizer="adam", run_eagerly=False):
    """Built and compiled where it is called (inside a strategy's scope, or not)."""
    model = gf.keras.Sequential([gf.keras.layers.Input((64,)), gf.keras.layers.Dense(128, activation="relu"),
                                 gf.keras.layers.Dense(10)])
    model.compile(optimizer=optimizer, loss=gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], run_eagerly=run_eagerly)
    return model
