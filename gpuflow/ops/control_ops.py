"""tf.no_op, tf.group and tf.control_dependencies: graph-ordering helpers that gpuflow needs no work for.

TF 1 graphs ran ops in whatever order their data dependencies allowed, so code named the ops that had to run
first. gpuflow runs ops in program order, eagerly and inside gf.function alike (a traced function's effects,
variable updates and prints, replay in the order they were written), so these keep TF code running unchanged.
"""
from __future__ import annotations

import contextlib

from .. import nest
from ..tensor import Tensor

__all__ = ["no_op", "group", "control_dependencies"]


def no_op(name=None):
    """`tf.no_op`: does nothing; returns None, eagerly and inside gf.function.

        Differs from TF:
            Returns None instead of an Operation: gpuflow runs ops in program order, so there is no op to
            wait on.
    """
    return None


def group(*inputs, **kwargs):
    """`tf.group`: nothing is left to wait for, as every input has already run; returns None.

    Takes tensors, variables and None (what no_op, group and the gf.debugging asserts return), as
    `group(a, b)`, `group(*ops)` or nested lists, as TF flattens them; `name=` is accepted.

        Differs from TF:
            Returns None instead of an Operation: gpuflow runs ops in program order (inside gf.function
            too), so each input ran when it was written and grouping them adds nothing.
    """
    unknown = sorted(set(kwargs) - {"name"})
    if unknown:
        raise TypeError(f"group: unexpected keyword argument(s) {', '.join(unknown)}; group takes the inputs "
                        f"as positional arguments and name=")
    _check_inputs("group", nest.flatten(list(inputs)))
    return None


def control_dependencies(control_inputs):
    """`tf.control_dependencies`: a context manager that does nothing, as in TF's eager mode.

    `control_inputs` is None or a list of tensors, variables or None (what no_op, group and the
    gf.debugging asserts return); every one has already run when the `with` block starts. A callable in the
    list is called now, as TF's eager mode does.

        Differs from TF:
            A no-op inside gf.function too: gpuflow runs a traced function's ops in program order, so
            whatever is written before the `with` block runs before it.
    """
    if control_inputs is not None:
        if isinstance(control_inputs, Tensor) or not hasattr(control_inputs, "__iter__"):
            raise TypeError(f"control_dependencies: control_inputs must be None or a list of tensors, got "
                            f"{type(control_inputs).__name__}; wrap a single tensor in a list: [x]")
        control_inputs = list(control_inputs)
        _check_inputs("control_dependencies", control_inputs)
        for control in control_inputs:
            if callable(control) and not isinstance(control, Tensor):
                control()
    return contextlib.nullcontext()


def _check_inputs(op, inputs):
    for x in inputs:
        # TF 2 accepts a callable too: control_dependencies calls it, group takes it as already run.
        if x is not None and not isinstance(x, Tensor) and not callable(x):
            raise TypeError(f"{op}: inputs must be tensors, variables or None (gpuflow runs ops in order, so "
                            f"no_op, group and the gf.debugging asserts return None), got {type(x).__name__}")
