"""MNIST handwritten digits, as `keras.datasets.mnist`: 60,000 training and 10,000 test images, 28x28 uint8."""
from __future__ import annotations

import numpy as np

from ...errors import InvalidArgumentError
from . import _download

# Public names: what the API reference shows and `import *` takes (imported helpers are not API).
__all__ = ["load_data"]

BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # Keras' checksum of mnist.npz
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_data(path="mnist.npz"):
    """`((x_train, y_train), (x_test, y_test))` as uint8 NumPy arrays; `path` is the file name in the cache."""
    local = _download.fetch("mnist.load_data", BASE_URL, {path: SHA256})[path]
    with np.load(local, allow_pickle=False) as f:
        missing = [k for k in _KEYS if k not in f.files]
        if missing:
            raise InvalidArgumentError(f"mnist.load_data: {local} lacks {missing}; it holds {f.files}")
        x_train, y_train, x_test, y_test = (f[k] for k in _KEYS)
    return (x_train, y_train), (x_test, y_test)
