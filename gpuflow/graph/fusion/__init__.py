"""The fusion pass: elementwise chains (with a reduction) and optimizer updates as generated kernels.

    fuse(graph) -> Graph

groups.py decides what fuses and rewrites the graph; program.py describes a fused kernel; codegen.py writes
its CUDA source on kernels/fused.cuh; kernel.py runs it on cuda and sim; multi_update.py makes one kernel of
an optimizer step's per-parameter updates. On cpu only the updates group: one call runs kernels/optim.cu built
for the host over every tensor (host_update.py), or NumPy's rule where it cannot be built.
"""
from __future__ import annotations

from .groups import fuse_elementwise
from .multi_update import fuse_updates


def fuse(graph):
    return fuse_updates(fuse_elementwise(graph))
