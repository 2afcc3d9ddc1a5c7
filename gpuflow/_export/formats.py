"""`model.export(filepath, format=...)` (Keras 3's Model.export) dispatched to the exporters."""
from __future__ import annotations

import os

from .graph import ExportError

FORMATS = ("onnx", "tflite")  # tf_saved_model: gpuflow/saved_model (keras/engine/export.py dispatches)


def export_model(model, filepath, format, verbose=True, input_signature=None, **kwargs):  # noqa: A002
    if input_signature is not None:
        raise ExportError(f"{model.name}.export: input_signature is not supported; the model's own Keras input "
                          f"shapes (batch dim dynamic) are exported")
    if format == "onnx":
        from .. import onnx
        opset = kwargs.pop("opset_version", 17)
        _no_more(model, kwargs, format)
        onnx.export(model, filepath, opset=opset)
    elif format == "tflite":
        from ..lite import TFLiteConverter
        _no_more(model, kwargs, format)
        with open(os.fspath(filepath), "wb") as f:
            f.write(TFLiteConverter.from_keras_model(model).convert())
    else:
        raise ValueError(f"{model.name}.export: format must be one of {', '.join(map(repr, FORMATS))}, got "
                         f"{format!r}")
    if verbose:
        print(f"Saved artifact at '{os.fspath(filepath)}'.")


def _no_more(model, kwargs, format):  # noqa: A002
    if kwargs:
        raise TypeError(f"{model.name}.export(format={format!r}): unexpected keyword argument(s) "
                        f"{', '.join(sorted(kwargs))}")
