"""`gf.summary`: tf.summary for TensorBoard, without TensorFlow.

    writer = gf.summary.create_file_writer("logs/run1")
    with writer.as_default(step=0):
        gf.summary.scalar("loss", loss)          # a gf tensor on any device: read to the host once
        gf.summary.histogram("weights", w)

Event files are written by the tensorboard package's own writer and protos, so TensorBoard reads them
as its own; that package is an optional dependency (`pip install "gpuflow[interop]"`). Without a default
writer every summary function returns False and imports nothing.
"""
from __future__ import annotations

from . import experimental
from ._state import record_if, should_record_summaries
from .graph import graph_def_from_ir
from .image import image
from .ops import flush, graph, histogram, scalar, text, write
from .writer import SummaryWriter, create_file_writer, create_noop_writer

__all__ = ["create_file_writer", "create_noop_writer", "SummaryWriter", "scalar", "histogram", "image", "text",
           "write", "graph", "flush", "record_if", "should_record_summaries", "experimental",
           "graph_def_from_ir"]
