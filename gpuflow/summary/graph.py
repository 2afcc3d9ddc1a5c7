"""`graph_def_from_ir`: a gf.function IR graph as a TensorBoard GraphDef (the Graphs dashboard's op graph).

The IR this reads: `ir_graph.nodes` (each with `.prim.name`, `.inputs`, `.outputs`, `.params`),
`ir_graph.inputs` and `ir_graph.outputs`; a value has `.id` (or the tracer Symbol's `.index`), `.shape`
(None: unknown rank; None dims: unknown) and `.dtype` (a gpuflow DType). Graph inputs become Placeholder
nodes and graph outputs Identity nodes, as in a TF function graph; a value no node produces and that is
not an input (a captured constant or variable) becomes one `Captured` node. Every node carries
`_output_shapes`, which the Graphs dashboard prints on the edges, its output dtype as `T`, and the
primitive's params as attrs.
"""
from __future__ import annotations

import numpy as np

from .._names import UniqueNames
from ._tensorboard import require


def _protos():
    names = ("graph_pb2", "attr_value_pb2", "tensor_shape_pb2")
    return [require(f"compat.proto.{n}", "gf.summary.graph_def_from_ir") for n in names]


def _dtype_enum(dtype) -> int:
    dtypes = require("compat.tensorflow_stub.dtypes", "gf.summary.graph_def_from_ir")
    try:
        return dtypes.as_dtype(getattr(dtype, "name", dtype)).as_datatype_enum
    except TypeError:
        return 0  # DT_INVALID: a dtype TensorFlow has no code for; the graph still draws


def _shape_proto(shape, tensor_shape_pb2):
    if shape is None:
        return tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
    return tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=-1 if d is None else int(d)) for d in shape])


def _key(value) -> int:
    """A value's number in its graph: `.id` (the interface), or `.index` (the tracer's Symbol)."""
    key = getattr(value, "id", None)
    return value.index if key is None else key


def _attr(value, attr_value_pb2):
    """A param as an AttrValue: numbers, strings, dtypes and flat sequences of numbers keep their type;
    anything else is shown as its repr."""
    if isinstance(value, (bool, np.bool_)):
        return attr_value_pb2.AttrValue(b=bool(value))
    if isinstance(value, (int, np.integer)):
        return attr_value_pb2.AttrValue(i=int(value))
    if isinstance(value, (float, np.floating)):
        return attr_value_pb2.AttrValue(f=float(value))
    if isinstance(value, str):
        return attr_value_pb2.AttrValue(s=value.encode())
    if hasattr(value, "name") and hasattr(value, "itemsize"):  # a gpuflow DType
        return attr_value_pb2.AttrValue(type=_dtype_enum(value))
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        return attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(i=[int(v) for v in value]))
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (float, np.floating)) for v in value):
        return attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(f=[float(v) for v in value]))
    if hasattr(value, "nodes"):  # a sub-graph (a cond branch, a loop body): named, not inlined
        return attr_value_pb2.AttrValue(s=f"<graph {getattr(value, 'name', '')}: {len(value.nodes)} nodes>".encode())
    return attr_value_pb2.AttrValue(s=repr(value).encode())


def graph_def_from_ir(ir_graph):
    """The GraphDef (tensorboard.compat.proto.graph_pb2) of a gf.function IR graph; write it with
    `gf.summary.graph`. Node names are the primitive names made unique TF-style (`matmul`, `matmul_1`)."""
    graph_pb2, attr_value_pb2, tensor_shape_pb2 = _protos()
    graph = graph_pb2.GraphDef()
    producer = {}  # value id -> "node" or "node:k", the name an input refers to it by
    unique = UniqueNames()

    def add_node(name, op, inputs, outputs, params=None):
        node = graph.node.add(name=name, op=op, input=inputs)
        if outputs:
            node.attr["T"].type = _dtype_enum(outputs[0].dtype)
            node.attr["_output_shapes"].list.shape.extend(_shape_proto(v.shape, tensor_shape_pb2) for v in outputs)
        for key, value in sorted((params or {}).items()):
            node.attr[str(key)].CopyFrom(_attr(value, attr_value_pb2))
        for k, value in enumerate(outputs):
            producer[_key(value)] = name if k == 0 else f"{name}:{k}"
        return node

    for i, value in enumerate(ir_graph.inputs):
        add_node(unique(f"input_{i}"), "Placeholder", [], [value])

    def source(value):
        if _key(value) not in producer:
            add_node(unique(f"captured_{_key(value)}"), "Captured", [], [value])
        return producer[_key(value)]

    for node in ir_graph.nodes:
        inputs = [source(v) for v in node.inputs]
        add_node(unique(node.prim.name), node.prim.name, inputs, list(node.outputs), node.params)
    for i, value in enumerate(ir_graph.outputs):
        add_node(unique(f"output_{i}"), "Identity", [source(value)], [value])
    return graph
