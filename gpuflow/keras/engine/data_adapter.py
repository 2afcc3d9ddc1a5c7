"""Turning what `fit`/`evaluate`/`predict` get (arrays, tensors, nests of them, datasets) into batches.

NumPy arrays are sliced on the host and sent to the device one batch at a time; tensors already on a
device are sliced there (never pulled back to the host). Anything else iterable (a `gf.data.Dataset`,
a generator, a list of batches, a `keras.utils.PyDataset`) is taken to yield `x`, `(x, y)` or
`(x, y, sample_weight)`, and `iter()` is called on it once per epoch. A generator cannot start
again: as in Keras, it is drawn from across epochs, and when it runs out training stops with a
warning. Every epoch's batches go through `device_batches` (gpuflow/data/device.py): on cuda and sim
the next batch uploads on the copy stream while the current step runs; a Dataset also gets its host
work run in a background thread.

Every adapter says `num_batches` (None while unknown, e.g. a generator's first epoch) and
`ran_out` (a one-shot input ended before training did: fit stops).
"""
from __future__ import annotations

import collections.abc
import math
import warnings

import numpy as np

from ... import devices, dtypes, nest
from ...data.dataset import Dataset
from ...data.device import PrefetchToDevice, constant_dtype, device_batches, prefetch_to_device
from ...ops import creation as _creation
from ...ops import random_ops as _random
from ...runtime import scheduler
from ...tensor import Tensor


def _is_array_like(x) -> bool:
    if isinstance(x, list):  # nested Python numbers, not a list of (x, y) batches
        return not any(isinstance(v, (tuple, np.ndarray, Tensor, dict)) for v in x)
    return isinstance(x, (np.ndarray, Tensor, float, int, np.generic))


def is_array_data(x) -> bool:
    """True for arrays/tensors or dicts/lists/tuples of them (sliced here), False for datasets and iterators."""
    if x is None:
        return True
    if isinstance(x, dict):
        return all(is_array_data(v) for v in x.values())
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (np.ndarray, Tensor, dict)) for v in x):
        return all(is_array_data(v) for v in x)
    return _is_array_like(x)


def _as_numpy(x):
    if x is None:
        return None
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def to_numpy_nest(x):
    if isinstance(x, dict):
        return {k: to_numpy_nest(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (np.ndarray, Tensor, dict)) for v in x):
        return [to_numpy_nest(v) for v in x]
    return _as_numpy(x)


def _leaves(x):
    return [v for v in nest.flatten(x) if v is not None]


def num_samples(*structures) -> int:
    counts = {}
    for name, s in zip(("x", "y", "sample_weight"), structures):
        for leaf in _leaves(s):
            if leaf.ndim == 0:
                raise ValueError(f"{name} holds a scalar; fit/evaluate/predict need arrays with a batch dimension")
            counts.setdefault(leaf.shape[0], []).append(name)
    if len(counts) > 1:
        detail = ", ".join(f"{'/'.join(sorted(set(v)))}: {k}" for k, v in counts.items())
        raise ValueError(f"the arrays have different numbers of samples ({detail}); they must all have the same "
                         f"first dimension")
    if not counts:
        raise ValueError("no input data: pass x (arrays, tensors or a dataset)")
    return next(iter(counts))


def _as_arrays_nest(x):
    """Like to_numpy_nest, but tensors stay tensors on their device (float64 ones cast there to float32, as
    float64 arrays are: see _convert_leaf)."""
    if isinstance(x, dict):
        return {k: _as_arrays_nest(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (np.ndarray, Tensor, dict)) for v in x):
        return [_as_arrays_nest(v) for v in x]
    if isinstance(x, Tensor) and x.dtype == dtypes.float64:
        from ...ops.math import cast
        with devices.device(x._device):
            return cast(x, dtypes.float32)
    return x if x is None or isinstance(x, Tensor) else np.asarray(x)


def take(structure, index):
    return nest.map_structure(lambda a: None if a is None else _take(a, index), structure)


def _take(a, index):
    if not isinstance(a, Tensor):
        return a[index]
    from ...ops.array import gather
    with devices.device(a._device):  # sliced where it lives: device data stays on the device
        return a[index] if isinstance(index, slice) else gather(a, index)


def split_validation(x, y, sw, validation_split):
    """The last `validation_split` of the samples held out (before any shuffling), as Keras does."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be between 0 and 1, got {validation_split}")
    n = num_samples(x, y, sw)
    cut = int(n * (1.0 - validation_split))
    if cut == 0 or cut == n:
        raise ValueError(f"validation_split={validation_split} of {n} samples leaves an empty training or "
                         f"validation set")
    first, last = slice(0, cut), slice(cut, n)
    return (take(x, first), take(y, first), take(sw, first)), (take(x, last), take(y, last), take(sw, last))


def _to_device(structure, owned=False):
    """Arrays become device tensors. owned=True: the arrays were just made for this batch (fancy-indexed out
    of the data) and nothing else refers to them, so the cpu device may keep them without another copy;
    the user's own arrays (and views of them) are always copied, as tensors never change."""
    return nest.map_structure(lambda a: _convert_leaf(a, owned), structure)


def _convert_leaf(a, owned):
    if a is None:
        return None
    if isinstance(a, Tensor):
        return a
    arr = np.asarray(a)
    fresh = owned
    if arr.dtype == np.float64:
        arr, fresh = arr.astype(np.float32), True  # like Keras: float64 data trains in the model's float32
    return _creation._from_owned_array(arr) if fresh else _creation.convert_to_tensor(arr)


def _upload_dtype(array):
    """The dtype _convert_leaf gives a NumPy array, for uploads through the scheduler."""
    return dtypes.float32 if array.dtype == np.float64 else constant_dtype(array)


def _on_device(triples, owned=False):
    """(x, y, sample_weight) triples as packed batches of device tensors, the next one uploading while the
    caller's step runs on this one (gpuflow/data/device.py)."""
    batches = device_batches(triples, convert=lambda a: _convert_leaf(a, owned), upload_dtype=_upload_dtype)
    return (pack(*triple) for triple in batches)


class ArrayBatches:
    """Batches of in-memory arrays: one permutation per epoch when shuffling."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, steps=None):
        self.x, self.y, self.sw = _as_arrays_nest(x), _as_arrays_nest(y), _as_arrays_nest(sample_weight)
        self.n = num_samples(self.x, self.y, self.sw)
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = int(batch_size or 32)
        self.shuffle = shuffle
        self.steps = steps or math.ceil(self.n / self.batch_size)

    ran_out = False  # arrays can be sliced again every epoch

    def __len__(self):
        return self.steps

    @property
    def num_batches(self):
        return self.steps

    def epoch(self):
        yield from _on_device(self._host_epoch(), owned=self.shuffle)

    def _host_epoch(self):
        # From gf's seeded streams, never NumPy's global generator: gf.random.set_seed alone repeats a run.
        order = _random.host_generator(what="fit(shuffle=True)").permutation(self.n) if self.shuffle else None
        for step in range(self.steps):
            start = (step * self.batch_size) % self.n
            if order is None:  # in order: a view of each array, copied once on its way to the device
                idx = slice(start, start + self.batch_size)
            else:  # shuffled: fancy indexing makes fresh arrays, which the batch tensors may keep
                idx = order[start:start + self.batch_size]
            yield take(self.x, idx), take(self.y, idx), take(self.sw, idx)


_END = object()  # what next() gives back when the input is done (None could be a batch)


class IterableBatches:
    """Batches from a dataset or any iterable; `steps` caps each epoch, else an epoch ends with the data.

    A re-iterable input (a Dataset, a list) starts over each epoch, or with `steps` whenever it runs dry.
    A one-shot iterator (a generator) cannot: Keras draws from it across epochs, and when it is used up
    warns 'Your input ran out of data' and stops training (`ran_out`).
    """

    def __init__(self, data, steps=None, what="fit"):
        self.data, self.steps, self.what = data, steps, what
        self._one_shot = isinstance(data, collections.abc.Iterator)
        self._num_batches = steps if steps is not None else self._known_length(data)
        self._iterator = None
        self._seen = 0  # batches drawn in all; says how far a one-shot input got
        self.ran_out = False

    @staticmethod
    def _known_length(data):
        try:
            return len(data)
        except TypeError:  # no __len__, or one that says None (an endless PyDataset)
            return None

    @property
    def num_batches(self):
        return self._num_batches

    def _next(self):
        batch = next(self._iterator, _END)
        if batch is not _END:
            self._seen += 1
        return batch

    def epoch(self):
        yield from _on_device(self._host_epoch())

    def _source(self):
        """iter(data); a Dataset gets prefetch_to_device, so its host work runs in a thread and uploads overlap."""
        if isinstance(self.data, Dataset) and not isinstance(self.data, PrefetchToDevice) and scheduler.enabled():
            return iter(self.data.apply(prefetch_to_device(devices.current())))
        return iter(self.data)

    def _host_epoch(self):
        if self._iterator is None or self.steps is None and not self._one_shot:
            self._iterator = self._source()
        count = 0
        while self.steps is None or count < self.steps:
            batch = self._next()
            if batch is _END:
                if self.steps is None or self._one_shot:
                    break
                # With steps_per_epoch Keras keeps one iterator across epochs; a re-iterable input restarts.
                self._iterator = self._source()
                batch = self._next()
                if batch is _END:
                    raise ValueError(f"{self.what}: the dataset yielded no batches")
            count += 1
            yield unpack_x_y_sample_weight(batch)
        if self.steps is not None and count == self.steps:
            return
        if count == 0 and (self._seen == 0 or self.what != "fit"):
            steps_arg = {"fit": "steps_per_epoch", "validation_data": "validation_steps"}.get(self.what, "steps")
            raise ValueError(f"{self.what}: the dataset yielded no batches; check that it is not exhausted (a "
                             f"generator can be iterated only once: pass a Dataset, or a generator that lasts all "
                             f"epochs with {steps_arg})")
        if self._one_shot and (count == 0 or self.steps is not None):
            self.ran_out = True
            warnings.warn(f"Your input ran out of data; interrupting training. Make sure that your dataset or "
                          f"generator can generate at least `steps_per_epoch * epochs` batches (this one gave "
                          f"{self._seen}). You may need to use the repeat() function when building your dataset.",
                          UserWarning, stacklevel=2)
        elif self.steps is None:
            self._num_batches = count  # known from now on, for the progress bar


def unpack_x_y_sample_weight(data):
    """(x, y, sample_weight) from a batch given as x, (x,), (x, y) or (x, y, sample_weight), as Keras does."""
    if not isinstance(data, tuple):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError(f"a data batch must be x, (x, y) or (x, y, sample_weight); got a tuple of {len(data)}")
    return tuple(data) + (None,) * (3 - len(data))


def pack(x, y=None, sample_weight=None, _owned=False):
    """The batch as train_step/test_step/predict_step get it in Keras: (x,), (x, y) or (x, y, sample_weight),
    with arrays made device tensors (see _to_device for `_owned`)."""
    # One at a time: a plain array (the usual x, y) then needs no structure walk.
    x, y, sample_weight = (_to_device(v, owned=_owned) for v in (x, y, sample_weight))
    if y is None and sample_weight is None:
        return (x,)
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def to_host(outputs):
    """predict's per-batch outputs on their way to the host: on cuda and sim an async copy into pinned memory
    (gpuflow/runtime/scheduler.py), waited for only when the arrays are joined; elsewhere a plain copy."""
    tensors = [t for t in nest.flatten(outputs) if isinstance(t, Tensor)]
    device = tensors[0]._device if tensors else None
    if device is None or device.kind == "cpu" or not scheduler.enabled() or \
            any(t._device != device for t in tensors):
        return nest.map_structure(lambda t: t.numpy(), outputs)
    values = iter(scheduler.for_device(device).download([t._data for t in tensors], [t.dtype for t in tensors]))
    return nest.map_structure(lambda t: next(values) if isinstance(t, Tensor) else t, outputs)


def float_logs(logs):
    """Logs as plain floats; a nested dict (a metrics container's result) is flattened into its names."""
    out = {}
    for name, value in dict(logs).items():
        if isinstance(value, dict):
            out.update(float_logs(value))
        else:
            out[name] = float(np.asarray(value))
    return out


def make_batches(x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None, what="fit"):
    if is_array_data(x):
        return ArrayBatches(x, y, sample_weight, batch_size, shuffle, steps)
    if y is not None or sample_weight is not None:
        raise ValueError(f"{what}: when x is a dataset or generator it yields the targets too; do not pass y or "
                         f"sample_weight")
    if batch_size is not None:
        raise ValueError(f"{what}: batch_size cannot be used with a dataset or generator, which makes its own "
                         f"batches")
    own = getattr(x, "_keras_batches", None)  # an input that knows its own epochs: a PyDataset (py_dataset.py)
    if own is not None:
        return own(steps, shuffle=shuffle, what=what)
    return IterableBatches(x, steps, what=what)


def class_weight_to_sample_weight(y, class_weight):
    """Per-sample weights from {class index: weight}; y as class indices or one-hot rows."""
    y = _as_numpy(y)
    labels = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    labels = labels.astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(int(k) for k in class_weight))
    if missing:
        raise ValueError(f"class_weight has no weight for class(es) {missing}; give one for every class in y")
    lookup = {int(k): float(v) for k, v in class_weight.items()}
    return np.array([lookup[int(c)] for c in labels], dtype=np.float32)

