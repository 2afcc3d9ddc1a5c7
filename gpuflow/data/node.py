"""One step of an input pipeline: what every source and transformation of gf.data implements.

A node yields elements in the internal form (nested tuples/dicts of NumPy arrays, see structure.py) from
`_elements(probe)`, and says how many with `_cardinality()`. `probe=True` asks for elements only to
learn their spec: it must not advance state such as a shuffle's epoch, and need not start threads.
The public `Dataset` (dataset.py) holds a node and makes new nodes from it; nodes hold their input
nodes, never Datasets, so the node modules sit below dataset.py.
"""
from __future__ import annotations

from ..errors import InvalidArgumentError

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


class Node:
    _spec = None

    def _elements(self, probe=False):
        raise NotImplementedError(f"{type(self).__name__} must implement _elements")

    def _cardinality(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement _cardinality")

    def _compute_spec(self):
        raise NotImplementedError(f"{type(self).__name__} must set _spec or implement _compute_spec")

    @property
    def element_spec(self):
        """A structure of TensorSpecs like one element; None marks a dimension that varies (the batch dim)."""
        if self._spec is None:
            self._spec = self._compute_spec()
        return self._spec


def node_of(dataset, expected: str) -> Node:
    """The pipeline a gf.data.Dataset holds; anything else is refused with `expected` (what the caller takes)."""
    node = getattr(dataset, "_node", None)
    if not isinstance(node, Node):
        raise InvalidArgumentError(f"{expected}, got {type(dataset).__name__} {dataset!r:.60}")
    return node
