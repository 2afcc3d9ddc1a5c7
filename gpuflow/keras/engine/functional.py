"""Functional models: `Model(inputs, outputs)` runs the graph of layer calls between them.

The graph is the Nodes reachable backwards from the outputs, run in topological order;
a layer called several times (a shared layer) has one Node per call.
"""
from __future__ import annotations

from ... import nest
from ...tensor import Tensor
from .. import backend as _backend
from .functional_config import functional_config
from .input_layer import InputLayer
from .layer_naming import to_snake_case
from .keras_tensor import KerasTensor
from .training import Model


def _check_keras_tensors(structure, what):
    for t in nest.flatten(structure):
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Model: every {what} must be a KerasTensor (from gf.keras.Input or a layer called on "
                            f"one), got {type(t).__name__}")


def topological_nodes(outputs):
    """The Nodes that `outputs` depend on, each after the Nodes that feed it."""
    order, state = [], {}
    stack = [(t.node, False) for t in reversed(nest.flatten(outputs))]
    while stack:  # iterative DFS: deep models must not hit Python's recursion limit
        node, done = stack.pop()
        if done:
            state[id(node)] = "done"
            order.append(node)
            continue
        if state.get(id(node)) is not None:
            continue
        state[id(node)] = "open"
        stack.append((node, True))
        stack.extend((p.node, False) for p in reversed(node.parents) if state.get(id(p.node)) is None)
    return order


_FUNCTIONAL_SUBCLASSES: dict = {}  # Model subclass → its functional version


def functional_subclass(cls):
    """The Model subclass `cls` with Functional mixed in, for `cls(inputs, outputs)`: made once per class, named
    like it. Its MRO is (it, cls, ..., Functional, Model, ...): what cls overrides (train_step, test_step, ...)
    wins and Functional supplies the graph (call, layers, get_config). isinstance(m, cls) and
    isinstance(m, Functional) both hold. (Keras 3 rewrites cls.__bases__ instead; a separate class leaves the
    user's class as written.)"""
    made = _FUNCTIONAL_SUBCLASSES.get(cls)
    if made is None:
        made = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                                                      "__doc__": cls.__doc__, "_user_class": cls})
        _FUNCTIONAL_SUBCLASSES[cls] = made
    return made


class Functional(Model, functional=True):
    """A Model defined by a graph of layer calls from `Input` tensors to outputs: what
        `gf.keras.Model(inputs, outputs)` returns.
    """
    _masks_from_graph = True  # each layer attaches its output mask as the graph runs
    _config_holds_layers = True

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        _check_keras_tensors(inputs, "input")
        _check_keras_tensors(outputs, "output")
        # Keras names a functional subclass after its class (custom_model), a plain one `model`.
        default = "model" if type(self) is Functional else to_snake_case(type(self).__name__)
        super().__init__(name=name or _backend.unique_name(default), trainable=trainable, **kwargs)
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        self._nested_inputs, self._nested_outputs = inputs, outputs
        self.inputs, self.outputs = nest.flatten(inputs), nest.flatten(outputs)
        self._nodes = topological_nodes(outputs)
        given = {id(t) for t in self.inputs}
        for node in self._nodes:
            if not node.parents and not isinstance(node.layer, InputLayer):
                raise ValueError(f"Model: layer {node.layer.name!r} was called without symbolic inputs")
            if isinstance(node.layer, InputLayer) and id(node.outputs) not in given:
                raise ValueError(f"Graph disconnected: the outputs depend on Input {node.layer.name!r}, which is not "
                                 f"among the model's inputs ({', '.join(t.name for t in self.inputs)}); add it to "
                                 f"`inputs`")
        for t in self.inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(f"Model: input {t.name!r} is not made by gf.keras.Input; a model's inputs must be "
                                 f"Input tensors")
        seen, layers = set(), []
        for t in self.inputs:  # Input layers first, in the order the inputs were given, as Keras lists them
            seen.add(id(t.node.layer))
            layers.append(t.node.layer)
        for node in self._nodes:
            if id(node.layer) not in seen:
                seen.add(id(node.layer))
                layers.append(node.layer)
        names = [layer.name for layer in layers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"Model: layer names must be unique within a model; repeated: {', '.join(dupes)}")
        self._graph_layers = layers
        self.built = True

    @property
    def layers(self):
        return list(self._graph_layers)

    @property
    def output_names(self):
        if isinstance(self._nested_outputs, dict):
            return sorted(self._nested_outputs)
        return [t.node.layer.name for t in self.outputs]

    @property
    def input_names(self):
        return [t.node.layer.name for t in self.inputs]

    @property
    def input_shape(self):
        return nest.map_structure(lambda t: t.shape, self._nested_inputs)

    @property
    def output_shape(self):
        return nest.map_structure(lambda t: t.shape, self._nested_outputs)

    def _layer_output_shape(self, layer):
        shapes = [nest.map_structure(lambda t: t.shape, n.outputs) for n in self._nodes if n.layer is layer]
        if isinstance(layer, InputLayer):
            return layer.output.shape
        return shapes[0] if len(shapes) == 1 else "multiple"

    def _flat_inputs(self, inputs):
        """The call's inputs in the order of `self.inputs`; a dict may name inputs by their Input names."""
        if isinstance(inputs, dict) and not isinstance(self._nested_inputs, dict):
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise ValueError(f"{self.name}: the inputs dict lacks {', '.join(missing)} (has "
                                 f"{', '.join(map(str, inputs))})")
            return [inputs[n] for n in self.input_names]
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if not isinstance(self._nested_inputs, (list, dict)) and isinstance(inputs, list) and len(inputs) == 1:
            inputs = inputs[0]
        if isinstance(self._nested_inputs, list) and len(self._nested_inputs) == 1 and not nest.is_nested(inputs):
            inputs = [inputs]
        try:
            nest.assert_same_structure(self._nested_inputs, inputs)
        except ValueError:
            raise ValueError(f"{self.name} expects inputs structured like "
                             f"{nest.map_structure(lambda t: t.name, self._nested_inputs)!r}, got "
                             f"{type(inputs).__name__} of {len(nest.flatten(inputs))} tensor(s)") from None
        return nest.flatten(inputs)

    def call(self, inputs, training=None, mask=None):
        flat = self._flat_inputs(inputs)
        # An explicit mask= goes onto the inputs (as Keras 3 does), so the layers they feed receive it.
        masks = [None] * len(flat) if mask is None else self._flat_inputs(mask)
        values = {}
        for kt, x, m in zip(self.inputs, flat, masks):
            x = kt.node.layer._convert_inputs(x)
            if m is not None and isinstance(x, Tensor):
                x._keras_mask = m
            if isinstance(x, Tensor):
                shape = tuple(x.shape)
                if len(shape) != len(kt.shape) or any(a is not None and a != b for a, b in zip(kt.shape, shape)):
                    raise ValueError(f"{self.name}: input {kt.name!r} expects shape {kt.shape}, got {x.shape}")
            values[id(kt)] = x

        def lookup(t):
            return values[id(t)] if isinstance(t, KerasTensor) else t
        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            args, kwargs = nest.map_structure(lookup, (list(node.args), node.kwargs))
            out = node.layer(*args, **kwargs)
            for kt, value in zip(nest.flatten(node.outputs), nest.flatten(out)):
                values[id(kt)] = value
        return nest.pack_sequence_as(self._nested_outputs, [values[id(t)] for t in self.outputs])

    @staticmethod
    def _subclass_for(cls):
        return functional_subclass(cls)

    def get_config(self):
        return functional_config(self)
