"""Collects ONNX nodes and initializers (with the `onnx` package's helpers) under unique names, and writes the
ops whose form changed between opsets (Squeeze/Unsqueeze, ReduceMean/ReduceMax take axes as an input from
opsets 13 and 18) one way for the rest of the exporter."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .._names import UniqueNames

INT64_MIN = np.iinfo(np.int64).min


class OnnxBuilder:
    def __init__(self, opset, taken=()):
        self.opset = opset
        self.nodes, self.initializers = [], []
        self.name = UniqueNames(taken)  # name(base): base, or base_1, base_2, ... when taken

    def const(self, base, array, dtype=None):
        array = np.asarray(array, dtype=dtype)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        name = self.name(base)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def ints(self, base, values):
        return self.const(base, np.asarray(values, np.int64))

    def node(self, op_type, inputs, base, outputs=1, out_names=None, **attrs):
        """Adds one node; returns its output name (or the list of them when outputs > 1). `out_names` gives
        the names of outputs that must be exactly those (graph outputs and Values other ops read)."""
        names = list(out_names) if out_names else [self.name(f"{base}/{op_type}" if outputs == 1 else
                                                             f"{base}/{op_type}_{i}") for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=self.name(f"{base}/{op_type}_node"),
                                           **attrs))
        return names[0] if len(names) == 1 else names

    # ---------------------------------------------------------------- opset-dependent forms
    def squeeze(self, x, axes, base, out=None):
        return self.node("Squeeze", [x, self.ints(f"{base}/axes", axes)], base, out_names=out and [out])

    def unsqueeze(self, x, axes, base, out=None):
        return self.node("Unsqueeze", [x, self.ints(f"{base}/axes", axes)], base, out_names=out and [out])

    def reduce(self, op_type, x, axes, keepdims, base, out=None):
        if self.opset >= 18:
            return self.node(op_type, [x, self.ints(f"{base}/axes", axes)], base, out_names=out and [out],
                             keepdims=int(keepdims))
        return self.node(op_type, [x], base, out_names=out and [out], axes=list(axes), keepdims=int(keepdims))

    def reverse(self, x, axis, base, out=None):
        """x reversed along `axis` (a Slice with step -1, from the last element to before the first)."""
        return self.node("Slice", [x, self.ints(f"{base}/starts", [-1]), self.ints(f"{base}/ends", [INT64_MIN]),
                                   self.ints(f"{base}/axes", [axis]), self.ints(f"{base}/steps", [-1])],
                         base, out_names=out and [out])


def value_info(name, shape, dtype, batch="batch"):
    """A graph input/output: the batch dim is the symbol `batch`, other unknown dims `<name>_dim<i>`."""
    dims = [(batch if i == 0 else f"{name}_dim{i}") if d is None else int(d) for i, d in enumerate(shape)]
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), dims)


FLOAT = onnx.TensorProto.FLOAT
INT64 = onnx.TensorProto.INT64
