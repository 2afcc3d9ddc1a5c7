"""`gf.keras.mixed_precision`: Keras 3's dtype policies and loss scaling.

A policy names a layer's compute dtype (what its inputs are cast to and its math runs in) and its
variable dtype (what its weights are stored in). "mixed_float16" and "mixed_bfloat16" compute in
half precision on float32 weights: inside such a layer's call, float weights are read in the
compute dtype (a recorded cast, so their gradients arrive in float32), as Keras 3's AutocastScope
does. See docs/guide.md, "Mixed precision".
"""
from __future__ import annotations

from .policy import DTypePolicy, Policy, dtype_policy, global_policy, set_dtype_policy, set_global_policy

__all__ = ["DTypePolicy", "Policy", "LossScaleOptimizer", "set_global_policy", "global_policy",
           "set_dtype_policy", "dtype_policy"]


def __getattr__(name):
    # Loaded on first use: every layer imports the policies, and few programs need the optimizers.
    if name == "LossScaleOptimizer":
        from ..optimizers.loss_scale_optimizer import LossScaleOptimizer
        return LossScaleOptimizer
    raise AttributeError(f"module 'gpuflow.keras.mixed_precision' has no attribute {name!r}")


def __dir__():
    # The lazy name is listed too, so tools that read a module's members (the API reference) find it.
    return sorted(set(globals()) | {"LossScaleOptimizer"})
