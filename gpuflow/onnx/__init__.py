"""`gf.onnx`: export Keras models to ONNX. Needs the `onnx` package: pip install "gpuflow[interop]".

    gf.onnx.export(model, "model.onnx", opset=17)
    # or: model.export("model.onnx", format="onnx")

Importing gf.onnx does not import onnx; the first export does."""
from __future__ import annotations

from .._export import formats as _formats
from ..keras.engine import export as _keras_export


def _needs_onnx():
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ImportError('gf.onnx needs the onnx package: pip install "gpuflow[interop]" (or pip install onnx)') \
            from None


def export(model, path, opset=17):
    """Writes `model` (Sequential or functional) to `path` as ONNX; returns the onnx.ModelProto."""
    _needs_onnx()
    from .exporter import export as _export
    return _export(model, path, opset=opset)


def to_onnx(model, opset=17):
    """The onnx.ModelProto of `model`, checked with onnx.checker, without writing a file."""
    _needs_onnx()
    from .exporter import to_onnx as _to_onnx
    return _to_onnx(model, opset=opset)


def _write(model, filepath, opset_version=17, **kwargs):
    _formats.no_more(model, kwargs, "onnx")
    export(model, filepath, opset=opset_version)


_keras_export.EXPORTERS["onnx"] = _formats.file_exporter("onnx", _write)  # model.export(path, format="onnx")
