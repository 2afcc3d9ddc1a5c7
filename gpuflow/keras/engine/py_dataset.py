"""`keras.utils.PyDataset` (and its older name `Sequence`): batches by index, fetched by worker threads
or processes, in order.

    class Batches(gf.keras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)          # workers, use_multiprocessing, max_queue_size
            ...
        def __len__(self): return math.ceil(len(self.x) / self.batch_size)
        def __getitem__(self, i): return self.x[i * bs:(i + 1) * bs], self.y[i * bs:(i + 1) * bs]

    model.fit(Batches(x, y, 32, workers=4))

As in Keras 3: `workers` > 1 fetches up to `max_queue_size` batches ahead on a thread pool
(`use_multiprocessing=True`: on processes, which need a picklable dataset that returns NumPy
arrays, and whose gf.random state is their own); `fit(shuffle=True)` visits the batches in a new
order each pass (from gf's seeded streams); `on_epoch_begin` / `on_epoch_end` run around every
epoch. `num_batches` (default `len(self)`) may be None for an endless dataset, which then needs
`steps_per_epoch`.
"""
from __future__ import annotations

import concurrent.futures
import functools
import itertools
import multiprocessing
import pickle

from ...data.prefetch import ordered_parallel
from ...ops import random_ops as _random
from .data_adapter import IterableBatches


class PyDataset:
    """keras.utils.PyDataset (also `Sequence`): subclass it with __len__ and __getitem__ returning a batch;
    `workers` threads (or processes with use_multiprocessing) fetch batches ahead, in order."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        for name, value, least in (("workers", workers, 1), ("max_queue_size", max_queue_size, 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"PyDataset: {name} must be an integer >= {least}, got {value!r}")
        self.workers, self.use_multiprocessing, self.max_queue_size = workers, bool(use_multiprocessing), max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), returning batch `index` "
                                  f"as x, (x, y) or (x, y, sample_weight)")

    @property
    def num_batches(self):
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (or the num_batches property; "
                                  f"None for an endless dataset)")

    def on_epoch_begin(self):
        """Called before each epoch."""

    def on_epoch_end(self):
        """Called after each epoch, e.g. to reshuffle the samples behind the batches."""

    def _keras_batches(self, steps, shuffle, what):
        """How fit/evaluate/predict take it (data_adapter.make_batches asks the input itself, as it cannot
        import this module, which builds on it)."""
        return PyDatasetBatches(self, steps, shuffle=shuffle, what=what)


Sequence = PyDataset  # Keras 3 keeps the tf.keras name as an alias


class _Passes:
    """Iterating gives one pass over the batches, in order or shuffled; `fetch` runs `__getitem__`."""

    def __init__(self, dataset, shuffle):
        self.dataset, self.shuffle = dataset, shuffle
        # Asked once: a subclass that skipped super().__init__ still works, with Keras 3's defaults.
        self.workers = getattr(dataset, "workers", 1)
        self.processes = getattr(dataset, "use_multiprocessing", False)
        self.in_flight = getattr(dataset, "max_queue_size", 10)

    def __len__(self):
        n = self.dataset.num_batches
        if n is None:
            raise TypeError("an endless PyDataset has no length")
        return n

    def _order(self):
        n = self.dataset.num_batches
        if n is None:
            return itertools.count()  # endless: no shuffling, as in Keras
        if not self.shuffle:
            return range(n)
        return _random.host_generator(what="fit(shuffle=True) on a PyDataset").permutation(n).tolist()

    def __iter__(self):
        order = self._order()
        if self.processes:
            return ordered_parallel(_fetch_in_worker, order, self.workers, self.in_flight, pool=self._process_pool())
        # Batch i's gf.random draws come from sub-stream i of this pass: the same with 1 worker or 8.
        fetch = functools.partial(self._fetch, _random.fork_stream())
        if self.workers <= 1:
            return map(fetch, order)
        return ordered_parallel(fetch, order, self.workers, self.in_flight)

    def _fetch(self, stream, index):
        with _random.in_stream(stream, index):
            return self.dataset[index]

    def _process_pool(self):
        try:  # say it here, not as a broken pool in the middle of an epoch
            pickle.dumps(self.dataset)
        except Exception as e:  # noqa: BLE001 - any pickling failure means the same thing
            raise TypeError(f"PyDataset with use_multiprocessing=True: {type(self.dataset).__name__} must be picklable "
                            f"to reach the worker processes ({e}); use threads (use_multiprocessing=False)") from e
        # spawn, not fork: forking a process that has touched CUDA would break the children.
        return concurrent.futures.ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker, initargs=(self.dataset,))


_worker_dataset = None  # the dataset in a worker process, sent once when the pool starts


def _start_worker(dataset):
    global _worker_dataset
    _worker_dataset = dataset


def _fetch_in_worker(index):
    return _worker_dataset[index]


class PyDatasetBatches(IterableBatches):
    """A PyDataset in fit/evaluate/predict: passes over its batches, with its epoch hooks around each epoch."""

    def __init__(self, dataset, steps=None, shuffle=False, what="fit"):
        if dataset.num_batches is None and steps is None:
            raise ValueError(f"{what}: {type(dataset).__name__} is endless (num_batches is None); give "
                             f"{'steps_per_epoch' if what == 'fit' else 'steps'}")
        self.dataset = dataset
        super().__init__(_Passes(dataset, shuffle), steps, what)

    def epoch(self):
        self.dataset.on_epoch_begin()
        yield from super().epoch()
        self.dataset.on_epoch_end()
