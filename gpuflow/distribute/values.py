"""Distributed values: one component per replica (TF's tf.distribute.DistributedValues / PerReplica)."""
from __future__ import annotations

from .. import nest


class DistributedValues:
    """One value per local replica, in replica order; `strategy.run` hands replica i its `values[i]`."""
    __slots__ = ("_values",)

    def __init__(self, values):
        self._values = tuple(values)

    @property
    def values(self) -> tuple:
        return self._values

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        parts = ",\n  ".join(f"{i}: {v!r}" for i, v in enumerate(self._values))
        return f"{type(self).__name__}:{{\n  {parts}\n}}"


class PerReplica(DistributedValues):
    """Values that differ per replica: a distributed dataset's batches, strategy.run's results."""


class Mirrored(DistributedValues):
    """Values that are the same on every replica (an all-reduce's result, as seen from cross-replica context)."""


def local_results(value) -> tuple:
    """TF's strategy.experimental_local_results: the components of a distributed value (or of a structure of
    them), or (value,) for a plain one."""
    if isinstance(value, DistributedValues):
        return value.values
    from .mirrored_variable import MirroredVariable
    if isinstance(value, MirroredVariable):
        return value.values
    flat = nest.flatten(value)
    counts = {len(v) for v in flat if isinstance(v, DistributedValues)}
    if not counts:
        return (value,)
    if len(counts) > 1:
        raise ValueError(f"the structure mixes distributed values of {sorted(counts)} replicas")
    n = counts.pop()
    return tuple(nest.pack_sequence_as(value, [v.values[i] if isinstance(v, DistributedValues) else v for v in flat])
                 for i in range(n))


def select_replica(i: int, structure):
    """Replica i's view of a structure: each DistributedValues leaf replaced by its i-th component."""
    if isinstance(structure, DistributedValues):
        return structure.values[i]
    if not nest.is_nested(structure):
        return structure
    return nest.map_structure(lambda v: v.values[i] if isinstance(v, DistributedValues) else v, structure)


def regroup(per_replica: list):
    """The structures replicas gave (one each, same shape) as one structure whose leaves are PerReplica
    (or the leaf itself when every replica gave the very same object)."""
    if len(per_replica) == 1:
        return per_replica[0]
    flats = [nest.flatten(s) for s in per_replica]
    nest.assert_same_structure(*per_replica)

    def join(leaves):
        return leaves[0] if all(v is leaves[0] for v in leaves) else PerReplica(leaves)
    return nest.pack_sequence_as(per_replica[0], [join(list(leaves)) for leaves in zip(*flats)])
