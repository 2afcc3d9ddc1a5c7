"""Which layers and variables a layer tree holds, found by walking the layers' attributes.

Sublayers and variables are found by walking each layer's attributes (Layers, Variables, and
lists/tuples/dicts of them) each time they are asked for, so lists appended to after assignment and
attributes replaced later are seen as they are now, in assignment order. The flattened walk is
cached (see `LayerTracking._walk`), as it runs several times per training step.
"""
from __future__ import annotations

import operator

from ...tensor import TensorShape, Variable

# Attributes `_tracked_values` never walks: bookkeeping that may hold layers or tensors it does not own.
_UNTRACKED = frozenset({"_inbound_nodes", "_call_losses", "_tracking_plan_cache", "_walk_cache"})

# The layer trees' structure version. Every change that can alter which layers or variables a tree
# holds, or a layer's own trainable flag, bumps it: a Layer attribute set or deleted whose new or old value
# is a Layer, Variable or container; `_trainable` set; add_weight; build; Sequential.add/pop. The flattened
# lists a walk makes are cached with the version they were made at (see LayerTracking._walk). Containers
# mutated in place (`self.blocks.append(Dense(3))`) bump nothing, so the cache also keeps each container it
# walked with the items it held then, and checks them by identity.
_structure_version = 0


def structure_changed():
    """Invalidate every layer tree's cached walk."""
    global _structure_version
    _structure_version += 1


def _collect_tracked(value, out):
    """`_tracked_values`' walk of one attribute value: Layers and Variables, also inside lists/tuples/dicts."""
    if isinstance(value, (LayerTracking, Variable)):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _collect_tracked(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _collect_tracked(v, out)


def _collect_noting_containers(value, out, containers):
    """`_collect_tracked`, also noting each list and dict walked, with the items it holds now."""
    if isinstance(value, (LayerTracking, Variable)):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        if not isinstance(value, tuple):
            containers.append((value, list(value)))
        for v in value:
            _collect_noting_containers(v, out, containers)
    elif isinstance(value, dict):
        containers.append((value, list(value.values())))
        for v in value.values():
            _collect_noting_containers(v, out, containers)


def _unchanged(container, items) -> bool:
    """`container` holds the very objects `items` held when noted (a dict: its values), in order."""
    now = container.values() if isinstance(container, dict) else container
    return len(now) == len(items) and all(map(operator.is_, now, items))


class LayerTracking:
    """The part of `Layer` that finds its sublayers and variables, and the views over them (`weights`,
    `trainable_weights`, `trainable`, ...). Relies on `_own_weights` ([(name, Variable, regularizer)], made by
    add_weight) and `_trainable`, which Layer.__init__ sets."""

    def __setattr__(self, key, value):
        if isinstance(value, LayerTracking) and value is self:
            raise ValueError(f"{self.name}: a layer cannot track itself as attribute {key!r}")
        if key not in _UNTRACKED and (key == "_trainable" or isinstance(value, _CAN_TRACK)
                                      or isinstance(self.__dict__.get(key), _CAN_TRACK)):
            structure_changed()
        object.__setattr__(self, key, value)

    def __delattr__(self, key):
        if key not in _UNTRACKED and (key == "_trainable" or isinstance(self.__dict__.get(key), _CAN_TRACK)):
            structure_changed()
        object.__delattr__(self, key)

    def _tracked_values(self):
        """Layers and Variables held in attributes (and in lists/tuples/dicts of them), in assignment order."""
        out = []
        attrs = vars(self)
        for key in self._tracking_plan(attrs):
            if key == "_own_weights":
                out.extend([v for _, v, _ in attrs[key]])
            else:
                _collect_tracked(attrs[key], out)
        return out

    def _tracking_plan(self, attrs):
        """The attributes `_tracked_values` must visit: those whose value's type can hold a Layer or
        Variable. This runs several times per training step, and most attributes are names, flags
        and numbers. Whether a value can hold one depends on its type alone, so the plan is kept
        with the attribute names and value types it was made from and made again when either
        differs; the values themselves (lists appended to, attributes replaced) are read afresh on
        every walk."""
        if "_tracking_plan_cache" not in attrs:
            attrs["_tracking_plan_cache"] = None  # set first, so the names the plan is checked against include it
        names, kinds = tuple(attrs), tuple(map(type, attrs.values()))
        cached = attrs["_tracking_plan_cache"]
        if cached is not None and cached[0] == names and cached[1] == kinds:
            return cached[2]
        plan = tuple(key for key, value in attrs.items()
                     if key == "_own_weights" or (key not in _UNTRACKED and type(value) is not TensorShape
                                                  and isinstance(value, _CAN_TRACK)))
        attrs["_tracking_plan_cache"] = (names, kinds, plan)
        return plan

    def _walk(self):
        """(layers, (variable, trainable-by-its-layers) pairs) of the whole tree, from the cache when it is
        current: made at this structure version, every layer's attributes are the same names holding the
        very same objects (this sees writes past __setattr__, into `__dict__`), and every container walked
        still holds what it held then. (The cache lives in a holder list set once, so that storing it changes
        no attribute.)
        Layers come depth-first in assignment order (self first); variables deduplicated, each layer's own
        before its sublayers', `trainable` False below a non-trainable layer. A variable's own flag is
        left to the reader: it can change without the tree knowing."""
        holder = self.__dict__.get("_walk_cache")
        cache = holder[0] if holder is not None else None
        if cache is not None and cache[0] == _structure_version and all(
                len(attrs) == len(values) and all(map(operator.is_, attrs.values(), values)) and tuple(attrs) == names
                for attrs, names, values in cache[4]) and all(_unchanged(c, items) for c, items in cache[1]):
            return cache[2], cache[3]
        if holder is None:
            holder = self.__dict__["_walk_cache"] = [None]  # before the walk notes this layer's attributes
        version = _structure_version
        layers, pairs, containers, seen_layers, seen_vars, states = [], [], [], set(), set(), []

        def walk(layer, trainable):
            if id(layer) in seen_layers:
                return
            seen_layers.add(id(layer))
            layers.append(layer)
            trainable = trainable and layer._trainable
            values, attrs = [], vars(layer)
            plan = layer._tracking_plan(attrs)
            states.append((attrs, tuple(attrs), list(attrs.values())))
            for key in plan:
                if key == "_own_weights":
                    containers.append((attrs[key], list(attrs[key])))
                    values.extend([v for _, v, _ in attrs[key]])
                else:
                    _collect_noting_containers(attrs[key], values, containers)
            for v in values:
                if isinstance(v, LayerTracking):
                    walk(v, trainable)
                elif id(v) not in seen_vars:
                    seen_vars.add(id(v))
                    pairs.append((v, trainable))
        walk(self, True)
        holder[0] = (version, containers, layers, pairs, states)
        return layers, pairs

    def _flatten_layers(self, include_self=True, recursive=True):
        if recursive:
            layers = self._walk()[0]
            return list(layers) if include_self else layers[1:]
        seen, out = set(), []

        def walk(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for v in layer._tracked_values():
                if isinstance(v, LayerTracking) and recursive:
                    walk(v)
                elif isinstance(v, LayerTracking) and id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        walk(self)
        return out if include_self else out[1:]

    def _walk_variables(self):
        """(variable, trainable) pairs, deduplicated, own weights before sublayers'."""
        return [(v, t and v.trainable) for v, t in self._walk()[1]]

    @property
    def _layers(self):
        """Direct sublayers, in assignment order."""
        return self._flatten_layers(include_self=False, recursive=False)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        for layer in self._flatten_layers():
            layer._trainable = bool(value)

    @property
    def weights(self):
        return [v for v, _ in self._walk()[1]]

    variables = weights

    @property
    def trainable_weights(self):
        return [v for v, t in self._walk()[1] if t and v.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        return [v for v, t in self._walk()[1] if not (t and v.trainable)]

    non_trainable_variables = non_trainable_weights


_CAN_TRACK = (LayerTracking, Variable, list, tuple, dict)  # attribute values that can hold a Layer or Variable
