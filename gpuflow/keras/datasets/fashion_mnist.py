"""Fashion-MNIST (Zalando, MIT license), as `keras.datasets.fashion_mnist`: 10 clothing classes, 28x28 uint8."""
from __future__ import annotations

import gzip
import struct

import numpy as np

from ...errors import InvalidArgumentError
from . import _download

# Public names: what the API reference shows and `import *` takes (imported helpers are not API).
__all__ = ["load_data"]

BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# SHA-256 of each archive as published by Keras (they match the files of the Fashion-MNIST project).
FILES = {
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}
_MAGIC = {1: 2049, 3: 2051}  # IDX magic numbers of uint8 vectors (labels) and rank-3 arrays (images)


def read_idx(path, rank: int) -> np.ndarray:
    """An IDX file of uint8 (the MNIST format): a big-endian magic number, `rank` dimensions, then the bytes."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    header = 4 * (1 + rank)
    if len(raw) < header or struct.unpack(">I", raw[:4])[0] != _MAGIC[rank]:
        raise InvalidArgumentError(f"fashion_mnist: {path} is not an IDX file of rank {rank}")
    dims = struct.unpack(f">{rank}I", raw[4:header])
    if len(raw) - header != int(np.prod(dims)):
        raise InvalidArgumentError(f"fashion_mnist: {path} declares shape {dims} but holds {len(raw) - header} bytes")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def load_data():
    """`((x_train, y_train), (x_test, y_test))` as uint8 NumPy arrays: images (n, 28, 28), labels 0..9."""
    paths = _download.fetch("fashion_mnist.load_data", BASE_URL, FILES, subdir="fashion-mnist")
    y_train = read_idx(paths["train-labels-idx1-ubyte.gz"], 1)
    x_train = read_idx(paths["train-images-idx3-ubyte.gz"], 3)
    y_test = read_idx(paths["t10k-labels-idx1-ubyte.gz"], 1)
    x_test = read_idx(paths["t10k-images-idx3-ubyte.gz"], 3)
    return (x_train, y_train), (x_test, y_test)
