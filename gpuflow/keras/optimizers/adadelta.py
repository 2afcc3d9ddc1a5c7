"""Adadelta (Keras 3): per-element steps scaled by the ratio of accumulated update and gradient magnitudes."""
from __future__ import annotations

from .base import Optimizer


class Adadelta(Optimizer):
    """Adadelta, Keras 3's update rule, one fused kernel per variable and step:

        acc_grad = rho * acc_grad + (1 - rho) * g^2
        delta = -sqrt(acc_delta + epsilon) / sqrt(acc_grad + epsilon) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta^2
        p += learning_rate * delta
    """
    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, name="adadelta", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, name=name, **kwargs)
        if not isinstance(rho, (int, float)) or not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: rho must be a number in [0, 1], got {rho!r}")
        self.rho, self.epsilon = float(rho), float(epsilon)

    def update_rule(self, step):
        return "adadelta_update", {"rho": self.rho, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
