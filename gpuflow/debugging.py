"""`gf.debugging`: find the op that made a NaN or Inf, with TensorFlow's names.

    gf.debugging.enable_check_numerics()   # every op's float outputs are checked from now on
    y = gf.math.log(x)                     # a NaN here raises InvalidArgumentError naming `log`,
                                           # its inputs and this line (on cuda/sim: at the next .numpy())
    gf.debugging.disable_check_numerics()

    gf.debugging.assert_near(y, expected)  # InvalidArgumentError with the first differing values if not

See docs/debugging.md. The check itself lives in gpuflow/backend/numerics.py.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

from .backend.numerics import NUMERICS
from .errors import InvalidArgumentError
from .graph.printing import host_call, is_symbolic
from .ops import math as _ops
from .ops._util import broadcast_shapes, same_dtype
from .ops.debugging import check_numerics

__all__ = ["enable_check_numerics", "disable_check_numerics", "check_numerics", "assert_all_finite", "assert_equal",
           "assert_near"]


def enable_check_numerics(stack_height_limit=30, path_length_limit=50):
    """`tf.debugging.enable_check_numerics`: after every op, a NaN or Inf in a float output raises
    InvalidArgumentError naming the op, its input shapes and dtypes, and the source line outside
    gpuflow that ran it. On cpu the op raises; on cuda and sim the output is checked on the device and
    the error is raised at the next read of a value to the host (.numpy(), float(), a logged loss), so
    the check adds no host synchronisation per op. TF's two limits shape its stack dumps; gpuflow names
    one line, so they are accepted and ignored."""
    NUMERICS.enable()


def disable_check_numerics():
    """`tf.debugging.disable_check_numerics`: stop checking ops (checks already queued on a device still
    report at the next host read)."""
    NUMERICS.disable()


def assert_all_finite(x, message, name=None):
    """`tf.debugging.assert_all_finite`: the same op as check_numerics."""
    return check_numerics(x, message, name=name)


def assert_equal(x, y, message=None, summarize=None, name=None):
    """`tf.debugging.assert_equal`: returns None if `x == y` at every element (the two broadcast against each
    other), else raises InvalidArgumentError with `message`, both shapes and dtypes, the indices and values of
    the first `summarize` (default 3; negative: all) differing elements and the first elements of each.

    Inside gf.function the check runs on every call, raising from that call; like gf.print it reads x and y
    back to the host there, so a function holding one is not captured as a CUDA graph.

        Differs from TF:
            Returns None inside gf.function too (TF returns the assert op there): gpuflow runs ops in program
            order, so there is nothing to add to control_dependencies.
    """
    x, y = _operands("assert_equal", x, y)
    _check("assert_equal", "Condition x == y did not hold", _ops.not_equal(x, y), x, y, message, summarize)


def assert_near(x, y, rtol=None, atol=None, message=None, summarize=None, name=None):
    """`tf.debugging.assert_near`: returns None if `|x - y| <= atol + rtol * |y|` at every element of the
    floating-point `x` and `y` (broadcast against each other; NaN is never near), else raises
    InvalidArgumentError as assert_equal does. rtol and atol default to 10 * eps of the dtype (1.19e-6 for
    float32, 9.77e-3 for float16), as TF.

    Inside gf.function the check runs on every call, as assert_equal's does.

        Differs from TF:
            Returns None inside gf.function too (TF returns the assert op there). TF's kernel tests
            `|x - y| < tol`; gpuflow tests `<=` as TF documents, so x == y passes with rtol = atol = 0.
    """
    x, y = _operands("assert_near", x, y)
    if not x.dtype.is_floating:
        raise InvalidArgumentError(f"assert_near: needs floating-point x and y, got {x.dtype.name}{list(x.shape)} "
                                   f"and {y.dtype.name}{list(y.shape)}; cast them with gf.cast, or compare integers "
                                   f"with assert_equal")
    eps = float(ml_dtypes.finfo(x.dtype.np).eps)
    rtol = 10 * eps if rtol is None else rtol
    atol = 10 * eps if atol is None else atol
    near = _ops.less_equal(_ops.abs(x - y), _ops.add(_ops.multiply(_ops.abs(y), rtol), atol))
    _check("assert_near", f"x and y not equal to tolerance rtol = {_number(rtol)}, atol = {_number(atol)}",
           _ops.logical_not(near), x, y, message, summarize)


def _operands(op, x, y):
    """x and y as tensors of one dtype whose shapes broadcast, or an error naming `op`."""
    x, y = _ops.operands(x, y)
    same_dtype(op, x, y)
    broadcast_shapes(op, tuple(x.shape), tuple(y.shape))
    return x, y


def _number(value):
    return f"{float(value.numpy() if hasattr(value, 'numpy') else value):.7g}"


def _check(op, condition, bad, x, y, message, summarize):
    """Raise from the host if any of `bad` is set: now, or inside gf.function on every call."""
    failed = _ops.reduce_any(bad)
    if not is_symbolic(failed) and not bool(failed.numpy()):
        return None  # eager and passing: one bool came back to the host, not x and y

    def report(bad, x, y):
        if bad.any():
            raise InvalidArgumentError(_report(op, condition, bad, x, y, message, summarize))
    host_call(report, [bad, x, y])
    return None


def _report(op, condition, bad, x, y, message, summarize):
    n = 3 if summarize is None else (bad.size if summarize < 0 else int(summarize))
    where = f" at {int(bad.sum())} of {bad.size} elements" if bad.ndim else ""
    lines = [] if message is None else [str(message)]
    lines.append(f"{op}: {condition}{where} (x: shape={x.shape} dtype={x.dtype}, y: shape={y.shape} "
                 f"dtype={y.dtype})")
    if n > 0:
        if bad.ndim:  # the common shape's indices: x and y are shown broadcast to it
            indices = np.argwhere(bad)[:n]
            lines += [f"Indices of first {len(indices)} different values:", str(indices),
                      "Corresponding x values:", str(np.broadcast_to(x, bad.shape)[bad][:n]),
                      "Corresponding y values:", str(np.broadcast_to(y, bad.shape)[bad][:n])]
        lines += [f"First {min(n, x.size)} elements of x:", str(x.reshape(-1)[:n]),
                  f"First {min(n, y.size)} elements of y:", str(y.reshape(-1)[:n])]
    return "\n".join(lines)
