"""A tiny gf.function-shaped IR graph made of plain dataclasses: the interface graph_def_from_ir reads
(nodes with .prim.name/.inputs/.outputs/.params; values with .id/.shape/.dtype), used as real input."""
from __future__ import annotations

from dataclasses import dataclass, field

import gpuflow as gf


@dataclass
class Prim:
    name: str


@dataclass
class Value:
    id: int
    shape: tuple | None
    dtype: gf.DType


@dataclass
class Node:
    prim: Prim
    inputs: list
    outputs: list
    params: dict = field(default_factory=dict)


@dataclass
class Graph:
    nodes: list
    inputs: list
    outputs: list


def dense_relu_split():
    """x[?, 4] @ w[4, 6] (w captured) -> relu -> split in two along axis 1 -> the second half, + x's sum."""
    x = Value(0, (None, 4), gf.float32)
    w = Value(1, (4, 6), gf.float32)
    y, z = Value(2, (None, 6), gf.float32), Value(3, (None, 6), gf.float32)
    a, b = Value(4, (None, 3), gf.float32), Value(5, (None, 3), gf.float32)
    s = Value(6, None, gf.float32)
    nodes = [Node(Prim("matmul"), [x, w], [y], {"transpose_a": False, "transpose_b": False}),
             Node(Prim("relu"), [y], [z]),
             Node(Prim("split"), [z], [a, b], {"axis": 1, "sizes": (3, 3), "dtype": gf.float32}),
             Node(Prim("reduce_sum"), [x], [s], {"axis": None, "keepdims": False, "scale": 0.5, "mode": "sum"}),
             Node(Prim("matmul"), [b, b], [Value(7, (None, None), gf.float32)], {"transpose_b": True})]
    return Graph(nodes=nodes, inputs=[x], outputs=[b, s])
