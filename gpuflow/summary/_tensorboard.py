"""Imports the tensorboard package, which gf.summary writes through (its event writer and protos: no
TensorFlow needed), with an error that says how to get it. It is an optional dependency: `gpuflow[interop]`."""
from __future__ import annotations

import importlib

_INSTALL = 'pip install "gpuflow[interop]"  (or: pip install tensorboard)'


def require(module: str, what: str):
    """`tensorboard.<module>`, or an ImportError naming `what` needed it and how to install it."""
    try:
        return importlib.import_module(f"tensorboard.{module}")
    except ImportError as e:
        raise ImportError(f"{what} writes TensorBoard event files with the tensorboard package, which is not "
                          f"installed: {_INSTALL}") from e
