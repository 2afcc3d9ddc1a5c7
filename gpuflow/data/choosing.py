"""Elements drawn from several datasets: `choose_from_datasets` (by a dataset of indices) and
`sample_from_datasets` (at random, by weights), as tf.data's."""
from __future__ import annotations

import itertools

import numpy as np

from .. import dtypes
from ..errors import InvalidArgumentError
from ..ops.random_ops import construction_seeds
from . import structure
from ._args import as_int
from .node import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Node, node_of

_SAMPLE_TAG = 3  # keeps these generators apart from shuffle's and random_ops.host_generator's


def _inputs(datasets, what):
    nodes = [node_of(d, f"{what}: datasets must be gf.data.Dataset objects") for d in list(datasets)]
    if not nodes:
        raise InvalidArgumentError(f"{what}: give at least one dataset")
    spec = nodes[0].element_spec
    for k, node in enumerate(nodes[1:], 1):
        merged = structure.merge_specs(spec, node.element_spec)
        if merged is None:
            raise InvalidArgumentError(
                f"{what}: every dataset must have elements of the same structure, dtypes and ranks:\n"
                f"  dataset 0: {structure.describe(nodes[0].element_spec)}\n"
                f"  dataset {k}: {structure.describe(node.element_spec)}")
        spec = merged
    return nodes, spec


class _FromSeveral(Node):
    """Yields from the input chosen for each element; an input that runs out is dropped (or ends it all)."""

    def __init__(self, datasets, stop_on_empty, what):
        self._inputs, self._spec = _inputs(datasets, what)
        self._stop_on_empty = bool(stop_on_empty)

    def _choices(self, probe, live):
        """Indices of the inputs to draw from, one per element; `live` holds those not run out."""
        raise NotImplementedError

    def _elements(self, probe=False):
        iterators = [node._elements(probe) for node in self._inputs]
        live = [True] * len(iterators)
        try:
            for k in self._choices(probe, live):
                if not live[k]:
                    continue
                element = next(iterators[k], None)
                if element is None:
                    live[k] = False
                    if self._stop_on_empty or not any(live):
                        return
                    continue
                yield element
        finally:
            for it in iterators:
                it.close()

    def _sources(self):
        """The nodes whose cardinalities bound this one's."""
        return self._inputs

    def _cardinality(self):
        counts = [node._cardinality() for node in self._sources()]
        return INFINITE_CARDINALITY if all(n == INFINITE_CARDINALITY for n in counts) else UNKNOWN_CARDINALITY


class ChooseFromDatasets(_FromSeveral):
    def __init__(self, datasets, choice_dataset, stop_on_empty_dataset):
        super().__init__(datasets, stop_on_empty_dataset, "choose_from_datasets")
        self._choice = node_of(choice_dataset, "choose_from_datasets: choice_dataset must be a gf.data.Dataset")
        spec = self._choice.element_spec
        if getattr(spec, "dtype", None) != dtypes.int64 or tuple(spec.shape) != ():
            raise InvalidArgumentError(f"choose_from_datasets: choice_dataset must have scalar int64 elements, got "
                                       f"{structure.describe(spec)}")

    def _choices(self, probe, live):
        source = self._choice._elements(probe)
        try:
            for value in source:
                k = int(value)
                if not 0 <= k < len(live):
                    raise InvalidArgumentError(f"choose_from_datasets: choice_dataset gave {k}, not an index of the "
                                               f"{len(live)} datasets")
                yield k
        finally:
            source.close()

    def _sources(self):
        return self._inputs + [self._choice]


class SampleFromDatasets(_FromSeveral):
    """Each element from an input drawn with probability proportional to its weight among those not run out.
    The draws repeat from the seeds fixed when the dataset is made (shuffle's rules); with
    `rerandomize_each_iteration` each pass over the dataset draws anew."""

    def __init__(self, datasets, weights, seed, stop_on_empty_dataset, rerandomize_each_iteration):
        super().__init__(datasets, stop_on_empty_dataset, "sample_from_datasets")
        n = len(self._inputs)
        if weights is None:
            weights = [1.0] * n
        if hasattr(weights, "_node"):
            raise InvalidArgumentError("sample_from_datasets: weights as a Dataset are not supported; give a list of "
                                       "numbers (one per dataset)")
        weights = np.asarray(weights.numpy() if hasattr(weights, "numpy") else weights, dtype=np.float64)
        if weights.shape != (n,) or not np.all(np.isfinite(weights)) or np.any(weights < 0) or not weights.sum() > 0:
            raise InvalidArgumentError(f"sample_from_datasets: weights must be {n} finite numbers >= 0 (one per "
                                       f"dataset), not all 0; got {weights.tolist()}")
        self._weights = weights
        self._seeds = construction_seeds(None if seed is None else as_int(seed, "sample_from_datasets: seed"),
                                         "Dataset.sample_from_datasets")
        self._rerandomize = bool(rerandomize_each_iteration)
        self._epochs = itertools.count()

    def _choices(self, probe, live):
        epoch = next(self._epochs) if self._rerandomize and not probe else 0
        rng = np.random.default_rng([*self._seeds, _SAMPLE_TAG, epoch])
        while True:
            p = self._weights * live
            if not p.sum() > 0:
                return
            yield int(rng.choice(len(p), p=p / p.sum()))
