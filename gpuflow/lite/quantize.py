"""TFLite's int8 quantization scheme (https://www.tensorflow.org/lite/performance/quantization_spec) and the
calibration that finds each activation's range.

- weights: symmetric int8 in [-127, 127], zero point 0, one scale per output channel (per tensor for the
  weights of hybrid Dense layers).
- activations: asymmetric int8 in [-128, 127]; the range is the min/max seen over the representative
  dataset, widened to hold 0 (so that zero padding and ReLU are exact).
- bias: int32, zero point 0, scale = input_scale * weight_scale (per channel).
- constants that an elementwise op reads (a standalone BatchNormalization's scale and shift): asymmetric
  int8 per tensor, as an activation is."""
from __future__ import annotations

import warnings

import numpy as np

from .._export.graph import ExportError

_TINY = 1e-9  # the scale of an all-zero tensor: any positive scale represents it exactly


def activation_params(lo, hi):
    """(scale, zero_point) of an int8 activation whose float values lie in [lo, hi]."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi == lo:
        return 1.0, 0
    scale = (hi - lo) / 255.0
    zero_point = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return scale, zero_point


def quantize_values(x, scale, zero_point):
    return np.clip(np.round(np.asarray(x, np.float64) / scale) + zero_point, -128, 127).astype(np.int8)


def symmetric(w, axis=None):
    """(int8 weights, scales): one scale per slice along `axis`, or one for the whole tensor (axis None)."""
    w = np.asarray(w, np.float32)
    if axis is None:
        scale = np.array([max(float(np.abs(w).max(initial=0.0)) / 127.0, _TINY)], np.float32)
        return np.clip(np.round(w / scale[0]), -127, 127).astype(np.int8), scale
    moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    scale = np.maximum(np.abs(moved).max(axis=1) / 127.0, _TINY).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    return np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8), scale


def bias(b, input_scale, weight_scales):
    scale = (np.float64(input_scale) * weight_scales.astype(np.float64))
    return np.round(np.asarray(b, np.float64) / scale).astype(np.int32), scale.astype(np.float32)


def _samples(dataset, input_names):
    """The representative dataset as lists of float32 arrays, one per model input, in the model's order:
    TF's forms are accepted (a generator function, or an iterable, yielding a list of inputs or a dict keyed
    by input names)."""
    items = dataset() if callable(dataset) else dataset
    for item in items:
        if isinstance(item, dict):
            missing = [n for n in input_names if n not in item]
            if missing:
                raise ExportError(f"TFLiteConverter: a representative_dataset sample lacks the input(s) "
                                  f"{', '.join(missing)}; it has {', '.join(item)}")
            item = [item[n] for n in input_names]
        elif not isinstance(item, (list, tuple)):
            item = [item]
        if len(item) != len(input_names):
            raise ExportError(f"TFLiteConverter: each representative_dataset sample must hold {len(input_names)} "
                              f"input(s) ({', '.join(input_names)}), got {len(item)}")
        yield [np.asarray(x.numpy() if hasattr(x, "numpy") else x, np.float32) for x in item]


def calibrate(float_model, dataset, input_names):
    """{tensor name: (min, max)} over every float tensor of `float_model` (TFLite bytes), found by running it
    in LiteRT's interpreter on each representative sample and reading every intermediate tensor."""
    from ai_edge_litert.interpreter import Interpreter
    with warnings.catch_warnings():  # LiteRT warns that keeping every tensor is for debugging: it is the point here
        warnings.simplefilter("ignore", UserWarning)
        interpreter = Interpreter(model_content=float_model, experimental_preserve_all_tensors=True)
    inputs = [d["index"] for d in interpreter.get_input_details()]
    ranges, shapes, count = {}, None, 0
    for sample in _samples(dataset, input_names):
        if [x.shape for x in sample] != shapes:
            for index, x in zip(inputs, sample):
                interpreter.resize_tensor_input(index, x.shape)
            interpreter.allocate_tensors()
            shapes = [x.shape for x in sample]
            details = [d for d in interpreter.get_tensor_details() if d["dtype"] == np.float32]
        for detail, x in zip(interpreter.get_input_details(), sample):
            interpreter.set_tensor(detail["index"], x.astype(detail["dtype"], copy=False))  # uint8 images too
        interpreter.invoke()
        for d in details:
            try:
                value = interpreter.get_tensor(d["index"])
            except ValueError:  # a tensor with no data (never written)
                continue
            if value.size:
                lo, hi = float(value.min()), float(value.max())
                old = ranges.get(d["name"], (lo, hi))
                ranges[d["name"]] = (min(lo, old[0]), max(hi, old[1]))
        count += 1
    if not count:
        raise ExportError("TFLiteConverter: representative_dataset yielded no samples; it must yield at least one "
                          "(typically 100 or more) list of model inputs")
    return ranges
