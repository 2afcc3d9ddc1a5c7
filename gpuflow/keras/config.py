"""`gf.keras.config`: Keras 3's home of the global settings (the same functions as in `gf.keras.backend` and
`gf.keras.mixed_precision`)."""
from __future__ import annotations

from .backend import epsilon, floatx, image_data_format, set_epsilon, set_floatx  # noqa: F401
from .mixed_precision.policy import dtype_policy, set_dtype_policy  # noqa: F401

__all__ = ["floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format", "dtype_policy", "set_dtype_policy"]
