"""The export graph as TFLite bytes in one mode (see tensors.py): tensors for the graph inputs (with a
QUANTIZE after a float input of an int8 model), each op through ops.py, and a DEQUANTIZE before a float
output of an int8 model."""
from __future__ import annotations

import numpy as np
import tflite

from .._export.graph import ExportError
from . import quantize as q
from .ops import WRITERS
from .tensors import Tensors
from .writer import TYPES, ModelWriter

_COVERED = ", ".join(sorted(WRITERS))


def _input(t, value, int8_input):
    dtype = np.dtype(value.dtype)
    if dtype not in TYPES or dtype.kind not in "fiu" or dtype == np.float16:
        raise ExportError(f"TFLiteConverter: input {value.name!r} has dtype {value.dtype}; TFLite inputs here are "
                          f"float32 or integers (uint8 images, int32 ids for an Embedding)")
    if not t.int8 or dtype.kind != "f":  # integer inputs keep their dtype in every mode (the graph casts them)
        t.index[id(value)] = t.w.tensor(value.name, value.shape, dtype)
        return t.index[id(value)]
    params = q.activation_params(*t.ranges[value.name])
    if int8_input:
        return t.output(value, params=params)
    outer = t.w.tensor(value.name, value.shape, np.float32)
    inner = t.activation(f"{value.name}/quantized", value.shape, params=params)
    t.w.operator(tflite.BuiltinOperator.QUANTIZE, [outer], [inner])
    t.index[id(value)] = inner
    return outer


def _output(t, value, int8_output):
    index = t.of(value)
    if not t.int8 or int8_output:
        return index
    # The int8 tensor gives its name to the float one the caller reads.
    t.w.rename(index, f"{value.name}/quantized")
    outer = t.w.tensor(value.name, value.shape, np.float32)
    t.w.operator(tflite.BuiltinOperator.DEQUANTIZE, [index], [outer])
    return outer


def build_model(graph, mode, ranges=None, int8_input=False, int8_output=False):
    writer = ModelWriter(description=f"gpuflow: {graph.name} ({mode})")
    t = Tensors(writer, mode, ranges)
    inputs = [_input(t, v, int8_input) for v in graph.inputs]
    for op in graph.ops:
        write = WRITERS.get(op.kind)
        if write is None:
            raise ExportError(f"TFLiteConverter: {op.where} is not covered by the TFLite converter (it lowers to "
                              f"a {op.kind!r} op; the converter writes {_COVERED}); gf.onnx.export covers it")
        write(t, op)
    outputs = [_output(t, v, int8_output) for v in graph.outputs]
    return writer.finish(inputs, outputs)
