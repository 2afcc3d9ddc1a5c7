"""`gf.keras.utils`: to_categorical, set_random_seed, Progbar, PyDataset / Sequence, unpack_x_y_sample_weight,
timeseries_dataset_from_array."""
from __future__ import annotations

import random

import numpy as np

from .engine.data_adapter import unpack_x_y_sample_weight
from .engine.progbar import Progbar
from .engine.py_dataset import PyDataset, Sequence
from ._timeseries import timeseries_dataset_from_array

__all__ = ["to_categorical", "set_random_seed", "pad_sequences", "Progbar", "PyDataset", "Sequence",
           "unpack_x_y_sample_weight", "timeseries_dataset_from_array"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot rows from integer class labels (a trailing dim of 1 is dropped, as Keras does)."""
    y = np.asarray(y.numpy() if hasattr(y, "numpy") else y)
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError("to_categorical: labels must be whole numbers (class indices)")
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu":
        raise ValueError(f"to_categorical: labels must be integers, got dtype {y.dtype}")
    shape = y.shape[:-1] if y.ndim > 1 and y.shape[-1] == 1 else y.shape
    y = y.reshape(-1)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, got {y.min()}")
    n = int(num_classes) if num_classes is not None else (int(y.max()) + 1 if y.size else 0)
    if y.size and y.max() >= n:
        raise ValueError(f"to_categorical: label {y.max()} does not fit num_classes={n}")
    out = np.zeros((y.size, n), dtype=dtype)
    out[np.arange(y.size), y] = 1
    return out.reshape(shape + (n,))


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy and gpuflow, so initial weights and shuffling repeat."""
    if not isinstance(seed, (int, np.integer)):
        raise ValueError(f"set_random_seed: the seed must be an integer, got {seed!r}")
    from .. import random as gf_random
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    gf_random.set_seed(int(seed))


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Sequences of different lengths as one NumPy array [len(sequences), maxlen, ...], as Keras'
    pad_sequences: each is padded with `value` (before it with padding='pre', the default, or after it with
    'post') and, when longer than maxlen (default: the longest), cut (its start dropped with truncating='pre',
    its end with 'post'). Elements may be arrays of one shape, which stays as the trailing axes."""
    for option, given in (("padding", padding), ("truncating", truncating)):
        if given not in ("pre", "post"):
            raise ValueError(f"pad_sequences: {option} must be 'pre' or 'post', got {given!r}")
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: sequences must be a list (or array) of sequences")
    arrays = []
    for k, seq in enumerate(sequences):
        try:
            arrays.append(np.asarray(seq))
        except ValueError as e:
            raise ValueError(f"pad_sequences: sequence {k} is not a sequence of numbers of one shape: {e}") from None
    lengths = [len(a) if a.ndim else 0 for a in arrays]
    sample_shape = next((a.shape[1:] for a in arrays if len(a)), ())
    maxlen = max(lengths, default=0) if maxlen is None else int(maxlen)
    out = np.full((len(arrays), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for k, a in enumerate(arrays):
        if not len(a) or not maxlen:
            continue
        if a.shape[1:] != tuple(sample_shape):
            raise ValueError(f"pad_sequences: sequence {k}'s elements have shape {a.shape[1:]}, the others "
                             f"{tuple(sample_shape)}")
        kept = a[-maxlen:] if truncating == "pre" else a[:maxlen]
        if padding == "post":
            out[k, :len(kept)] = kept
        else:
            out[k, maxlen - len(kept):] = kept
    return out
