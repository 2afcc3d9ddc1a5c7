"""`gf.keras.models`: Model, Sequential, clone_model, load_model/save_model for `.keras` files, and
model_from_json for what `model.to_json()` writes."""
from __future__ import annotations

from .. import nest
from .engine.functional import Functional
from .engine.functional_config import takes_functional_arguments
from .engine.input_layer import Input, InputLayer
from .engine.keras_json import model_from_keras_json
from .engine.keras_tensor import KerasTensor
from .engine.model_file import save_model
from .engine.model_loading import load_model
from .engine.layer_serialization import deserialize_layer, serialize_layer
from .engine.sequential import Sequential
from .engine.training import Model
from .engine.registration import custom_object_scope

__all__ = ["Model", "Sequential", "Functional", "clone_model", "load_model", "save_model", "model_from_json"]


def model_from_json(json_string, custom_objects=None):
    """The model that `model.to_json()` described, with freshly initialised weights (Keras 3's function).

    Runs no code from the text: each class it names must be one of gf.keras' own, registered with
    `gf.keras.saving.register_keras_serializable`, or given in `custom_objects` ({name: class}). Reads
    Keras 3's layout, and tf.keras 2's inbound nodes; a layer config with arguments gpuflow's class of the
    same name does not take is refused by that class."""
    return model_from_keras_json(json_string, custom_objects)


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialised weights, as in Keras.

    `clone_function(layer)` makes each layer of the clone (default: a new layer from the layer's config; returning
    the layer itself shares it). `input_tensors` are `gf.keras.Input` tensors to build the clone on (one for a
    Sequential model, one per input for a functional one). A functional `Model` subclass stays that subclass when
    its constructor takes (inputs, outputs), as Keras decides."""
    if clone_function is None:
        # The model's own layer classes, so custom layers (also inside nested models) clone without being registered.
        classes = {type(layer).__name__: type(layer) for layer in model._flatten_layers(include_self=False)}

        def clone_function(layer):
            # The scope reaches layers a wrapper revives from its own config (TimeDistributed, Bidirectional).
            with custom_object_scope(classes):
                return deserialize_layer(serialize_layer(layer), classes)
    elif not callable(clone_function):
        raise TypeError(f"clone_model: clone_function must be callable (layer -> new layer), got "
                        f"{type(clone_function).__name__}")
    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone_function)
    if isinstance(model, Functional):
        return _clone_functional(model, input_tensors, clone_function)
    raise ValueError(f"clone_model: {type(model).__name__} is a subclassed model, whose code cannot be cloned from "
                     f"a config; construct a new instance instead")


def _check_inputs(input_tensors, count, kind):
    flat = nest.flatten(input_tensors)
    if len(flat) != count:
        raise ValueError(f"clone_model: the {kind} model has {count} input(s), but input_tensors holds {len(flat)}")
    for t in flat:
        if not isinstance(t, KerasTensor) or not isinstance(t.node.layer, InputLayer):
            raise ValueError(f"clone_model: input_tensors must be gf.keras.Input tensors, got {type(t).__name__}"
                             f"{'' if not isinstance(t, KerasTensor) else ' made by layer ' + repr(t.node.layer.name)}")
    return flat


def _clone_sequential(model, input_tensors, clone_function):
    layers = [clone_function(layer) for layer in model.layers]
    if input_tensors is not None:
        start = _check_inputs(input_tensors, 1, "Sequential")
    elif model._input_tensor is not None:
        start = [Input(batch_shape=tuple(model._input_tensor.shape), dtype=model._input_tensor.dtype)]
    else:
        start = []  # never built: the clone builds on first data too
    return Sequential(start + layers, name=model.name, trainable=model.trainable)


def _clone_functional(model, input_tensors, clone_function):
    if input_tensors is not None:
        new_inputs = _check_inputs(input_tensors, len(model.inputs), "functional")
    else:
        new_inputs = [Input(batch_shape=tuple(t.shape), dtype=t.dtype, name=t.node.layer.name) for t in model.inputs]
    values = {id(old): new for old, new in zip(model.inputs, new_inputs)}

    def lookup(t):
        return values[id(t)] if isinstance(t, KerasTensor) else t
    clones = {}  # id(original layer) -> its clone: a layer called twice (shared) is cloned once
    for node in model._nodes:  # graph order, so every node's inputs are already made
        if isinstance(node.layer, InputLayer):
            continue
        layer = clones.get(id(node.layer))
        if layer is None:
            layer = clones[id(node.layer)] = clone_function(node.layer)
        args, kwargs = nest.map_structure(lookup, (list(node.args), node.kwargs))
        out = layer(*args, **kwargs)
        for kt, value in zip(nest.flatten(node.outputs), nest.flatten(out)):
            values[id(kt)] = value
    inputs = nest.pack_sequence_as(model._nested_inputs, new_inputs)
    outputs = nest.pack_sequence_as(model._nested_outputs, [values[id(t)] for t in model.outputs])
    cls = _user_class(type(model))
    # Keras keeps a Model subclass whose constructor takes (inputs, outputs); one with its own arguments cannot be
    # called that way, so (like Keras) its clone is a plain functional model.
    if cls is not Functional and takes_functional_arguments(cls):
        clone = cls(inputs, outputs, name=model.name)
    else:
        clone = Functional(inputs, outputs, name=model.name)
    if not model.trainable:
        clone.trainable = False
    return clone


def _user_class(cls):
    """`Custom(inputs, outputs)` is an instance of a copy of Custom with Functional mixed in (functional.py):
    the class to call is Custom itself."""
    return vars(cls).get("_user_class", cls)
