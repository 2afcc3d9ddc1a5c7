"""Host work that runs when the op runs (on every call of a gf.function, not at trace): gf.print, and
`host_call`, which summaries (gf.summary.scalar inside a compiled step) use to write each call's values."""
from __future__ import annotations

import sys

import numpy as np

from .. import devices as _device
from ..tensor import Symbol, Tensor


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


def host_call(fn, tensors):
    """fn(*host values of `tensors`) now, or, inside a gf.function's trace, on every call (a CALLBACK node)."""
    from .ir import CALLBACK
    from .trace import current_graph_trace
    trace = current_graph_trace()
    if trace is None:
        return fn(*[t.numpy() for t in tensors])
    trace.add_node(CALLBACK, tensors, {"fn": fn}, (), tensors[0]._device if tensors else _device.current())
    return True


def is_symbolic(x) -> bool:
    """Whether x is a tensor of a gf.function being traced (its value exists only when the graph runs)."""
    return isinstance(x, Tensor) and type(x._data) is Symbol
