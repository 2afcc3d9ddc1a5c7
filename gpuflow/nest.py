"""Nested structures (lists, tuples, namedtuples, dicts) like tf.nest; dicts are walked in sorted key order."""
from __future__ import annotations


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def is_nested(x) -> bool:
    """Whether `x` is a structure (list, tuple, namedtuple or dict) rather than a leaf, as tf.nest.is_nested."""
    return isinstance(x, (list, tuple, dict))


def _children(x):
    if isinstance(x, dict):
        return [x[k] for k in sorted(x)]
    return list(x)


def flatten(structure) -> list:
    """The leaves of `structure` in order (dicts by sorted key), as tf.nest.flatten."""
    if not is_nested(structure):
        return [structure]
    out = []
    for child in _children(structure):
        out.extend(flatten(child))
    return out


def pack_sequence_as(structure, flat):
    """`flat` leaves arranged in the shape of `structure`, the inverse of flatten."""
    flat = list(flat)
    it = iter(flat)

    def build(s):
        if not is_nested(s):
            return next(it)
        kids = [build(c) for c in _children(s)]
        if isinstance(s, dict):
            return type(s)(zip(sorted(s), kids)) if type(s) is not dict else dict(zip(sorted(s), kids))
        if _is_namedtuple(s):
            return type(s)(*kids)
        return type(s)(kids)
    out = build(structure)
    leftover = sum(1 for _ in it)
    if leftover:
        raise ValueError(f"pack_sequence_as: {leftover} more values than the structure holds")
    return out


def map_structure(fn, *structures):
    """`fn` applied to the corresponding leaves of one or more structures of the same shape."""
    if len(structures) == 1:  # one structure always matches itself: skip the signature walk
        if not is_nested(structures[0]):  # a single value (the common case in layer calls)
            return fn(structures[0])
    else:
        assert_same_structure(*structures)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*xs) for xs in zip(*flats)])


def _signature(s):
    if isinstance(s, dict):
        return ("dict", tuple((k, _signature(s[k])) for k in sorted(s)))
    if isinstance(s, (list, tuple)):
        return ("seq", len(s), tuple(_signature(c) for c in s))
    return "."


def assert_same_structure(*structures):
    """Raises ValueError unless all the structures have the same nesting (leaves may differ)."""
    first = _signature(structures[0])
    for other in structures[1:]:
        if _signature(other) != first:
            raise ValueError(f"the structures differ:\n  {structures[0]!r:.200}\n  {other!r:.200}")
