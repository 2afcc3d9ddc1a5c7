"""gf.print: tf.print's output, printed when the op runs (on every call of a gf.function, not at trace)."""
from __future__ import annotations

import sys

import numpy as np

from .. import devices as _device
from ..tensor import Tensor


def _format(array: np.ndarray, summarize: int) -> str:
    return np.array2string(np.asarray(array), separator=" ", threshold=max(summarize, 1) * 2 if summarize >= 0
                           else sys.maxsize, edgeitems=max(summarize, 1))


def emit(params, arrays):
    """Print the template with the tensors' host values filled in."""
    parts, values = [], iter(arrays)
    for piece in params["template"]:
        parts.append(_format(next(values), params["summarize"]) if piece is None else piece)
    stream = params["output_stream"]
    stream = {"stderr": sys.stderr, "stdout": sys.stdout}.get(stream, stream) if isinstance(stream, str) else stream
    print(params["sep"].join(parts), end=params["end"], file=stream)


def print_tensors(params, tensors):
    """Print now, or inside a gf.function's trace add a PRINT node, which prints on every call."""
    from .ir import PRINT
    from .trace import current_graph_trace
    trace = current_graph_trace()
    if trace is not None:
        trace.add_node(PRINT, tensors, params, (), tensors[0]._device if tensors else _device.current())
        return
    emit(params, [t.numpy() for t in tensors])


def gf_print(*inputs, output_stream=sys.stderr, summarize=3, sep=" ", end="\n", name=None):
    """`tf.print`: prints its inputs (tensors with their values) each time it runs; inside gf.function it is an
    op of the graph, so it prints on every call, while Python's print runs once, when the function is traced."""
    template, tensors = [], []
    for x in inputs:
        if isinstance(x, Tensor):
            template.append(None)
            tensors.append(x)
        else:
            template.append(str(x))
    stream = {sys.stderr: "stderr", sys.stdout: "stdout"}.get(output_stream, output_stream)
    params = {"template": tuple(template), "summarize": int(summarize), "sep": sep, "end": end,
              "output_stream": stream}
    print_tensors(params, tensors)
