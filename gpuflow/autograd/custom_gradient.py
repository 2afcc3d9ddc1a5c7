"""gf.custom_gradient: a function that gives its own gradient, as tf.custom_gradient.

    @gf.custom_gradient
    def clip_gradient(x):
        def grad(upstream):
            return gf.clip_by_value(upstream, -1.0, 1.0)
        return gf.identity(x), grad

How: the function's own ops run with every tape of the thread paused (a gf.function being traced still traces
them), so no tape sees inside. Each output is then passed through stop_gradient (a new tensor, so an output that
is an input stays distinct), and every recording tape gets one entry: from the inputs (and the trainable
Variables the function read) to those outputs, whose grad rule is the user's `grad`. Inside a gf.function the
traced graph also notes the region (its node span, inputs, outputs and `grad`), so a tape that differentiates a
call of the function from outside replays the region the same way (graph/executor.py, run_traced).
"""
from __future__ import annotations

import contextlib
import functools
import inspect

from .. import nest
from .._traces import state_trace, traces
from ..ops import state_prims
from ..ops.creation import convert_to_tensor
from ..tensor import Tensor, Variable
from .tape import GradientTape

__all__ = ["custom_gradient"]


def custom_gradient(f=None):
    """Decorator: `f(*args)` returns `(outputs, grad_fn)`; `grad_fn(*upstream)` gives the gradients of f's
    positional arguments, one per argument (None for none). If f reads trainable Variables, grad_fn must take a
    keyword `variables` and return `(argument_grads, variable_grads)`, as in TF. Keyword arguments of f are
    passed through and get no gradient."""
    if f is None:  # @gf.custom_gradient()
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        # As TF: one input per positional argument (a Python value as a tensor: its gradient goes nowhere).
        inputs = [a if isinstance(a, Tensor) else convert_to_tensor(a) for a in args]
        start = node_count()
        with paused_tapes(), GradientTape() as reads:  # `reads`: which trainable Variables f uses
            result = f(*args, **kwargs)
        if not (isinstance(result, (tuple, list)) and len(result) == 2 and callable(result[1])):
            raise TypeError(f"custom_gradient: {getattr(f, '__name__', 'the function')} must return (outputs, "
                            f"grad_fn), got {type(result).__name__}")
        outputs, grad_fn = result
        given = {t._id for t in inputs}
        variables = [v for v in reads.watched_variables() if v._id not in given]
        if variables and not _takes_variables(grad_fn):
            raise TypeError(f"custom_gradient: {getattr(f, '__name__', 'the function')} reads the trainable "
                            f"variable(s) {', '.join(v.name for v in variables)}, so its grad_fn must take a keyword "
                            f"argument `variables` and return (argument_grads, variable_grads)")
        flat = nest.flatten(outputs)
        out = [state_prims.stop_gradient(t) for t in flat if isinstance(t, Tensor)]
        note(inputs, variables, out, grad_fn, start)
        it = iter(out)
        return nest.pack_sequence_as(outputs, [next(it) if isinstance(t, Tensor) else t for t in flat])
    return decorated


def _takes_variables(grad_fn) -> bool:
    parameters = inspect.signature(grad_fn).parameters.values()
    return any(p.name == "variables" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def note(inputs, variables, outputs, grad_fn, start):
    """Give every recording tape one entry from inputs (and variables) to outputs whose rule is grad_fn; inside a
    gf.function trace (start: its node count when the call began), note the region on its graph too."""
    rule = CustomGradient(grad_fn, inputs, variables, len(outputs))
    for trace in traces.stack:
        if isinstance(trace, GradientTape):
            trace.record(rule, tuple(inputs) + tuple(variables), tuple(outputs), {})
    trace = state_trace()
    if trace is not None and start is not None and outputs:
        trace.graph.custom_gradients.append(Region(start, len(trace.graph.nodes), [trace.symbol_of(t) for t in inputs],
                                                   [trace.symbol_of(t) for t in outputs], grad_fn, variables))


def node_count():
    """The innermost gf.function trace's node count (where a region starting now begins), or None."""
    trace = state_trace()
    return None if trace is None else len(trace.graph.nodes)


def paused_tapes():
    """Every tape of this thread stops recording for the block (traces go on tracing): each tape's own
    stop_recording, entered together."""
    stack = contextlib.ExitStack()
    for tape in traces.stack:
        if isinstance(tape, GradientTape):
            stack.enter_context(tape.stop_recording())
    return stack


class Region:
    """A custom_gradient call inside a traced graph: nodes [start, end) compute `outputs` from `inputs`."""
    __slots__ = ("start", "end", "inputs", "outputs", "grad_fn", "variables")

    def __init__(self, start, end, inputs, outputs, grad_fn, variables):
        self.start, self.end, self.inputs, self.outputs = start, end, inputs, outputs
        self.grad_fn, self.variables = grad_fn, variables


class CustomGradient:
    """What a tape records for one call: quacks like a Primitive (name, n_outputs, grad...) for tape.gradient."""
    name = "custom_gradient"
    none_for_unused_outputs = False  # an output no gradient reaches gives grad_fn zeros, as TF does
    crosses_devices = False

    def __init__(self, grad_fn, inputs, variables, n_outputs):
        self.grad_fn, self.n_outputs = grad_fn, n_outputs
        self.n_inputs, self.variables = len(inputs), list(variables)

    def grad(self, upstream, outputs, *inputs):
        upstream = [upstream] if self.n_outputs == 1 else list(upstream)
        if self.variables:
            result = self.grad_fn(*upstream, variables=self.variables)
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError("custom_gradient: a grad_fn given `variables` must return (argument_grads, "
                                "variable_grads)")
            arg_grads, var_grads = _as_list(result[0]), _as_list(result[1])
        else:
            arg_grads, var_grads = _as_list(self.grad_fn(*upstream)), []
        if len(arg_grads) != self.n_inputs or len(var_grads) != len(self.variables):
            raise ValueError(f"custom_gradient: grad_fn returned {len(arg_grads)} argument gradient(s) and "
                             f"{len(var_grads)} variable gradient(s); the function has {self.n_inputs} positional "
                             f"argument(s) and reads {len(self.variables)} variable(s): one each (None for none)")
        return [_checked(g, x, k) for k, (g, x) in enumerate(zip(arg_grads + var_grads, inputs))]


def _as_list(grads):
    return list(grads) if isinstance(grads, (tuple, list)) else [grads]


def _checked(g, x, k):
    if g is None:
        return None
    g = g if isinstance(g, Tensor) else convert_to_tensor(g, dtype=x.dtype)
    if isinstance(g, Variable):
        g = g.value()
    if tuple(g.shape) != tuple(x.shape):
        raise ValueError(f"custom_gradient: grad_fn's gradient {k} has shape {list(g.shape)}, but its input has "
                         f"shape {list(x.shape)}")
    return g
