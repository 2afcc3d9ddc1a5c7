"""shuffle: tf's buffer algorithm, reproducible from a seed and the epoch."""
from __future__ import annotations

import itertools

import numpy as np

from ..ops.random_ops import construction_seeds
from ._args import as_int
from .node import Node

_SHUFFLE_TAG = 2  # keeps these generators apart from random_ops.host_generator's


class Shuffle(Node):
    """Fill a buffer of `buffer_size` elements; then repeatedly yield one picked uniformly at random and put
    the next input element in its place; when the input ends, drain the buffer in random order.

    The draws come from the seeds fixed when the dataset is made (TF's rules: the op seed `seed` with the
    global seed; without `seed`, the next number of gf's global stream, so two shuffles made after one
    `gf.random.set_seed` differ, and a rerun repeats both) and the epoch: with `reshuffle_each_iteration`
    each pass over the dataset is epoch 0, 1, 2, ..., otherwise always epoch 0.
    """

    def __init__(self, input_dataset, buffer_size, seed, reshuffle_each_iteration):
        self._input = input_dataset
        self._size = as_int(buffer_size, "shuffle: buffer_size", 1)
        self._seeds = construction_seeds(None if seed is None else as_int(seed, "shuffle: seed"), "Dataset.shuffle")
        self._reshuffle = bool(reshuffle_each_iteration)
        self._epochs = itertools.count()

    def _elements(self, probe=False):
        # A probe (learning the element spec) must not use up an epoch, or asking for element_spec would
        # change the order the user sees.
        epoch = next(self._epochs) if self._reshuffle and not probe else 0
        rng = np.random.default_rng([*self._seeds, _SHUFFLE_TAG, epoch])
        source = self._input._elements(probe)
        try:
            buffer = list(itertools.islice(source, self._size))
            for element in source:
                i = int(rng.integers(len(buffer)))
                yield buffer[i]
                buffer[i] = element
            while buffer:
                i = int(rng.integers(len(buffer)))
                buffer[i], buffer[-1] = buffer[-1], buffer[i]
                yield buffer.pop()
        finally:
            source.close()

    def _compute_spec(self):
        return self._input.element_spec

    def _cardinality(self):
        return self._input._cardinality()
