"""Getting batches onto the device ahead of the step that needs them.

`device_batches(elements, device)` turns each element (a nest of NumPy arrays, tensors, None) into
the same nest of tensors on `device`. On cuda and sim the NumPy arrays go up through the stream
scheduler (gpuflow/runtime/scheduler.py): the upload of element k+1 is issued on the copy stream
before element k is handed out, so it runs while the caller's step k runs; the compute stream waits
for it on the device (an event), the host does not. Tensors pass through untouched: data already on
the device stays there. On cpu, or with the scheduler turned off (GPUFLOW_PREFETCH_TO_DEVICE=0),
each element is converted synchronously when it is handed out, as before.

`prefetch_to_device(device, buffer_size)` / `copy_to_device(device)` are tf.data.experimental's
transformations built on it; fit/evaluate/predict use it for every batch.
"""
from __future__ import annotations

import collections

import numpy as np

from .. import devices, dtypes, nest
from ..errors import InvalidArgumentError
from ..runtime import profiling, scheduler
from ..tensor import Tensor
from ._args import as_int
from .dataset import Dataset
from .node import AUTOTUNE, Node
from .prefetch import AUTOTUNE_BUFFER, Prefetch


def device_batches(elements, device=None, lookahead: int = 1, convert=None, upload_dtype=None):
    """Yield each element of `elements` as tensors on `device` (default: the current device), uploading
    the next `lookahead` elements while the caller works on this one.

    `convert(leaf) -> Tensor`: how a leaf that is not uploaded becomes a tensor (default: gf.constant on
    `device`). `upload_dtype(array) -> DType | None`: the dtype a NumPy leaf is uploaded as, None to hand it
    to `convert` instead (default: the dtype gf.constant would give it)."""
    dev = devices.current() if device is None else devices.parse(device)
    convert = convert or _constant_on(dev)
    upload_dtype = upload_dtype or constant_dtype
    source = iter(elements)
    try:
        if dev.kind == "cpu" or not scheduler.enabled():
            for k, element in enumerate(source):
                profiling.step(dev, k)
                with profiling.batch(dev, k):
                    if type(element) is tuple and not any(nest.is_nested(leaf) for leaf in element):
                        element = tuple([_leaf_now(leaf, convert) for leaf in element])  # (x, y, w): no walk
                    else:
                        element = nest.map_structure(lambda leaf: _leaf_now(leaf, convert), element)
                yield element
            return
        sched = scheduler.for_device(dev)
        issued = collections.deque()
        for k in _counting():
            while len(issued) <= lookahead:
                element = next(source, _END)
                if element is _END:
                    break
                issued.append(_issue(sched, element, k + len(issued), convert, upload_dtype))
            if not issued:
                return
            element, event = issued.popleft()
            if event is not None:
                sched.ready(event)  # the compute stream waits on the device; the host goes on
            profiling.step(dev, k)
            yield element
    finally:
        profiling.step(dev, None)
        close = getattr(source, "close", None)
        if close is not None:
            close()


_END = object()


def _counting():
    k = 0
    while True:
        yield k
        k += 1


def _issue(sched, element, batch, convert, upload_dtype):
    """Start the upload of one element's NumPy leaves; the other leaves are converted now."""
    flat = nest.flatten(element)
    uploads = [(i, leaf, upload_dtype(leaf)) for i, leaf in enumerate(flat) if isinstance(leaf, np.ndarray)]
    uploads = [(i, leaf, dt) for i, leaf, dt in uploads if dt is not None]
    uploaded = {i for i, _, _ in uploads}
    out = [None if i in uploaded else _leaf_now(leaf, convert) for i, leaf in enumerate(flat)]
    if not uploads:
        return nest.pack_sequence_as(element, out), None
    datas, event = sched.upload([np.asarray(leaf, dt.np) for _, leaf, dt in uploads], [dt for _, _, dt in uploads],
                                batch=batch)
    for (i, _, dt), data in zip(uploads, datas):
        out[i] = Tensor(data, dt, sched.device)
    return nest.pack_sequence_as(element, out), event


def _leaf_now(leaf, convert):
    if leaf is None or isinstance(leaf, Tensor):
        return leaf
    return convert(leaf)


def constant_dtype(array: np.ndarray):
    """The dtype gf.constant gives a NumPy array (None if it has none: gf.constant then raises its own error)."""
    try:
        return dtypes.as_dtype(dtypes.widened(array.dtype))
    except TypeError:
        return None


def _constant_on(dev):
    def convert(leaf):
        from ..ops.creation import constant
        with devices.device(dev):
            return constant(leaf)
    return convert


# ---- tf.data.experimental ----------------------------------------------------------------------
class PrefetchToDevice(Dataset):
    """The last step of a pipeline: elements come out as tensors already on `device`."""

    def __init__(self, input_dataset, device, buffer_size, threaded=True):
        super().__init__(_OnDevice(input_dataset._node))
        self._device = devices.parse(device)
        size = as_int(AUTOTUNE if buffer_size is None else buffer_size, "prefetch_to_device: buffer_size", 1,
                      allow=(AUTOTUNE,))
        self._size = AUTOTUNE_BUFFER if size == AUTOTUNE else size
        self._threaded = threaded

    def __iter__(self):
        # Host work upstream (map, shuffle, batch) runs in a prefetch thread; uploads go on the copy stream.
        host = Prefetch(self._node._input, self._size if self._threaded else 0)._elements()
        yield from device_batches(host, self._device, lookahead=max(1, self._size - 1))


class _OnDevice(Node):
    """The node of a PrefetchToDevice dataset: it can be probed for its spec, but a transformation after it
    (which would run on the host) cannot iterate it."""

    def __init__(self, input_node):
        self._input = input_node

    def _elements(self, probe=False):
        if probe:  # element_spec and friends only look
            yield from self._input._elements(True)
            return
        raise InvalidArgumentError(
            "prefetch_to_device (and copy_to_device) must be the last transformation of a pipeline: its elements "
            "are already on the device, and the transformations after it run on the host; apply it last")

    def _compute_spec(self):
        return self._input.element_spec

    def _cardinality(self):
        return self._input._cardinality()


def prefetch_to_device(device, buffer_size=None):
    """`dataset.apply(gf.data.experimental.prefetch_to_device('sim'))`: must come last; yields tensors on
    `device`, the next `buffer_size - 1` elements uploading while this one is used (buffer_size None: 2)."""
    return lambda dataset: PrefetchToDevice(dataset, device, buffer_size)


def copy_to_device(target_device, source_device="/cpu:0"):
    """`dataset.apply(gf.data.experimental.copy_to_device('sim'))`: elements as tensors on `target_device`,
    one element uploaded ahead. `source_device` must be the host: gf.data pipelines run there."""
    if devices.parse(source_device).kind != "cpu":
        raise InvalidArgumentError(f"copy_to_device: source_device must be the host (cpu), got {source_device!r}; "
                                   f"gf.data pipelines run on the host")
    return lambda dataset: PrefetchToDevice(dataset, target_device, 1, threaded=False)
