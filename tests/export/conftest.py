"""Fixtures of the export tests: every test on cpu from seed 0, the digits, and the example's CNN trained once
per session."""
from __future__ import annotations

import pytest

import gpuflow as gf
from export_helpers import example


@pytest.fixture(autouse=True)
def _cpu():
    with gf.device("cpu"):
        gf.keras.utils.set_random_seed(0)
        yield


@pytest.fixture(scope="session")
def digits():
    (x_train, y_train), (x_test, y_test) = gf.keras.datasets.digits.load_data()
    return ((x_train[..., None].astype("float32") / 16.0, y_train),
            (x_test[..., None].astype("float32") / 16.0, y_test))


@pytest.fixture(scope="session")
def trained_mobile_cnn(digits):
    """The CNN of examples/export_mobile.py trained for 3 epochs on the digits (~98% test accuracy)."""
    (x_train, y_train), _ = digits
    with gf.device("cpu"):
        gf.keras.utils.set_random_seed(0)
        model = example("export_mobile").build_model()
        model.compile(optimizer=gf.keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x_train, y_train, epochs=3, batch_size=32, verbose=0)
    return model
