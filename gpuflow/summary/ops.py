"""`gf.summary.write / scalar / histogram / text / graph / flush`: tf.summary's functions.

Each returns False, touching neither tensorboard nor the device, when nothing would be recorded (no
default writer, or a `record_if` condition that is false); otherwise it reads its value to the host once,
builds the Summary proto with tensorboard's own plugin helpers (the tensor layouts and plugin metadata
TensorBoard's dashboards expect) and hands it to the default writer.
"""
from __future__ import annotations

import time

import numpy as np

from ._state import resolve_step, should_record_summaries, state
from ._tensorboard import require

DEFAULT_BUCKET_COUNT = 30  # TF's


def deferred(data, step, write):
    """Inside a gf.function, data (or step) is symbolic: write(data, step) with their host values on every call
    of the function (a host-callback node), deciding then whether to record. True when deferred, else None."""
    from ..graph.printing import host_call, is_symbolic
    if not (is_symbolic(data) or is_symbolic(step)):
        return None
    if is_symbolic(step):
        host_call(lambda value, at: write(value, int(at)), [data if is_symbolic(data) else _as_tensor(data), step])
    else:
        host_call(lambda value: write(value, step), [data])
    return True


def _as_tensor(data):
    from ..ops.creation import convert_to_tensor
    return convert_to_tensor(data)


def target_step(op: str, name: str, step):
    """The step to write `name` at, or None when nothing would be recorded."""
    if not should_record_summaries():
        return None
    return resolve_step(op, name, step)


def host_array(op: str, name: str, data) -> np.ndarray:
    """`data` (gf tensors on any device, NumPy, Python numbers or nested lists of them) as one host array."""
    if isinstance(data, (list, tuple)):
        data = [np.asarray(item) for item in data]  # a list of gf tensors: one read each, then stack on host
    try:
        return np.asarray(data)
    except (TypeError, ValueError) as e:
        raise TypeError(f"gf.summary.{op}({name!r}): cannot read the data as an array: {e}") from None


def add_value(name, tensor_proto, metadata, step) -> bool:
    """Append one tagged tensor value with its plugin metadata to the default writer, at `step`."""
    summary_pb2 = require("compat.proto.summary_pb2", "gf.summary")
    summary = summary_pb2.Summary()
    summary.value.add(tag=name, metadata=metadata, tensor=tensor_proto)
    state.writer.add_summary(summary, step)
    return True


def write(tag, tensor, step=None, metadata=None, name=None):
    """Write `tensor` (any array, or a TensorProto) under `tag` with `metadata` (a SummaryMetadata proto or
    its serialized bytes): tf.summary.write, the generic form the typed summaries build on."""
    if deferred(tensor, step, lambda value, at: write(tag, value, at, metadata, name)):
        return True
    step = target_step("write", tag, step)
    if step is None:
        return False
    tensor_util = require("util.tensor_util", "gf.summary.write")
    summary_pb2 = require("compat.proto.summary_pb2", "gf.summary.write")
    if not hasattr(tensor, "tensor_shape"):  # not already a TensorProto
        value = host_array("write", tag, tensor)
        tensor = tensor_util.make_tensor_proto(value, dtype=np.object_ if value.dtype.kind in "SUO" else None)
    if isinstance(metadata, (bytes, bytearray)):
        metadata = summary_pb2.SummaryMetadata.FromString(bytes(metadata))
    return add_value(tag, tensor, metadata if metadata is not None else summary_pb2.SummaryMetadata(), step)


def scalar(name, data, step=None, description=None):
    """Write one number (a float32 point on TensorBoard's Scalars dashboard)."""
    if deferred(data, step, lambda value, at: scalar(name, value, at, description)):
        return True
    step = target_step("scalar", name, step)
    if step is None:
        return False
    value = host_array("scalar", name, data)
    if value.shape != ():
        raise ValueError(f"gf.summary.scalar({name!r}): data must be a scalar, got shape {value.shape}; "
                         f"reduce it first (gf.reduce_mean) or write a histogram")
    if value.dtype.kind not in "biuf":
        raise TypeError(f"gf.summary.scalar({name!r}): data must be numeric, got dtype {value.dtype}")
    summary_v2 = require("plugins.scalar.summary_v2", "gf.summary.scalar")
    summary = summary_v2.scalar_pb(name, value.astype(np.float32), description=description)
    state.writer.add_summary(summary, step)
    return True


def histogram_buckets(values: np.ndarray, bucket_count: int) -> np.ndarray:
    """TensorBoard's `[k, 3]` histogram layout (left edge, right edge, count) with TF's bucketing: equal-width
    buckets from min to max, the top value in the last bucket; a constant input puts every count in the last
    bucket. Non-finite values are left out (TensorBoard cannot place them). O(n) memory: bincount, not the
    n x k one-hot matrix tensorboard's numpy helper builds."""
    values = values.reshape(-1).astype(np.float64)
    values = values[np.isfinite(values)]
    if bucket_count == 0 or values.size == 0:
        return np.zeros((bucket_count, 3))
    lo, hi = values.min(), values.max()
    if lo == hi:
        edges = np.full(bucket_count, hi)
        counts = np.zeros(bucket_count)
        counts[-1] = values.size
        return np.stack([edges, edges, counts], axis=1)
    index = np.floor((values - lo) / ((hi - lo) / bucket_count)).astype(np.int64)
    counts = np.bincount(np.minimum(index, bucket_count - 1), minlength=bucket_count)
    edges = np.linspace(lo, hi, bucket_count + 1)
    edges[-1] = hi  # exact, whatever linspace's rounding did
    return np.stack([edges[:-1], edges[1:], counts.astype(np.float64)], axis=1)


def histogram(name, data, step=None, buckets=None, description=None):
    """Write the distribution of `data`'s values (TensorBoard's Histograms and Distributions dashboards)."""
    if deferred(data, step, lambda value, at: histogram(name, value, at, buckets, description)):
        return True
    step = target_step("histogram", name, step)
    if step is None:
        return False
    bucket_count = DEFAULT_BUCKET_COUNT if buckets is None else int(buckets)
    if bucket_count < 0:
        raise ValueError(f"gf.summary.histogram({name!r}): buckets must be >= 0, got {buckets}")
    values = host_array("histogram", name, data)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"gf.summary.histogram({name!r}): data must be numeric, got dtype {values.dtype}")
    tensor_util = require("util.tensor_util", "gf.summary.histogram")
    metadata = require("plugins.histogram.metadata", "gf.summary.histogram")
    proto = tensor_util.make_tensor_proto(histogram_buckets(values, bucket_count), dtype=np.float64)
    return add_value(name, proto, metadata.create_summary_metadata(display_name=None, description=description), step)


def text(name, data, step=None, description=None):
    """Write a string, or an array of strings (shown as a table), to TensorBoard's Text dashboard; Markdown
    is rendered."""
    step = target_step("text", name, step)
    if step is None:
        return False
    if not isinstance(data, (str, bytes)):
        data = np.asarray(data)
        if data.dtype.kind not in "SUO":
            raise TypeError(f"gf.summary.text({name!r}): data must be a string or an array of strings, got "
                            f"dtype {data.dtype}")
    summary_v2 = require("plugins.text.summary_v2", "gf.summary.text")
    state.writer.add_summary(summary_v2.text_pb(name, data, description=description), step)
    return True


def graph(graph_data):
    """Write a graph for TensorBoard's Graphs dashboard: a tensorboard `GraphDef`, or a gf.function IR graph
    (converted by `gf.summary.graph_def_from_ir`). As tf.summary.graph, it takes no step."""
    if not should_record_summaries():
        return False
    if hasattr(graph_data, "nodes"):
        from .graph import graph_def_from_ir
        graph_data = graph_def_from_ir(graph_data)
    if not hasattr(graph_data, "SerializeToString") or not hasattr(graph_data, "node"):
        raise TypeError(f"gf.summary.graph: expected a GraphDef (tensorboard.compat.proto.graph_pb2) or a "
                        f"gf.function IR graph, got {type(graph_data).__name__}")
    event_pb2 = require("compat.proto.event_pb2", "gf.summary.graph")
    state.writer.add_event(event_pb2.Event(wall_time=time.time(), graph_def=graph_data.SerializeToString()))
    return True


def flush(writer=None, name=None):
    """Flush `writer`, or the default writer when None (nothing to do without one)."""
    writer = writer if writer is not None else state.writer
    if writer is not None:
        writer.flush()
