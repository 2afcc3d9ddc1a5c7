"""`gf.onnx.export(model, path, opset=17)`: a Keras model as an ONNX file that onnxruntime runs."""
from __future__ import annotations

import os

import onnx
from onnx import helper

from .._export import keras_graph
from .._export.graph import ExportError
from .builder import OnnxBuilder, value_info
from .ops import emit

# Opsets this exporter writes. 13 is the first with the Softmax-over-one-axis and Squeeze-axes-input forms it
# uses; the newest is what the installed onnx package knows.
MIN_OPSET = 13


def _check_opset(opset):
    newest = onnx.defs.onnx_opset_version()
    if not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ExportError(f"gf.onnx.export: opset must be an int from {MIN_OPSET} to {newest} (the newest the "
                          f"installed onnx {onnx.__version__} knows), got {opset!r}")


def to_onnx(model, opset=17):
    """The ONNX ModelProto of `model` (checked with onnx.checker), not written anywhere."""
    _check_opset(opset)
    graph = keras_graph(model, "ONNX")
    names = {v.name for v in graph.inputs} | {v.name for op in graph.ops for v in op.inputs + op.outputs}
    b = OnnxBuilder(opset, taken=names)
    for op in graph.ops:
        emit(b, op)
    proto = helper.make_graph(
        b.nodes, graph.name,
        inputs=[value_info(v.name, v.shape, v.dtype) for v in graph.inputs],
        outputs=[value_info(v.name, v.shape, v.dtype) for v in graph.outputs],
        initializer=b.initializers)
    opset_id = helper.make_opsetid("", opset)
    # The IR version pinned to the lowest that carries this opset (8 for opset 17): what onnxruntime releases
    # load, rather than the newest the onnx package would stamp.
    model_proto = helper.make_model(proto, opset_imports=[opset_id], producer_name="gpuflow",
                                    ir_version=helper.find_min_ir_version_for([opset_id]))
    from .._version import __version__
    model_proto.producer_version = __version__
    onnx.checker.check_model(model_proto, full_check=True)
    return model_proto


def export(model, path, opset=17):
    """Writes `model` to `path` as ONNX (the batch dim is dynamic, inputs and outputs are named after the Keras
    inputs and outputs); returns the onnx.ModelProto."""
    model_proto = to_onnx(model, opset=opset)
    onnx.save(model_proto, os.fspath(path))
    return model_proto
