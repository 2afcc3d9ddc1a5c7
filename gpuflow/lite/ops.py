"""Each op kind of the export graph (gpuflow/_export/lower.py) as TFLite builtin operators.

TFLite is channels-last like Keras, so layouts change only for weights: Dense (in, out) → (out, in);
Conv2D (kh, kw, in, out) → (out, kh, kw, in); a depthwise Conv2D (groups == input channels) becomes
DEPTHWISE_CONV_2D with its filter as (1, kh, kw, out). In 'int8' mode, ops whose int8 kernels need their
output quantized like their input (pooling, reshape, transpose, pad) get the input's parameters, and
softmax / logistic / tanh get the fixed output parameters TFLite's kernels require."""
from __future__ import annotations

import numpy as np
import tflite

OP = tflite.BuiltinOperator
OPTIONS = tflite.BuiltinOptions
FUSED = {None: tflite.ActivationFunctionType.NONE, "relu": tflite.ActivationFunctionType.RELU,
         "relu6": tflite.ActivationFunctionType.RELU6}
PADDING = {"same": tflite.Padding.SAME, "valid": tflite.Padding.VALID}
# The int8 output parameters TFLite's kernels require (scale, zero point).
FIXED_INT8 = {"softmax": (1.0 / 256, -128), "sigmoid": (1.0 / 256, -128), "tanh": (1.0 / 128, 0)}
FLOAT_ONLY = ("log_softmax", "elu", "exponential", "gelu", "silu")


def _options(start, end, **fields):
    """An options-table writer: fields are (tflite Add function, value) pairs written between start and end."""
    def write(b):
        start(b)
        for add, value in fields.values():
            add(b, value)
        return end(b)
    return write


def _x(t, op, i=0):
    return t.of(op.inputs[i])


def dense(t, op):
    x = _x(t, op)
    kernel = op.weights["kernel"].T  # (out, in)
    w = t.weights(f"{op.layer}/kernel", kernel, channel_axis=0)
    inputs = [x, w]
    if "bias" in op.weights:
        inputs.append(t.bias(f"{op.layer}/bias", op.weights["bias"], x, w))
    else:
        inputs.append(-1)  # optional input absent
    y = t.output(op.outputs[0])
    t.w.operator(OP.FULLY_CONNECTED, inputs, [y], OPTIONS.FullyConnectedOptions, _options(
        tflite.FullyConnectedOptionsStart, tflite.FullyConnectedOptionsEnd,
        act=(tflite.FullyConnectedOptionsAddFusedActivationFunction, FUSED[op.attrs["activation"]]),
        keep=(tflite.FullyConnectedOptionsAddKeepNumDims, op.inputs[0].rank > 2)))


def conv(t, op):
    a = op.attrs
    if a["rank"] != 2:
        t.refuse(op, "TFLite export covers 2-D convolutions (Conv2D) only")
    kernel = op.weights["kernel"]  # (kh, kw, in / groups, out)
    in_channels, out_channels = op.inputs[0].shape[-1], kernel.shape[-1]
    depthwise = a["groups"] > 1 and a["groups"] == in_channels
    if a["groups"] > 1 and not depthwise:
        t.refuse(op, f"grouped convolutions (groups={a['groups']}) are exported only when groups equals the input "
                     f"channels ({in_channels}), as a depthwise convolution")
    x = _x(t, op)
    if depthwise:
        w = t.weights(f"{op.layer}/kernel", np.transpose(kernel, (2, 0, 1, 3)), channel_axis=3)
    else:
        w = t.weights(f"{op.layer}/kernel", np.transpose(kernel, (3, 0, 1, 2)), channel_axis=0)
    bias = op.weights.get("bias", np.zeros(out_channels, np.float32))  # TFLite's conv kernels want a bias
    inputs = [x, w, t.bias(f"{op.layer}/bias", bias, x, w)]
    y = t.output(op.outputs[0])
    (sh, sw), (dh, dw) = a["strides"], a["dilations"]
    if depthwise:
        options = _options(
            tflite.DepthwiseConv2DOptionsStart, tflite.DepthwiseConv2DOptionsEnd,
            padding=(tflite.DepthwiseConv2DOptionsAddPadding, PADDING[a["padding"]]),
            sw=(tflite.DepthwiseConv2DOptionsAddStrideW, sw), sh=(tflite.DepthwiseConv2DOptionsAddStrideH, sh),
            mult=(tflite.DepthwiseConv2DOptionsAddDepthMultiplier, out_channels // in_channels),
            act=(tflite.DepthwiseConv2DOptionsAddFusedActivationFunction, FUSED[a["activation"]]),
            dw=(tflite.DepthwiseConv2DOptionsAddDilationWFactor, dw),
            dh=(tflite.DepthwiseConv2DOptionsAddDilationHFactor, dh))
        t.w.operator(OP.DEPTHWISE_CONV_2D, inputs, [y], OPTIONS.DepthwiseConv2DOptions, options)
        return
    options = _options(
        tflite.Conv2DOptionsStart, tflite.Conv2DOptionsEnd,
        padding=(tflite.Conv2DOptionsAddPadding, PADDING[a["padding"]]),
        sw=(tflite.Conv2DOptionsAddStrideW, sw), sh=(tflite.Conv2DOptionsAddStrideH, sh),
        act=(tflite.Conv2DOptionsAddFusedActivationFunction, FUSED[a["activation"]]),
        dw=(tflite.Conv2DOptionsAddDilationWFactor, dw), dh=(tflite.Conv2DOptionsAddDilationHFactor, dh))
    t.w.operator(OP.CONV_2D, inputs, [y], OPTIONS.Conv2DOptions, options)


def pool(t, op):
    a = op.attrs
    if a["rank"] != 2:
        t.refuse(op, "TFLite export covers 2-D pooling (MaxPooling2D, AveragePooling2D) only")
    x = _x(t, op)
    y = t.output(op.outputs[0], like=x)
    (ph, pw), (sh, sw) = a["pool_size"], a["strides"]
    t.w.operator(OP.MAX_POOL_2D if a["mode"] == "max" else OP.AVERAGE_POOL_2D, [x], [y], OPTIONS.Pool2DOptions,
                 _options(tflite.Pool2DOptionsStart, tflite.Pool2DOptionsEnd,
                          padding=(tflite.Pool2DOptionsAddPadding, PADDING[a["padding"]]),
                          sw=(tflite.Pool2DOptionsAddStrideW, sw), sh=(tflite.Pool2DOptionsAddStrideH, sh),
                          fw=(tflite.Pool2DOptionsAddFilterWidth, pw), fh=(tflite.Pool2DOptionsAddFilterHeight, ph)))


def reduce(t, op):
    x = _x(t, op)
    axes = t.ints(f"{op.layer}/axes", op.attrs["axes"])
    mean = op.attrs["mode"] == "mean"
    y = t.output(op.outputs[0], like=None if mean else x)
    t.w.operator(OP.MEAN if mean else OP.REDUCE_MAX, [x, axes], [y], OPTIONS.ReducerOptions,
                 _options(tflite.ReducerOptionsStart, tflite.ReducerOptionsEnd,
                          keep=(tflite.ReducerOptionsAddKeepDims, op.attrs["keepdims"])))


def reshape(t, op):
    if -1 in op.attrs["shape"]:
        t.refuse(op, f"the output shape {op.outputs[0].shape} has unknown dims besides the batch; TFLite's "
                     f"RESHAPE gets one -1")
    x = _x(t, op)
    shape = t.ints(f"{op.outputs[0].name}/shape", (-1,) + tuple(op.attrs["shape"]))
    t.w.operator(OP.RESHAPE, [x, shape], [t.output(op.outputs[0], like=x)])


def transpose(t, op):
    x = _x(t, op)
    perm = t.ints(f"{op.outputs[0].name}/perm", op.attrs["perm"])
    t.w.operator(OP.TRANSPOSE, [x, perm], [t.output(op.outputs[0], like=x)])


def activation(t, op):
    name, params = op.attrs["name"], op.attrs["params"]
    x = _x(t, op)
    if t.int8 and name in FLOAT_ONLY:
        t.refuse(op, f"the activation {name!r} has no int8 form here; int8 models take relu, relu6, sigmoid, "
                     f"tanh, softmax and leaky_relu")
    if name == "softmax":
        if params.get("axis", -1) % op.inputs[0].rank != op.inputs[0].rank - 1:
            t.refuse(op, "TFLite's SOFTMAX normalises the last axis only")
        y = t.output(op.outputs[0], params=FIXED_INT8["softmax"])
        t.w.operator(OP.SOFTMAX, [x], [y], OPTIONS.SoftmaxOptions, _options(
            tflite.SoftmaxOptionsStart, tflite.SoftmaxOptionsEnd, beta=(tflite.SoftmaxOptionsAddBeta, 1.0)))
    elif name == "leaky_relu":
        y = t.output(op.outputs[0])
        t.w.operator(OP.LEAKY_RELU, [x], [y], OPTIONS.LeakyReluOptions, _options(
            tflite.LeakyReluOptionsStart, tflite.LeakyReluOptionsEnd,
            alpha=(tflite.LeakyReluOptionsAddAlpha, float(params["alpha"]))))
    elif name == "silu":  # x * sigmoid(x)
        s = t.activation(f"{op.outputs[0].name}/sigmoid", op.outputs[0].shape)
        t.w.operator(OP.LOGISTIC, [x], [s])
        t.w.operator(OP.MUL, [x, s], [t.output(op.outputs[0])])
    elif name == "gelu":
        t.w.operator(OP.GELU, [x], [t.output(op.outputs[0])], OPTIONS.GeluOptions, _options(
            tflite.GeluOptionsStart, tflite.GeluOptionsEnd, approximate=(tflite.GeluOptionsAddApproximate, False)))
    else:
        codes = {"relu": OP.RELU, "relu6": OP.RELU6, "sigmoid": OP.LOGISTIC, "tanh": OP.TANH,
                 "log_softmax": OP.LOG_SOFTMAX, "elu": OP.ELU, "exponential": OP.EXP}
        if name not in codes:
            t.refuse(op, f"the activation {name!r} has no TFLite form here; covered: relu, relu6, sigmoid, tanh, "
                         f"softmax, log_softmax, leaky_relu, elu, exponential, gelu, silu")
        y = t.output(op.outputs[0], params=FIXED_INT8.get(name))
        t.w.operator(codes[name], [x], [y])


def affine(t, op):
    """(x - mean) * scale + offset as SUB, MUL, ADD with constant operands (those the op has)."""
    steps = [(k, c, o) for k, c, o in (("mean", OP.SUB, OPTIONS.SubOptions), ("scale", OP.MUL, OPTIONS.MulOptions),
                                        ("offset", OP.ADD, OPTIONS.AddOptions)) if k in op.weights]
    if not steps:
        t.refuse(op, "an affine op with no parameters")
    x = _x(t, op)
    out = op.outputs[0]
    for i, (key, code, _) in enumerate(steps):
        operand = t.operand(f"{op.layer}/{key}", op.weights[key].reshape(op.weights[key].shape[1:]))
        y = t.output(out) if i == len(steps) - 1 else t.activation(f"{out.name}/{key}_applied", out.shape)
        t.w.operator(code, [x, operand], [y])
        x = y


def _requantized(t, op, xs, y):
    """`xs` with each int8 input quantized otherwise than the output `y` requantized (QUANTIZE int8 → int8) to
    y's parameters: the int8 kernels of CONCATENATION, MAXIMUM and MINIMUM copy or compare the raw bytes.
    Clipping an input to the output's range changes nothing those ops return (clipping is monotonic)."""
    if not t.int8:
        return xs
    xs = list(xs)
    for i, x in enumerate(xs):
        if t.w.quantization(x) != t.w.quantization(y):
            same = t.activation(f"{op.outputs[0].name}/requantized_{i}", op.inputs[i].shape, like=y)
            t.w.operator(OP.QUANTIZE, [x], [same])
            xs[i] = same
    return xs


def merge(t, op):
    mode, out = op.attrs["mode"], op.outputs[0]
    codes = {"add": OP.ADD, "sub": OP.SUB, "mul": OP.MUL, "max": OP.MAXIMUM, "min": OP.MINIMUM, "avg": OP.ADD}
    xs = [t.of(v) for v in op.inputs]
    if mode in ("max", "min"):  # one op over requantized inputs: every chain step shares the output's parameters
        y = t.output(out)
        xs = _requantized(t, op, xs, y)
        previous = xs[0]
        for i, x in enumerate(xs[1:]):
            step = y if i == len(xs) - 2 else t.activation(f"{out.name}/{mode}_{i}", out.shape, like=y)
            t.w.operator(codes[mode], [previous, x], [step])
            previous = step
        return
    last, y_prev = len(xs) - 2, xs[0]
    for i, x in enumerate(xs[1:]):  # n-ary merges as a chain of binary ops
        final = i == last and mode != "avg"
        y = t.output(out) if final else t.activation(f"{out.name}/{mode}_{i}", out.shape)
        t.w.operator(codes[mode], [y_prev, x], [y])
        y_prev = y
    if mode == "avg":
        inverse = t.operand(f"{out.name}/inverse_count", np.float32(1.0 / len(xs)).reshape(1))
        t.w.operator(OP.MUL, [y_prev, inverse], [t.output(out)])


def concat(t, op):
    y = t.output(op.outputs[0])
    xs = _requantized(t, op, [t.of(v) for v in op.inputs], y)
    t.w.operator(OP.CONCATENATION, xs, [y], OPTIONS.ConcatenationOptions, _options(
        tflite.ConcatenationOptionsStart, tflite.ConcatenationOptionsEnd,
        axis=(tflite.ConcatenationOptionsAddAxis, op.attrs["axis"])))


def embedding(t, op):
    if t.int8:
        t.refuse(op, "Embedding is exported to float (or float16) TFLite models only")
    ids = _x(t, op)
    if op.inputs[0].dtype != "int32":  # float ids are truncated, as Embedding casts them
        cast = t.w.tensor(f"{op.outputs[0].name}/ids", op.inputs[0].shape, np.int32)
        t.w.operator(OP.CAST, [ids], [cast])
        ids = cast
    table = t.operand(f"{op.layer}/embeddings", op.weights["table"])
    t.w.operator(OP.GATHER, [table, ids], [t.output(op.outputs[0])], OPTIONS.GatherOptions, _options(
        tflite.GatherOptionsStart, tflite.GatherOptionsEnd, axis=(tflite.GatherOptionsAddAxis, 0)))


def pad(t, op):
    x = _x(t, op)
    pads = t.ints(f"{op.outputs[0].name}/paddings", [list(p) for p in op.attrs["pads"]])
    t.w.operator(OP.PAD, [x, pads], [t.output(op.outputs[0], like=x)])


def cast(t, op):
    """An integer input (uint8 images into Rescaling) to float32; in 'int8' mode the float values are
    QUANTIZEd with the calibrated range of the cast's output, as a float model input is."""
    x = _x(t, op)
    y = t.output(op.outputs[0])
    if not t.int8:
        t.w.operator(OP.CAST, [x], [y])
        return
    wide = t.w.tensor(f"{op.outputs[0].name}/float", op.outputs[0].shape, np.float32)
    t.w.operator(OP.CAST, [x], [wide])
    t.w.operator(OP.QUANTIZE, [wide], [y])


def identity(t, op):
    x = _x(t, op)
    shape = t.ints(f"{op.outputs[0].name}/shape", (-1,) + tuple(op.outputs[0].shape[1:]))
    t.w.operator(OP.RESHAPE, [x, shape], [t.output(op.outputs[0], like=x)])


WRITERS = {"dense": dense, "conv": conv, "pool": pool, "reduce": reduce, "reshape": reshape,
           "transpose": transpose, "activation": activation, "affine": affine, "merge": merge, "concat": concat,
           "embedding": embedding, "pad": pad, "cast": cast, "identity": identity}
