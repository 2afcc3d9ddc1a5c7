"""The autograd layer: GradientTape (tape.py), jacobians (jacobian.py) and the grad rules of the primitives
written in the public ops (grads/), which attach themselves to their primitives when imported here."""
from . import grads  # noqa: F401
from .tape import GradientTape, UnconnectedGradients, stop_gradient
from .custom_gradient import custom_gradient

__all__ = ["GradientTape", "UnconnectedGradients", "stop_gradient", "custom_gradient"]
