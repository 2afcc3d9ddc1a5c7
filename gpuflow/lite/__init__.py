"""`gf.lite`: TensorFlow Lite conversion, as `tf.lite`. Writing needs the tflite and flatbuffers packages,
int8 calibration and `gf.lite.Interpreter` need ai-edge-litert: pip install "gpuflow[interop]".

    converter = gf.lite.TFLiteConverter.from_keras_model(model)
    tflite_bytes = converter.convert()
    interpreter = gf.lite.Interpreter(model_content=tflite_bytes)   # LiteRT's interpreter

Importing gf.lite imports none of those packages; convert() and gf.lite.Interpreter do."""
from __future__ import annotations

import os as _os

from .._export import formats as _formats
from ..keras.engine import export as _keras_export
from .converter import (Optimize, OpsSet, RepresentativeDataset, TargetSpec, TFLiteConverter,  # noqa: F401
                        constants)


def __getattr__(name):
    if name == "Interpreter":  # tf.lite.Interpreter: LiteRT's, which is TF Lite's runtime
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ImportError("gf.lite.Interpreter is LiteRT's interpreter: pip install 'gpuflow[interop]' (or "
                              "pip install ai-edge-litert)") from None
        return Interpreter
    raise AttributeError(f"module 'gpuflow.lite' has no attribute {name!r}")


def _write(model, filepath, **kwargs):
    _formats.no_more(model, kwargs, "tflite")
    with open(_os.fspath(filepath), "wb") as f:
        f.write(TFLiteConverter.from_keras_model(model).convert())


_keras_export.EXPORTERS["tflite"] = _formats.file_exporter("tflite", _write)  # model.export(path, format="tflite")
