"""`gf.lite`: TensorFlow Lite conversion, as `tf.lite`. Writing needs the tflite and flatbuffers packages,
int8 calibration and `gf.lite.Interpreter` need ai-edge-litert: pip install "gpuflow[interop]".

    converter = gf.lite.TFLiteConverter.from_keras_model(model)
    tflite_bytes = converter.convert()
    interpreter = gf.lite.Interpreter(model_content=tflite_bytes)   # LiteRT's interpreter

Importing gf.lite imports none of those packages; convert() and gf.lite.Interpreter do."""
from __future__ import annotations

import os

from .._export.formats import file_exporter, no_more
from ..keras.engine.export import EXPORTERS
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
    no_more(model, kwargs, "tflite")
    with open(os.fspath(filepath), "wb") as f:
        f.write(TFLiteConverter.from_keras_model(model).convert())


EXPORTERS["tflite"] = file_exporter("tflite", _write)  # model.export(path, format="tflite")
