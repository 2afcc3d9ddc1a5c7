"""One Keras layer call → ops of the exporters' graph, with the layer's weights as NumPy arrays.

The op kinds, their attrs and weights (channels-last, Keras layouts; each exporter converts layouts):
  dense       kernel (in, out), bias?                      activation (None, 'relu' or 'relu6' after fold.py)
  conv        kernel (*k, in/groups, out), bias?           rank, strides, padding ('valid'/'same'), dilations,
                                                           groups, activation
  pool        -                                            mode ('max'/'avg'), rank, pool_size, strides, padding
  reduce      -                                            mode ('mean'/'max'), axes, keepdims
  reshape     -                                            shape: the per-sample shape (-1 for an unknown dim)
  transpose   -                                            perm (over every axis, batch included)
  activation  -                                            name, params (see ACTIVATIONS)
  affine      mean?, scale?, offset? (each broadcastable    channel_last: the params vary along the last axis
              against the value, batch axis included)       only. y = (x - mean) * scale + offset
  layer_norm  gamma, beta                                  axes, epsilon
  merge       -                                            mode ('add','sub','mul','avg','max','min')
  concat      -                                            axis (>= 1)
  embedding   table (vocabulary, dim)                      -
  rnn         kernel, recurrent_kernel, bias (Keras         cell ('simple','lstm','gru'), units, activation,
              layouts and gate orders)                      recurrent_activation, reset_after, return_sequences,
                                                           return_state, go_backwards
  reverse     -                                            axis (a returned sequence of a backward RNN)
  pad         -                                            pads: (before, after) per axis
  cast        -                                            to ('float32')
  identity    -                                            - (only to give a model output its own name)
Dropout is the identity at inference and makes no op."""
from __future__ import annotations

import numpy as np

from .graph import ExportError

# Activations by the name gf.keras.activations.serialize gives them; params are fixed by Keras' formulas.
ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "gelu", "silu",
               "softplus", "softsign", "exponential", "hard_sigmoid", "leaky_relu", "linear")


def activation_spec(layer, fn, fmt):
    """(name, params) of a Keras activation function, or None for linear."""
    from ..keras import activations
    try:
        name = activations.serialize(fn)
    except ValueError:
        raise ExportError(f"{fmt} export: layer {layer.name!r} ({type(layer).__name__}) uses the activation "
                          f"{fn!r}, which is not one of gf.keras.activations ({', '.join(ACTIVATIONS)}); "
                          f"exported graphs cannot run Python code") from None
    if name == "linear":
        return None
    params = {"alpha": 0.2} if name == "leaky_relu" else {}  # Keras' default slope for the function
    return name, params


def _array(variable):
    return None if variable is None else np.asarray(variable.numpy(), np.float32)


def _outputs(graph, layer, out_kts):
    if len(out_kts) == 1:
        return [graph.value(layer.name, out_kts[0].shape, out_kts[0].dtype.name)]
    return [graph.value(f"{layer.name}/out_{i}", kt.shape, kt.dtype.name) for i, kt in enumerate(out_kts)]


def _with_activation(graph, layer, kind, ins, out, attrs, weights, fmt):
    """`kind` then the layer's activation as its own op (fold.py fuses relu/relu6 back in)."""
    spec = activation_spec(layer, layer.activation, fmt)
    if spec is None:
        graph.add(kind, layer, ins, [out], attrs, weights)
        return [out]
    pre = graph.value(f"{layer.name}/pre_activation", out.shape)
    graph.add(kind, layer, ins, [pre], attrs, weights)
    graph.add("activation", layer, [pre], [out], {"name": spec[0], "params": spec[1]})
    return [out]


def _dense(layer, ins, outs, graph, fmt):
    return _with_activation(graph, layer, "dense", ins, outs[0], {"activation": None},
                            {"kernel": _array(layer.kernel), "bias": _array(layer.bias)}, fmt)


def _conv(layer, ins, outs, graph, fmt):
    if layer.padding == "causal":  # pad the start by the kernel's span, then a 'valid' convolution
        left = (layer.kernel_size[0] - 1) * layer.dilation_rate[0]
        x = ins[0]
        padded = graph.value(f"{layer.name}/causal_pad", (x.shape[0], None if x.shape[1] is None
                                                          else x.shape[1] + left, x.shape[2]))
        graph.add("pad", layer, [x], [padded], {"pads": [(0, 0), (left, 0), (0, 0)]})
        ins, padding = [padded], "valid"
    else:
        padding = layer.padding
    attrs = {"rank": layer.rank, "strides": tuple(layer.strides), "padding": padding,
             "dilations": tuple(layer.dilation_rate), "groups": layer.groups, "activation": None}
    return _with_activation(graph, layer, "conv", ins, outs[0], attrs,
                            {"kernel": _array(layer.kernel), "bias": _array(layer.bias)}, fmt)


def _pool(mode):
    def lower(layer, ins, outs, graph, fmt):
        graph.add("pool", layer, ins, outs, {"mode": mode, "rank": layer.rank, "pool_size": tuple(layer.pool_size),
                                             "strides": tuple(layer.strides), "padding": layer.padding})
        return outs
    return lower


def _global_pool(mode):
    def lower(layer, ins, outs, graph, fmt):
        graph.add("reduce", layer, ins, outs, {"mode": mode, "axes": tuple(range(1, layer.rank + 1)),
                                               "keepdims": layer.keepdims})
        return outs
    return lower


def _sample_shape(value):
    return tuple(-1 if d is None else int(d) for d in value.shape[1:])


def _flatten(layer, ins, outs, graph, fmt):
    x = ins[0]
    if layer.data_format == "channels_first" and x.rank > 2:
        perm = (0,) + tuple(range(2, x.rank)) + (1,)
        moved = graph.value(f"{layer.name}/channels_last", tuple(x.shape[i] for i in perm))
        graph.add("transpose", layer, [x], [moved], {"perm": perm})
        x = moved
    graph.add("reshape", layer, [x], outs, {"shape": _sample_shape(outs[0])})
    return outs


def _reshape(layer, ins, outs, graph, fmt):
    graph.add("reshape", layer, ins, outs, {"shape": _sample_shape(outs[0])})
    return outs


def _permute(layer, ins, outs, graph, fmt):
    graph.add("transpose", layer, ins, outs, {"perm": (0,) + tuple(layer.dims)})
    return outs


def _activation_layer(layer, ins, outs, graph, fmt):
    spec = activation_spec(layer, layer.activation, fmt)
    if spec is None:
        return ins
    graph.add("activation", layer, ins, outs, {"name": spec[0], "params": spec[1]})
    return outs


def _relu(layer, ins, outs, graph, fmt):
    slope, top, threshold = float(layer.negative_slope), layer.max_value, float(layer.threshold)
    if threshold == 0 and slope == 0 and top is None:
        name, params = "relu", {}
    elif threshold == 0 and slope == 0 and float(top) == 6.0:
        name, params = "relu6", {}
    elif threshold == 0 and top is None:
        name, params = "leaky_relu", {"alpha": slope}
    else:
        name, params = "relu_general", {"max_value": None if top is None else float(top), "negative_slope": slope,
                                        "threshold": threshold}
    graph.add("activation", layer, ins, outs, {"name": name, "params": params})
    return outs


def _leaky_relu(layer, ins, outs, graph, fmt):
    graph.add("activation", layer, ins, outs, {"name": "leaky_relu", "params": {"alpha": layer.negative_slope}})
    return outs


def _softmax(layer, ins, outs, graph, fmt):
    if not isinstance(layer.axis, int):
        raise ExportError(f"{fmt} export: layer {layer.name!r} (Softmax) normalises over several axes "
                          f"{layer.axis}; exported Softmax takes one axis")
    graph.add("activation", layer, ins, outs, {"name": "softmax", "params": {"axis": layer.axis % ins[0].rank}})
    return outs


def _identity(layer, ins, outs, graph, fmt):
    return ins


def _batch_norm(layer, ins, outs, graph, fmt):
    rank, axes = ins[0].rank, list(layer._axes)
    shape = [ins[0].shape[i] if i in axes else 1 for i in range(rank)]
    shape[0] = 1
    gamma = np.ones(layer._param_shape, np.float32) if layer.gamma is None else _array(layer.gamma)
    beta = np.zeros(layer._param_shape, np.float32) if layer.beta is None else _array(layer.beta)
    scale = gamma / np.sqrt(_array(layer.moving_variance) + np.float32(layer.epsilon))
    weights = {"mean": _array(layer.moving_mean).reshape(shape), "scale": scale.reshape(shape),
               "offset": beta.reshape(shape)}
    graph.add("affine", layer, ins, outs, {"channel_last": axes == [rank - 1]}, weights)
    return outs


def _rescaling(layer, ins, outs, graph, fmt):
    x = ins[0]
    if x.dtype != "float32":
        cast = graph.value(f"{layer.name}/cast", x.shape)
        graph.add("cast", layer, [x], [cast], {"to": "float32"})
        x = cast
    weights = {}
    for key, value in (("scale", layer.scale), ("offset", layer.offset)):
        array = np.asarray(value, np.float32)
        weights[key] = array.reshape((1,) * (x.rank - array.ndim) + array.shape)
    channel_last = all(w.shape[:-1] == (1,) * (x.rank - 1) for w in weights.values())
    graph.add("affine", layer, [x], outs, {"channel_last": channel_last}, weights)
    return outs


def _layer_norm(layer, ins, outs, graph, fmt):
    gamma = np.ones(layer._param_shape, np.float32) if layer.gamma is None else _array(layer.gamma)
    beta = np.zeros(layer._param_shape, np.float32) if layer.beta is None else _array(layer.beta)
    rank = ins[0].rank
    shape = [ins[0].shape[i] if i in layer._axes else 1 for i in range(rank)]
    shape[0] = 1
    graph.add("layer_norm", layer, ins, outs, {"axes": tuple(layer._axes), "epsilon": layer.epsilon},
              {"gamma": gamma.reshape(shape), "beta": beta.reshape(shape)})
    return outs


def _embedding(layer, ins, outs, graph, fmt):
    if layer.mask_zero:
        raise ExportError(f"{fmt} export: layer {layer.name!r} (Embedding) has mask_zero=True; exported graphs "
                          f"carry no masks, so the layers after it would see the padded steps. Export a model "
                          f"built with mask_zero=False")
    graph.add("embedding", layer, ins, outs, weights={"table": _array(layer.embeddings)})
    return outs


def _merge(mode):
    def lower(layer, ins, outs, graph, fmt):
        graph.add("merge", layer, ins, outs, {"mode": mode})
        return outs
    return lower


def _concat(layer, ins, outs, graph, fmt):
    graph.add("concat", layer, ins, outs, {"axis": layer.axis % ins[0].rank})
    return outs


def _rnn_op(layer, x, out_values, graph, fmt):
    from ..keras.layers.recurrent import GRU, LSTM
    cell = "lstm" if isinstance(layer, LSTM) else "gru" if isinstance(layer, GRU) else "simple"
    recurrent = getattr(layer, "recurrent_activation", None)
    attrs = {"cell": cell, "units": layer.units,
             "activation": (activation_spec(layer, layer.activation, fmt) or ("linear", {}))[0],
             "recurrent_activation": None if recurrent is None else
             (activation_spec(layer, recurrent, fmt) or ("linear", {}))[0],
             "reset_after": bool(getattr(layer, "reset_after", False)),
             "return_sequences": layer.return_sequences, "return_state": layer.return_state,
             "go_backwards": layer.go_backwards}
    bias = _array(layer.bias)
    if bias is None:
        bias = np.zeros(layer._bias_shape(), np.float32)
    graph.add("rnn", layer, [x], out_values, attrs, {"kernel": _array(layer.kernel),
                                                      "recurrent_kernel": _array(layer.recurrent_kernel),
                                                      "bias": bias})
    return out_values


def _rnn(layer, ins, outs, graph, fmt):
    return _rnn_op(layer, ins[0], outs, graph, fmt)


def _bidirectional(layer, ins, outs, graph, fmt):
    forward, backward = layer.forward_layer, layer.backward_layer
    if forward.return_state or layer.merge_mode is None:
        raise ExportError(f"{fmt} export: layer {layer.name!r} (Bidirectional) returns "
                          f"{'its states' if forward.return_state else 'a list of both directions'}; exported "
                          f"Bidirectional layers return one merged output")
    x, out = ins[0], outs[0]
    shape = out.shape[:-1] + (forward.units,)
    y_f = graph.value(f"{layer.name}/forward", shape)
    y_b = graph.value(f"{layer.name}/backward", shape)
    _rnn_op(forward, x, [y_f], graph, fmt)
    _rnn_op(backward, x, [y_b], graph, fmt)
    if forward.return_sequences:  # the backward pass emits its last step first: put it back in time order
        ordered = graph.value(f"{layer.name}/backward_in_time_order", shape)
        graph.add("reverse", layer, [y_b], [ordered], {"axis": 1})
        y_b = ordered
    if layer.merge_mode == "concat":
        graph.add("concat", layer, [y_f, y_b], [out], {"axis": len(shape) - 1})
    else:
        graph.add("merge", layer, [y_f, y_b], [out], {"mode": {"sum": "add", "mul": "mul", "ave": "avg"}
                                                      [layer.merge_mode]})
    return outs


def _zero_padding(layer, ins, outs, graph, fmt):
    graph.add("pad", layer, ins, outs, {"pads": [tuple(p) for p in layer._paddings()]})
    return outs


def _table():
    from ..keras import layers as L
    from ..keras.engine.input_layer import InputLayer
    return [
        (L.Dense, _dense), ((L.Conv1D, L.Conv2D), _conv),
        ((L.MaxPooling1D, L.MaxPooling2D), _pool("max")), ((L.AveragePooling1D, L.AveragePooling2D), _pool("avg")),
        ((L.GlobalAveragePooling1D, L.GlobalAveragePooling2D), _global_pool("mean")),
        ((L.GlobalMaxPooling1D, L.GlobalMaxPooling2D), _global_pool("max")),
        (L.Flatten, _flatten), (L.Reshape, _reshape), (L.Permute, _permute),
        (L.Activation, _activation_layer), (L.ReLU, _relu), (L.LeakyReLU, _leaky_relu), (L.Softmax, _softmax),
        ((L.Dropout, InputLayer), _identity),
        (L.BatchNormalization, _batch_norm), (L.LayerNormalization, _layer_norm), (L.Rescaling, _rescaling),
        (L.Embedding, _embedding),
        (L.Add, _merge("add")), (L.Subtract, _merge("sub")), (L.Multiply, _merge("mul")),
        (L.Average, _merge("avg")), (L.Maximum, _merge("max")), (L.Minimum, _merge("min")),
        (L.Concatenate, _concat),
        ((L.LSTM, L.GRU, L.SimpleRNN), _rnn), (L.Bidirectional, _bidirectional),
        ((L.ZeroPadding1D, L.ZeroPadding2D), _zero_padding),
    ]


def covered_layers():
    """The names of the Keras layer classes the graph walk understands."""
    names = []
    for classes, _ in _table():
        names += [c.__name__ for c in (classes if isinstance(classes, tuple) else (classes,))]
    return names


def lower(layer, ins, out_kts, graph, fmt):
    """Adds the ops of one call of `layer` on the Values `ins`; returns the Values of its outputs."""
    for classes, function in _table():
        if type(layer) in (classes if isinstance(classes, tuple) else (classes,)):
            return function(layer, ins, _outputs(graph, layer, out_kts), graph, fmt)
    raise ExportError(f"{fmt} export: layer {layer.name!r} ({type(layer).__name__}) is not covered. Layers the "
                      f"exporters read: {', '.join(covered_layers())} (plus Sequential and functional models nested "
                      f"in each other); Lambda, Masking, TimeDistributed, subclassed and custom layers are not")
