"""Element-wise and counting transformations: map, filter, repeat, take, skip, shard, interleave."""
from __future__ import annotations

import functools
import itertools
import os

import numpy as np

from .. import devices, nest
from ..errors import InvalidArgumentError
from ..ops import random_ops
from ..tensor import Tensor, TensorSpec
from . import structure
from ._args import as_callable, as_int
from .node import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Node, node_of
from .prefetch import ordered_parallel


def call_on_host(fn, element):
    """tf's calling convention: a plain tuple element is unpacked into positional arguments, anything else
    (a dict, a namedtuple, one tensor) is one argument. Runs on the cpu device, whatever thread we are in."""
    with devices.device("cpu"):
        args = structure.to_tensors(element)
        return fn(*args) if type(element) is tuple else fn(args)


def _name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _first(dataset, what):
    source = dataset._elements(probe=True)
    try:
        return next(source)
    except StopIteration:
        raise InvalidArgumentError(f"{what}: the element_spec over an empty dataset is unknown (gpuflow learns it "
                                   f"by calling the function on the first element)") from None
    finally:
        source.close()


_PROBE_STREAM = 0x9E0BE  # where map functions draw while gpuflow learns their element_spec


class Map(Node):
    def __init__(self, input_dataset, map_func, num_parallel_calls, deterministic):
        self._input, self._fn = input_dataset, as_callable(map_func, "map: map_func")
        if num_parallel_calls is None:
            self._workers = None
        else:
            n = as_int(num_parallel_calls, "map: num_parallel_calls", 1, allow=(AUTOTUNE,))
            self._workers = (os.cpu_count() or 1) if n == AUTOTUNE else n
        # Output always keeps the input order, which `deterministic=False` permits as well.
        self._where = f"map: {_name(map_func)} returned"

    def _apply(self, element, stream=_PROBE_STREAM, index=0):
        with random_ops.in_stream(stream, index):
            return structure.normalize(call_on_host(self._fn, element), self._where)

    def _apply_numbered(self, stream, numbered):
        index, element = numbered
        return self._apply(element, stream, index)

    def _elements(self, probe=False):
        source = enumerate(self._input._elements(probe))
        # Element i draws its random numbers from sub-stream i of a stream forked per pass: the same numbers
        # whether elements are mapped in order or by threads in whatever order they finish. A probe draws
        # from a stream of its own, so learning the element_spec does not move the caller's numbers.
        apply = functools.partial(self._apply_numbered, _PROBE_STREAM if probe else random_ops.fork_stream())
        if self._workers is None or probe:
            yield from map(apply, source)
        else:
            yield from ordered_parallel(apply, source, self._workers)

    def _compute_spec(self):
        """By abstract evaluation: map_func traced on symbolic tensors of the input's element_spec (no kernel
        runs, no element is read). A map_func that needs values (NumPy on its arguments, a host read) cannot be
        traced: then the spec comes from map_func applied to the first input element, and an output dimension
        equal to a size the input spec leaves unknown (the batch size, say) is reported as unknown."""
        traced = self._traced_spec()
        if traced is not None:
            return traced
        first = _first(self._input, "map")
        unknown = {a.shape[i] for a, s in zip(nest.flatten(first), nest.flatten(self._input.element_spec))
                   for i, d in enumerate(s.shape) if d is None}
        return nest.map_structure(lambda s: TensorSpec([None if d in unknown else d for d in s.shape], s.dtype),
                                  structure.spec_of(self._apply(first)))

    def _traced_spec(self):
        from ..graph.abstract import abstract_specs
        spec = self._input.element_spec
        if not all(isinstance(s, TensorSpec) for s in nest.flatten(spec)):
            return None

        def call(element):
            out = self._fn(*element) if type(spec) is tuple else self._fn(element)
            leaves = nest.flatten(out)
            if not leaves or not all(isinstance(t, Tensor) for t in leaves):
                raise TypeError("map_func returned values that are not tensors")
            return tuple(out) if isinstance(out, list) else out
        try:
            with devices.device("cpu"), random_ops.in_stream(_PROBE_STREAM, 0):
                return abstract_specs(call, spec, lambda s: s)
        except Exception:  # noqa: BLE001 - not traceable: learn the spec from the first element instead
            return None

    def _cardinality(self):
        return self._input._cardinality()


class Filter(Node):
    def __init__(self, input_dataset, predicate):
        self._input, self._fn = input_dataset, as_callable(predicate, "filter: predicate")

    def _keep(self, element) -> bool:
        out = call_on_host(self._fn, element)
        value = out.numpy() if isinstance(out, Tensor) else np.asarray(out)
        if value.shape != () or value.dtype != np.bool_:
            raise InvalidArgumentError(f"filter: {_name(self._fn)} must return a scalar bool, got dtype {value.dtype} "
                                       f"with shape {value.shape}")
        return bool(value)

    def _elements(self, probe=False):
        return (e for e in self._input._elements(probe) if self._keep(e))

    def _compute_spec(self):
        return self._input.element_spec

    def _cardinality(self):
        return UNKNOWN_CARDINALITY


class Repeat(Node):
    def __init__(self, input_dataset, count):
        self._input = input_dataset
        self._count = -1 if count is None else as_int(count, "repeat: count", 0, allow=(-1,))

    def _elements(self, probe=False):
        for _ in itertools.count() if self._count == -1 else range(self._count):
            produced = False
            for element in self._input._elements(probe):
                produced = True
                yield element
            if not produced:  # an empty input repeated forever is still empty, not a hang
                return

    def _compute_spec(self):
        return self._input.element_spec

    def _cardinality(self):
        n = self._input._cardinality()
        if self._count == -1:
            return 0 if n == 0 else INFINITE_CARDINALITY
        if self._count == 0:
            return 0
        return n if n in (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY) else n * self._count


class _Selection(Node):
    """A dataset of some of its input's elements, in order (take, skip, shard): the same element_spec, and the
    input's iterator closed however iteration ends (a take stops early, a consumer breaks out)."""

    def _select(self, source):
        raise NotImplementedError

    def _elements(self, probe=False):
        source = self._input._elements(probe)
        try:
            yield from self._select(source)
        finally:
            source.close()

    def _compute_spec(self):
        return self._input.element_spec


class Take(_Selection):
    def __init__(self, input_dataset, count):
        self._input = input_dataset
        self._count = as_int(count, "take: count", 0, allow=(-1,))

    def _select(self, source):
        return source if self._count == -1 else itertools.islice(source, self._count)

    def _cardinality(self):
        n = self._input._cardinality()
        if self._count == -1 or n == UNKNOWN_CARDINALITY:
            return n
        return self._count if n == INFINITE_CARDINALITY else min(n, self._count)


class Skip(_Selection):
    def __init__(self, input_dataset, count):
        self._input = input_dataset
        self._count = as_int(count, "skip: count", 0, allow=(-1,))

    def _select(self, source):
        if self._count == -1:
            for _ in source:
                pass
        return itertools.islice(source, max(self._count, 0), None)

    def _cardinality(self):
        n = self._input._cardinality()
        if n in (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY):
            return n
        return 0 if self._count == -1 else max(0, n - self._count)


class Shard(_Selection):
    def __init__(self, input_dataset, num_shards, index):
        self._input = input_dataset
        self._num = as_int(num_shards, "shard: num_shards", 1)
        self._index = as_int(index, "shard: index", 0)
        if self._index >= self._num:
            raise InvalidArgumentError(f"shard: index must be in [0, num_shards={self._num}), got {self._index}")

    def _select(self, source):
        return itertools.islice(source, self._index, None, self._num)

    def _cardinality(self):
        n = self._input._cardinality()
        if n in (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY):
            return n
        return n // self._num + (self._index < n % self._num)


class Interleave(Node):
    """tf's order: `cycle_length` open datasets visited in turn, `block_length` elements from each; one that
    runs out ends its turn, and its slot takes the next input element's dataset on the following visit."""

    def __init__(self, input_dataset, map_func, cycle_length, block_length):
        self._input, self._fn = input_dataset, as_callable(map_func, "interleave: map_func")
        cycle = AUTOTUNE if cycle_length is None else as_int(cycle_length, "interleave: cycle_length", 1,
                                                             allow=(AUTOTUNE,))
        self._cycle = (os.cpu_count() or 1) if cycle == AUTOTUNE else cycle
        self._block = 1 if block_length is None else as_int(block_length, "interleave: block_length", 1)

    def _dataset(self, element) -> Node:
        """The pipeline of the Dataset map_func makes from `element`."""
        return node_of(call_on_host(self._fn, element), f"interleave: {_name(self._fn)} must return a gf.data.Dataset")

    def _elements(self, probe=False):
        source = self._input._elements(probe)
        slots, index, input_done = [None] * self._cycle, 0, False
        try:
            while not input_done or any(s is not None for s in slots):
                if slots[index] is None and not input_done:
                    element = next(source, None)
                    if element is None:
                        input_done = True
                    else:
                        slots[index] = self._dataset(element)._elements(probe)
                    continue
                if slots[index] is not None:
                    taken = 0
                    for element in slots[index]:
                        yield element
                        taken += 1
                        if taken == self._block:
                            break
                    else:
                        slots[index] = None
                index = (index + 1) % self._cycle
        finally:
            source.close()
            for it in slots:
                if it is not None:
                    it.close()

    def _compute_spec(self):
        return self._dataset(_first(self._input, "interleave")).element_spec

    def _cardinality(self):
        return UNKNOWN_CARDINALITY
