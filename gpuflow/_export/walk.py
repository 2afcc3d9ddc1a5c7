"""A built Keras model (Sequential or functional, models nested in either) as a Graph of layer-level ops.

Nested models are inlined: their layers become ops of the one graph, fed by the outer values. Subclassed
models have no graph of layer calls to read (their `call` is Python code), so they are refused with what to
do instead."""
from __future__ import annotations

from .. import nest
from .fold import fold
from .graph import ExportError, Graph
from .lower import lower


def keras_graph(model, fmt, folds=True):
    """The Graph of `model`, inputs and outputs named after the Keras inputs and outputs; `fmt` ('ONNX',
    'TFLite') names the format in error messages."""
    _check_graph_model(model, fmt)
    inputs = _model_inputs(model, fmt)
    graph = Graph(model.name)
    graph.inputs = [graph.value(kt.node.layer.name, kt.shape, kt.dtype.name) for kt in inputs]
    graph.outputs = _inline(model, graph.inputs, graph, fmt)
    if folds:
        fold(graph)
    from ..keras.engine.functional import Functional
    names = model.output_names if isinstance(model, Functional) else [model.layers[-1].name]
    graph.name_outputs(names)
    return graph


def _check_graph_model(model, fmt):
    from ..keras.engine.functional import Functional
    from ..keras.engine.sequential import Sequential
    from ..keras.engine.training import Model
    if not isinstance(model, Model):
        raise ExportError(f"{fmt} export takes a gf.keras Model, got {type(model).__name__}")
    if not isinstance(model, (Sequential, Functional)):
        raise ExportError(f"{fmt} export: {model.name!r} is a subclassed model ({type(model).__name__}); its call() "
                          f"is Python code with no graph of layers to export. Build the same layers with "
                          f"gf.keras.Sequential or the functional API (gf.keras.Model(inputs, outputs)), copy the "
                          f"weights over with set_weights(model.get_weights()), and export that")


def _model_inputs(model, fmt):
    inputs = model.inputs
    if not inputs:
        raise ExportError(f"{fmt} export: {model.name!r} has no known input shape yet; build it first (start it "
                          f"with gf.keras.Input(shape=...), give its first layer input_shape=, call "
                          f"model.build((None, ...)), or call it on data once)")
    return inputs


def _inline(model, in_values, graph, fmt):
    """Adds the ops of `model` fed by `in_values`; returns its output Values."""
    from ..keras.engine.functional import Functional
    from ..keras.engine.input_layer import InputLayer
    from ..keras.engine.keras_tensor import KerasTensor
    if not isinstance(model, Functional):  # Sequential: each layer feeds the next
        _model_inputs(model, fmt)
        x = in_values[0]
        for layer in model.layers:
            out_kt = model._shapes[id(layer)][1]
            x, = _call(layer, [x], [out_kt], graph, fmt)
        return [x]
    env = {id(kt): v for kt, v in zip(model.inputs, in_values)}
    for node in model._nodes:
        if isinstance(node.layer, InputLayer):
            continue
        if any(isinstance(t, KerasTensor) for t in nest.flatten(node.kwargs)):
            raise ExportError(f"{fmt} export: layer {node.layer.name!r} ({type(node.layer).__name__}) is called with "
                              f"tensors as keyword arguments ({', '.join(node.kwargs)}); exported graphs take a "
                              f"layer's inputs as its first argument only")
        args = [env[id(t)] for t in nest.flatten(node.args[0])]
        outs = _call(node.layer, args, nest.flatten(node.outputs), graph, fmt)
        for kt, v in zip(nest.flatten(node.outputs), outs):
            env[id(kt)] = v
    return [env[id(kt)] for kt in model.outputs]


def _call(layer, in_values, out_kts, graph, fmt):
    from ..keras.engine.training import Model
    if isinstance(layer, Model):
        _check_graph_model(layer, fmt)  # a nested subclassed model is refused as a top-level one is
        return _inline(layer, in_values, graph, fmt)
    return lower(layer, in_values, out_kts, graph, fmt)
