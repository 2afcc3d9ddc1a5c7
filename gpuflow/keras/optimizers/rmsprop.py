"""RMSprop (Keras 3): vel = rho*vel + (1-rho)*g^2; step = lr*g / sqrt(vel [- mean_g^2] + eps);
optionally through a momentum slot."""
from __future__ import annotations

from .base import Optimizer


class RMSprop(Optimizer):
    """RMSprop, optionally with momentum and centered, Keras 3's update rule, one fused kernel per
        variable and step.
    """
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, name="rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, name=name, **kwargs)
        if not isinstance(rho, (int, float)) or not 0 <= rho < 1:
            raise ValueError(f"RMSprop: rho must be a number in [0, 1), got {rho!r}")
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"RMSprop: momentum must be a number in [0, 1], got {momentum!r}")
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)

    @property
    def slot_names(self):
        return ("velocity",) + (("average",) if self.centered else ()) + (("momentum",) if self.momentum else ())

    def update_rule(self, step):
        name = "rmsprop" + ("_centered" if self.centered else "") + ("_momentum" if self.momentum else "")
        hyper = {"rho": self.rho, "epsilon": self.epsilon}
        if self.momentum:
            hyper["momentum"] = self.momentum
        return name + "_update", hyper

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}
