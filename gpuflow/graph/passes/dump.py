"""GPUFLOW_DUMP_GRAPH=dir: the IR of every function planned, before the first pass and after each pass.

    <dir>/<function name>.<n>.00-traced.txt           the graph as traced
    <dir>/<function name>.<n>.01-dead_code_elimination.txt   after the first pass, and so on

`n` counts the graphs optimized in this process (a function traced twice, or two functions of one name, write
apart). Each file is str(graph), one op per line with shapes, followed by the sub-graphs of its cond and
while_loop nodes, so comparing two neighbouring files shows what a pass did. Read when a function is planned
(its first call), so setting the variable between calls applies to functions planned later.
"""
from __future__ import annotations

import itertools
import os
import re

from .rewrite import subgraphs

ENV = "GPUFLOW_DUMP_GRAPH"
_numbers = itertools.count(1)


class GraphDump:
    """Where one optimize() call writes its graphs: write(label, graph) after each step."""

    def __init__(self, directory: str, name: str):
        os.makedirs(directory, exist_ok=True)
        self.prefix = os.path.join(directory, f"{_file_safe(name)}.{next(_numbers)}.")
        self.step = 0
        self.paths = []

    def write(self, label: str, graph) -> str:
        path = f"{self.prefix}{self.step:02d}-{label}.txt"
        with open(path, "w", encoding="utf-8") as f:
            f.write(graph_text(graph) + "\n")
        self.step += 1
        self.paths.append(path)
        return path


def start(graph) -> GraphDump | None:
    """A GraphDump for `graph` when GPUFLOW_DUMP_GRAPH names a folder, else None."""
    directory = os.environ.get(ENV)
    return GraphDump(directory, graph.name) if directory else None


def graph_text(graph) -> str:
    """str(graph), then each sub-graph of its control-flow nodes (recursively), each after a line naming its node."""
    parts = [str(graph)]
    for node in graph.nodes:
        for sub in subgraphs(node):
            outs = ", ".join(f"%{s.index}" for s in node.outputs)
            parts.append(f"\n# {sub.name}: a sub-graph of {node.prim.name} -> {outs}\n" + graph_text(sub))
    return "\n".join(parts)


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "graph"
