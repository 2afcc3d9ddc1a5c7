"""The graph compiler's passes: pure functions from a traced Graph to a new, cheaper Graph.

    optimize(graph) -> Graph      the passes that `gf.config.optimizer` leaves on, in PIPELINE order

Each pass takes a Graph and returns a new one (never mutating its argument: a ConcreteFunction keeps the
traced graph for printing, differentiation and export, and plans the optimized one). A pass must keep:
every effect node (ir.READ/ASSIGN/FEED/PRINT/CALLBACK) and control-flow node, in order relative to the other
effects; the graph's inputs and outputs (their symbols may be replaced by equal ones); and the values, within
the float tolerance of the op it replaces.

GPUFLOW_DUMP_GRAPH=dir writes the IR before the first pass and after each pass (see dump.py).
"""
from __future__ import annotations

from ...config_optimizer import enabled_passes
from ..fusion import fuse
from . import dump
from .cse import eliminate_common_subexpressions
from .dce import eliminate_dead_code
from .fold import fold_constants

# (option name, pass function) in order. DCE first (less for the others to look at), CSE before folding (merged
# constants fold once), fusion after folding (constants are known), DCE again last: folding leaves the constants
# it consumed.
PIPELINE: tuple = (
    ("dead_code_elimination", eliminate_dead_code),
    ("common_subexpression_elimination", eliminate_common_subexpressions),
    ("constant_folding", fold_constants),
    ("fusion", fuse),
    ("dead_code_elimination", eliminate_dead_code),
)


def optimize(graph):
    """`graph` after every pass the optimizer options leave on (the same object when none is on)."""
    written = dump.start(graph)
    if written:
        written.write("traced", graph)
    enabled = enabled_passes()
    for name, run in PIPELINE:
        if name in enabled:
            graph = run(graph)
            if written:
                written.write(name, graph)
    return graph
