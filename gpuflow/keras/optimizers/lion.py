"""Lion (Keras 3): the sign of an interpolated momentum as the step (Chen et al., 2023)."""
from __future__ import annotations

from .base import Optimizer


class Lion(Optimizer):
    """Lion, Keras 3's update rule, one fused kernel per variable and step:

        p -= learning_rate * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g

    Its steps are +-learning_rate per element, so it wants a learning rate 3-10x smaller than AdamW's.
    """
    slot_names = ("m",)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, name="lion", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, name=name, **kwargs)
        if not isinstance(beta_1, (int, float)) or not 0.0 < beta_1 <= 1.0:
            raise ValueError(f"Lion: beta_1 must be a number in (0, 1], got {beta_1!r}; with 0 the momentum would "
                             f"not enter the step")
        if not isinstance(beta_2, (int, float)) or not 0.0 <= beta_2 <= 1.0:
            raise ValueError(f"Lion: beta_2 must be a number in [0, 1], got {beta_2!r}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)

    def update_rule(self, step):
        return "lion_update", {"beta_1": self.beta_1, "beta_2": self.beta_2}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
