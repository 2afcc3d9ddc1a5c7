"""PyDatasets the generator tests share; a module of its own so worker processes can import them."""
from __future__ import annotations

import math
import os
import threading

import numpy as np

from gpuflow.keras.utils import PyDataset


def linear_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.25


class Linear(PyDataset):
    """Batches of linear_data; records which batches were asked for, on which threads, and its epoch hooks."""

    def __init__(self, n=64, batch_size=16, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = linear_data(n)
        self.batch_size = batch_size
        self.asked, self.threads, self.hooks = [], set(), []

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, i):
        if not 0 <= i < len(self):
            raise IndexError(i)
        self.asked.append(i)
        self.threads.add(threading.get_ident())
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_begin(self):
        self.hooks.append("begin")

    def on_epoch_end(self):
        self.hooks.append("end")


class Indices(PyDataset):
    """Batch i is a column of i's: says which batch arrived where, across processes too (picklable)."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return np.full((2, 3), i, np.float32), np.full((2, 1), i, np.float32)


class Pids(PyDataset):
    """Batch i holds (i, the id of the process that made it)."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return np.array([[i, os.getpid()]], np.float64)
