"""Checking the plain-number arguments of Dataset methods, with errors that say what was given."""
from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError
from ..tensor import Tensor


def as_int(value, what: str, minimum: int | None = None, allow: tuple = ()) -> int:
    """`value` as a Python int (a scalar Tensor is fine); `allow` lists special values below `minimum`."""
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgumentError(f"{what} must be an integer, got {type(value).__name__} {value!r:.40}")
    value = int(value)
    if minimum is not None and value < minimum and value not in allow:
        extra = f" (or {', '.join(map(str, allow))})" if allow else ""
        raise InvalidArgumentError(f"{what} must be >= {minimum}{extra}, got {value}")
    return value


def as_callable(fn, what: str):
    if not callable(fn):
        raise InvalidArgumentError(f"{what} must be callable, got {type(fn).__name__} {fn!r:.40}")
    return fn
