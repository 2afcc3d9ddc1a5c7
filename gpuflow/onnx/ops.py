"""Each op kind of the export graph (see gpuflow/_export/lower.py) as ONNX nodes.

Keras tensors are channels-last; ONNX's Conv and pooling are channels-first. Each convolution or pooling is
wrapped in a Transpose pair, so every Value keeps its Keras layout and Flatten/Reshape/Dense see the same
element order as in gpuflow (onnxruntime's optimizer cancels the back-to-back pairs between layers)."""
from __future__ import annotations

import math

import numpy as np

from .._export.graph import ExportError
from . import rnn
from ..ops.nn_ops import SELU_ALPHA, SELU_SCALE
from .builder import FLOAT, INT64


def activation(b, name, params, x, base, out=None):
    """One Keras activation; returns the output name (`out` when given)."""
    o = out and [out]
    simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus",
              "softsign": "Softsign", "exponential": "Exp"}
    if name in simple:
        return b.node(simple[name], [x], base, out_names=o)
    if name == "relu6":
        return b.node("Clip", [x, b.const(f"{base}/zero", np.float32(0)), b.const(f"{base}/six", np.float32(6))],
                      base, out_names=o)
    if name in ("softmax", "log_softmax"):
        return b.node("Softmax" if name == "softmax" else "LogSoftmax", [x], base, out_names=o,
                      axis=int(params.get("axis", -1)))
    if name == "elu":
        return b.node("Elu", [x], base, out_names=o, alpha=1.0)
    if name == "selu":
        return b.node("Selu", [x], base, out_names=o, alpha=SELU_ALPHA, gamma=SELU_SCALE)
    if name == "leaky_relu":
        return b.node("LeakyRelu", [x], base, out_names=o, alpha=float(params["alpha"]))
    if name == "hard_sigmoid":  # Keras 3: relu6(x + 3) / 6
        return b.node("HardSigmoid", [x], base, out_names=o, alpha=1.0 / 6.0, beta=0.5)
    if name == "silu":
        return b.node("Mul", [x, b.node("Sigmoid", [x], base)], base, out_names=o)
    if name == "gelu":  # Keras' default, the exact form: x * (1 + erf(x / sqrt(2))) / 2
        erf = b.node("Erf", [b.node("Mul", [x, b.const(f"{base}/rsqrt2", np.float32(1 / math.sqrt(2)))], base)],
                     base)
        half_x = b.node("Mul", [x, b.const(f"{base}/half", np.float32(0.5))], base)
        return b.node("Mul", [half_x, b.node("Add", [erf, b.const(f"{base}/one", np.float32(1))], base)], base,
                      out_names=o)
    if name == "relu_general":  # x above threshold, negative_slope * (x - threshold) below, capped at max_value
        t = b.const(f"{base}/threshold", np.float32(params["threshold"]))
        below = b.node("Mul", [b.node("Sub", [x, t], base),
                               b.const(f"{base}/slope", np.float32(params["negative_slope"]))], base)
        y = b.node("Where", [b.node("GreaterOrEqual", [x, t], base), x, below], base,
                   out_names=o if params["max_value"] is None else None)
        if params["max_value"] is None:
            return y
        return b.node("Min", [y, b.const(f"{base}/max", np.float32(params["max_value"]))], base, out_names=o)
    raise AssertionError(f"activation {name!r} has no ONNX form")  # lower.py admits only the names above


def _to_channels_first(b, x, rank, base):
    return b.node("Transpose", [x], base, perm=[0, rank + 1] + list(range(1, rank + 1)))


def _to_channels_last(b, x, rank, base, out):
    return b.node("Transpose", [x], base, out_names=[out], perm=[0] + list(range(2, rank + 2)) + [1])


def _window_attrs(op, spatial, kernel, strides, dilations):
    """Conv/pool attributes; 'same' padding as explicit pads (TF's: the odd pixel at the end) when the spatial
    sizes are known, else SAME_UPPER, which is the same rule."""
    attrs = {"kernel_shape": list(kernel), "strides": list(strides)}
    if op.attrs["padding"] != "same":
        return attrs
    if any(s is None for s in spatial):
        attrs["auto_pad"] = "SAME_UPPER"
        return attrs
    begin, end = [], []
    for size, k, s, d in zip(spatial, kernel, strides, dilations):
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    attrs["pads"] = begin + end
    return attrs


def _then_activation(b, op, y, out):
    """`y` through the op's fused activation into `out`; without one, `y` already is `out`."""
    if op.attrs["activation"] is not None:
        activation(b, op.attrs["activation"], {}, y, op.layer, out)


def dense(b, op, ins, outs):
    plain, has_bias = op.attrs["activation"] is None, "bias" in op.weights
    y = b.node("MatMul", [ins[0], b.const(f"{op.layer}/kernel", op.weights["kernel"])], op.layer,
               out_names=[outs[0]] if plain and not has_bias else None)
    if has_bias:
        y = b.node("Add", [y, b.const(f"{op.layer}/bias", op.weights["bias"])], op.layer,
                   out_names=[outs[0]] if plain else None)
    _then_activation(b, op, y, outs[0])


def conv(b, op, ins, outs):
    rank = op.attrs["rank"]
    kernel = op.weights["kernel"]  # (*k, in / groups, out) → ONNX's (out, in / groups, *k)
    w = b.const(f"{op.layer}/kernel", np.transpose(kernel, (rank + 1, rank) + tuple(range(rank))))
    inputs = [_to_channels_first(b, ins[0], rank, op.layer), w]
    if "bias" in op.weights:
        inputs.append(b.const(f"{op.layer}/bias", op.weights["bias"]))
    attrs = _window_attrs(op, op.inputs[0].shape[1:-1], kernel.shape[:rank], op.attrs["strides"],
                          op.attrs["dilations"])
    y = b.node("Conv", inputs, op.layer, dilations=list(op.attrs["dilations"]), group=op.attrs["groups"], **attrs)
    plain = op.attrs["activation"] is None
    y = _to_channels_last(b, y, rank, op.layer, outs[0] if plain else b.name(f"{op.layer}/channels_last"))
    _then_activation(b, op, y, outs[0])


def pool(b, op, ins, outs):
    rank = op.attrs["rank"]
    attrs = _window_attrs(op, op.inputs[0].shape[1:-1], op.attrs["pool_size"], op.attrs["strides"], (1,) * rank)
    if op.attrs["mode"] == "avg":
        attrs["count_include_pad"] = 0  # TF averages over the real pixels only
    y = b.node("MaxPool" if op.attrs["mode"] == "max" else "AveragePool",
               [_to_channels_first(b, ins[0], rank, op.layer)], op.layer, **attrs)
    _to_channels_last(b, y, rank, op.layer, outs[0])


def reduce(b, op, ins, outs):
    b.reduce("ReduceMean" if op.attrs["mode"] == "mean" else "ReduceMax", ins[0], op.attrs["axes"],
             op.attrs["keepdims"], op.layer, out=outs[0])


def reshape(b, op, ins, outs):
    # 0 copies the input's batch dim, so the batch stays dynamic.
    b.node("Reshape", [ins[0], b.ints(f"{op.layer}/shape", (0,) + tuple(op.attrs["shape"]))], op.layer,
           out_names=[outs[0]])


def transpose(b, op, ins, outs):
    b.node("Transpose", [ins[0]], op.layer, out_names=[outs[0]], perm=list(op.attrs["perm"]))


def activation_op(b, op, ins, outs):
    activation(b, op.attrs["name"], op.attrs["params"], ins[0], op.layer, outs[0])


def affine(b, op, ins, outs):
    # (x - mean) * scale + offset, in that order (as BatchNormalization computes it, so no cancellation).
    y, steps = ins[0], [(k, t) for k, t in (("mean", "Sub"), ("scale", "Mul"), ("offset", "Add"))
                        if k in op.weights]
    for i, (key, op_type) in enumerate(steps):
        last = i == len(steps) - 1
        y = b.node(op_type, [y, b.const(f"{op.layer}/{key}", op.weights[key])], op.layer,
                   out_names=[outs[0]] if last else None)
    if not steps:
        b.node("Identity", [y], op.layer, out_names=[outs[0]])


def layer_norm(b, op, ins, outs):
    axes, base = op.attrs["axes"], op.layer
    centred = b.node("Sub", [ins[0], b.reduce("ReduceMean", ins[0], axes, True, base)], base)
    var = b.reduce("ReduceMean", b.node("Mul", [centred, centred], base), axes, True, base)
    std = b.node("Sqrt", [b.node("Add", [var, b.const(f"{base}/epsilon", np.float32(op.attrs["epsilon"]))], base)],
                 base)
    y = b.node("Mul", [b.node("Div", [centred, std], base), b.const(f"{base}/gamma", op.weights["gamma"])], base)
    b.node("Add", [y, b.const(f"{base}/beta", op.weights["beta"])], base, out_names=[outs[0]])


def merge(b, op, ins, outs):
    mode, base = op.attrs["mode"], op.layer
    if mode in ("add", "max", "min"):
        b.node({"add": "Sum", "max": "Max", "min": "Min"}[mode], ins, base, out_names=[outs[0]])
    elif mode == "sub":
        b.node("Sub", ins, base, out_names=[outs[0]])
    elif mode == "mul":
        y = ins[0]
        for i, x in enumerate(ins[1:]):
            y = b.node("Mul", [y, x], base, out_names=[outs[0]] if i == len(ins) - 2 else None)
    else:  # avg: the sum times 1/n, as gpuflow computes it
        b.node("Mul", [b.node("Sum", ins, base), b.const(f"{base}/inverse_count", np.float32(1.0 / len(ins)))],
               base, out_names=[outs[0]])


def concat(b, op, ins, outs):
    b.node("Concat", ins, op.layer, out_names=[outs[0]], axis=op.attrs["axis"])


def embedding(b, op, ins, outs):
    ids = ins[0]
    if op.inputs[0].dtype.startswith("float"):  # float ids are truncated to integers, as Embedding casts them
        ids = b.node("Cast", [ids], op.layer, to=INT64)
    b.node("Gather", [b.const(f"{op.layer}/embeddings", op.weights["table"]), ids], op.layer, out_names=[outs[0]],
           axis=0)


def reverse(b, op, ins, outs):
    b.reverse(ins[0], op.attrs["axis"], op.layer, out=outs[0])


def pad(b, op, ins, outs):
    pads = op.attrs["pads"]
    b.node("Pad", [ins[0], b.ints(f"{op.layer}/pads", [p[0] for p in pads] + [p[1] for p in pads])], op.layer,
           out_names=[outs[0]], mode="constant")


def cast(b, op, ins, outs):
    b.node("Cast", ins, op.layer, out_names=[outs[0]], to=FLOAT)


def identity(b, op, ins, outs):
    b.node("Identity", ins, op.layer, out_names=[outs[0]])


EMITTERS = {"dense": dense, "conv": conv, "pool": pool, "reduce": reduce, "reshape": reshape,
            "transpose": transpose, "activation": activation_op, "affine": affine, "layer_norm": layer_norm,
            "merge": merge, "concat": concat, "embedding": embedding, "rnn": rnn.rnn, "reverse": reverse,
            "pad": pad, "cast": cast, "identity": identity}


def emit(b, op):
    emitter = EMITTERS.get(op.kind)
    if emitter is None:
        raise ExportError(f"ONNX export: {op.where} lowers to a {op.kind!r} op, which has no ONNX form yet")
    emitter(b, op, [v.name for v in op.inputs], [v.name for v in op.outputs])
