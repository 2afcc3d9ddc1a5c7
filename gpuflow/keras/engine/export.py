"""model.export(path, format=...): Keras 3's inference artifacts, one exporter per format (each imported on use)."""
from __future__ import annotations

import importlib


def _saved_model(model, filepath, **kwargs):
    return importlib.import_module("gpuflow.saved_model.keras_model").export_saved_model(model, filepath, **kwargs)


def _file(format):  # noqa: A002 - Keras' name
    """An exporter of another tool's file format (gpuflow/_export: ONNX, TFLite)."""
    def export(model, filepath, **kwargs):
        return importlib.import_module("gpuflow._export.formats").export_model(model, filepath, format, **kwargs)
    return export


# format name → exporter(model, filepath, verbose=..., input_signature=..., **kwargs)
EXPORTERS = {"tf_saved_model": _saved_model, "onnx": _file("onnx"), "tflite": _file("tflite")}


def export_model(model, filepath, format="tf_saved_model", **kwargs):  # noqa: A002 - Keras' name
    exporter = EXPORTERS.get(format)
    if exporter is None:
        raise ValueError(f"export: format {format!r} is not supported; gpuflow exports {sorted(EXPORTERS)}")
    return exporter(model, filepath, **kwargs)
