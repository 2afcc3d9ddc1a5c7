"""`gf.debugging`: find the op that made a NaN or Inf, with TensorFlow's names.

    gf.debugging.enable_check_numerics()   # every op's float outputs are checked from now on
    y = gf.math.log(x)                     # a NaN here raises InvalidArgumentError naming `log`,
                                           # its inputs and this line (on cuda/sim: at the next .numpy())
    gf.debugging.disable_check_numerics()

See docs/debugging.md. The check itself lives in gpuflow/backend/numerics.py.
"""
from __future__ import annotations

from .backend.numerics import NUMERICS
from .ops.debugging import check_numerics

__all__ = ["enable_check_numerics", "disable_check_numerics", "check_numerics", "assert_all_finite"]


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
