"""The tensors of a TFLite model in one of the converter's modes, so that the op writers (ops.py) need not
know the mode:

  'float'    float32 everywhere.
  'float16'  weights and biases stored as float16, each DEQUANTIZEd to float32 when the model loads.
  'dynamic'  Dense/Conv2D weights stored as int8 (hybrid kernels quantize the activations on the fly);
             everything else float32.
  'int8'     weights, activations and biases quantized (see quantize.py); activation ranges come from the
             calibration of the float model, looked up by tensor name, so the float and int8 models must
             name their tensors alike (they are written by the same code)."""
from __future__ import annotations

import numpy as np
import tflite

from .._export.graph import ExportError
from . import quantize as q


class Tensors:
    def __init__(self, writer, mode, ranges=None):
        self.w, self.mode, self.ranges = writer, mode, ranges or {}
        self.index = {}   # id(Value) → tensor index

    @property
    def int8(self):
        return self.mode == "int8"

    def of(self, value):
        return self.index[id(value)]

    # ---------------------------------------------------------------- activations
    def activation(self, name, shape, params=None, like=None):
        """A non-constant tensor: float32, or int8 with `params` (scale, zero point), the params of tensor
        `like`, or those of the calibrated range of `name`."""
        if not self.int8:
            return self.w.tensor(name, shape, np.float32)
        if like is not None:
            params = self.w.quantization(like)
        elif params is None:
            if name not in self.ranges:
                raise AssertionError(f"no calibrated range for tensor {name!r}")
            params = q.activation_params(*self.ranges[name])
        return self.w.tensor(name, shape, np.int8, scale=params[0], zero_point=params[1])

    def output(self, value, params=None, like=None):
        """The tensor of an op's output Value (see activation)."""
        index = self.activation(value.name, value.shape, params, like)
        self.index[id(value)] = index
        return index

    # ---------------------------------------------------------------- constants
    def _dequantized(self, name, array):
        """float16 storage DEQUANTIZEd to a float32 tensor, as TF's float16 quantization writes it."""
        half = self.w.tensor(f"{name}/float16", array.shape, np.float16, data=array.astype(np.float16))
        full = self.w.tensor(name, array.shape, np.float32)
        self.w.operator(tflite.BuiltinOperator.DEQUANTIZE, [half], [full])
        return full

    def weights(self, name, array, channel_axis, hybrid=True):
        """The weights of a Dense or convolution (TFLite layout, output channels along `channel_axis`)."""
        array = np.asarray(array, np.float32)
        if self.mode == "float16":
            return self._dequantized(name, array)
        if self.int8 or (self.mode == "dynamic" and hybrid):
            # Hybrid Dense kernels read one weight scale; full-int8 and every convolution, one per channel.
            axis = None if self.mode == "dynamic" and channel_axis == 0 and array.ndim == 2 else channel_axis
            data, scale = q.symmetric(array, axis)
            return self.w.tensor(name, array.shape, np.int8, data=data, scale=scale,
                                 zero_point=np.zeros(scale.shape, np.int64), axis=axis or 0)
        return self.w.tensor(name, array.shape, np.float32, data=array)

    def bias(self, name, array, input_index, weights_index):
        array = np.asarray(array, np.float32)
        if self.mode == "float16":
            return self._dequantized(name, array)
        if self.int8:
            input_scale = self.w.quantization(input_index)[0][0]
            weight_scales = self.w.quantization(weights_index)[0]
            data, scale = q.bias(array, input_scale, weight_scales)
            return self.w.tensor(name, array.shape, np.int32, data=data, scale=scale,
                                 zero_point=np.zeros(scale.shape, np.int64))
        return self.w.tensor(name, array.shape, np.float32, data=array)

    def operand(self, name, array):
        """A constant an elementwise op reads: float32 (float16-stored in 'float16'), int8 per tensor in 'int8'."""
        array = np.asarray(array, np.float32)
        if self.mode == "float16":
            return self._dequantized(name, array)
        if self.int8:
            scale, zero_point = q.activation_params(array.min(), array.max())
            return self.w.tensor(name, array.shape, np.int8, data=q.quantize_values(array, scale, zero_point),
                                 scale=scale, zero_point=zero_point)
        return self.w.tensor(name, array.shape, np.float32, data=array)

    def ints(self, name, values):
        values = np.asarray(values, np.int32)
        return self.w.tensor(name, values.shape, np.int32, data=values)

    def refuse(self, op, what):
        raise ExportError(f"TFLiteConverter: {op.where}: {what}")
