"""What `model.export(filepath, format="onnx" | "tflite")` (Keras 3's Model.export) shares between the two
formats. Keras' exporters table (keras/engine/export.py) lies below gf.onnx and gf.lite, so each registers its
format there when imported, as an exporter made here."""
from __future__ import annotations

import os

from .graph import ExportError


def file_exporter(format, write):  # noqa: A002 - Keras' name
    """An exporter for Keras' table: checks the arguments Keras' Model.export takes, then `write(model, filepath,
    **kwargs)` writes the file, which takes the format's own keyword arguments (no_more refuses the rest)."""
    def export(model, filepath, verbose=True, input_signature=None, **kwargs):
        if input_signature is not None:
            raise ExportError(f"{model.name}.export: input_signature is not supported; the model's own Keras input "
                              f"shapes (batch dim dynamic) are exported")
        write(model, filepath, **kwargs)
        if verbose:
            print(f"Saved artifact at '{os.fspath(filepath)}'.")
    return export


def no_more(model, kwargs, format):  # noqa: A002
    if kwargs:
        raise TypeError(f"{model.name}.export(format={format!r}): unexpected keyword argument(s) "
                        f"{', '.join(sorted(kwargs))}")
