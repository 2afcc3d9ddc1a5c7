"""What the ONNX exporter (gf.onnx) and the TFLite converter (gf.lite) share: a Keras model walked into a
small graph of layer-level ops with NumPy weights (graph.py, lower.py), and the folds both want
(BatchNormalization into the convolution or Dense before it, a ReLU into the op before it: fold.py).

Neither the onnx nor the tflite package is imported here, so `import gpuflow` stays lean."""
from __future__ import annotations

from .graph import ExportError, Graph, Op, Value  # noqa: F401
from .walk import keras_graph  # noqa: F401
