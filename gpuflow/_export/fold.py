"""Folds both exporters want, done once on the graph:

- a BatchNormalization over the channels right after a Dense or convolution with no activation (its only
  consumer) becomes part of that op's kernel and bias: W' = W * s, b' = (b - mean) * s + offset, with
  s = gamma / sqrt(var + eps) per output channel. One op fewer, and for int8 one rounding fewer.
- a ReLU or ReLU6 right after a Dense or convolution with no activation becomes that op's fused activation,
  as TFLite's kernels and ONNX runtimes run them."""
from __future__ import annotations

import numpy as np

FUSED_ACTIVATIONS = ("relu", "relu6")


def _sole_producer(graph, op):
    """The dense/conv op whose output feeds only `op` (and is not a model output), or None."""
    x = op.inputs[0]
    if any(x is v for v in graph.outputs) or len(graph.consumers(x)) != 1:
        return None
    for producer in graph.ops:
        if producer.kind in ("dense", "conv") and producer.outputs[0] is x and producer.attrs["activation"] is None:
            return producer
    return None


def _fold_affine(producer, op):
    w = op.weights
    units = producer.weights["kernel"].shape[-1]
    scale = w.get("scale", np.ones(1, np.float32)).reshape(-1)
    mean = w.get("mean", np.zeros(1, np.float32)).reshape(-1)
    offset = w.get("offset", np.zeros(1, np.float32)).reshape(-1)
    scale, mean, offset = (np.broadcast_to(a, (units,)) for a in (scale, mean, offset))
    bias = producer.weights.get("bias")
    bias = np.zeros(units, np.float32) if bias is None else bias
    producer.weights["kernel"] = (producer.weights["kernel"] * scale).astype(np.float32)
    producer.weights["bias"] = ((bias - mean) * scale + offset).astype(np.float32)


def fold(graph):
    for op in list(graph.ops):
        foldable = (op.kind == "affine" and op.attrs.get("channel_last")) or \
            (op.kind == "activation" and op.attrs["name"] in FUSED_ACTIVATIONS)
        if not foldable:
            continue
        producer = _sole_producer(graph, op)
        if producer is None:
            continue
        if op.kind == "affine":
            _fold_affine(producer, op)
        else:
            producer.attrs["activation"] = op.attrs["name"]
        producer.outputs = op.outputs
        graph.ops.remove(op)
