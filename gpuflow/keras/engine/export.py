"""model.export(path, format=...): Keras 3's inference artifacts, one exporter per format. "onnx" and "tflite" are
registered by gf.onnx and gf.lite, which sit above Keras; the SavedModel exporter is imported on use."""
from __future__ import annotations

import importlib


def _saved_model(model, filepath, **kwargs):
    return importlib.import_module("gpuflow.keras.as_saved_model").export_saved_model(model, filepath, **kwargs)


# format name → exporter(model, filepath, verbose=..., input_signature=..., **kwargs)
EXPORTERS = {"tf_saved_model": _saved_model}


def export_model(model, filepath, format="tf_saved_model", **kwargs):  # noqa: A002 - Keras' name
    exporter = EXPORTERS.get(format)
    if exporter is None:
        raise ValueError(f"export: format {format!r} is not supported; gpuflow exports {sorted(EXPORTERS)}")
    return exporter(model, filepath, **kwargs)
