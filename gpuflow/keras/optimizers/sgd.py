"""SGD with optional (Nesterov) momentum, Keras 3's rule: m = momentum*m - lr*g; p += m
(Nesterov: p += momentum*m - lr*g)."""
from __future__ import annotations

from .base import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and Nesterov momentum (Keras 3's update
        rule), one fused kernel per variable and step.
    """
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, name=name, **kwargs)
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be a number in [0, 1], got {momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    @property
    def slot_names(self):
        return ("momentum",) if self.momentum else ()

    def update_rule(self, step):
        if not self.momentum:
            return "sgd_update", {}
        return "sgd_momentum_update", {"momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
