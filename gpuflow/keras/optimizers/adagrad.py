"""Adagrad (Keras 3): acc += g^2; p -= lr * g / sqrt(acc + eps)."""
from __future__ import annotations

from .base import Optimizer


class Adagrad(Optimizer):
    """Adagrad: per-element rates scaled by the accumulated squared gradients, Keras 3's update rule,
        one fused kernel per variable and step.
    """
    slot_names = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, name="adagrad", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, name=name, **kwargs)
        if not isinstance(initial_accumulator_value, (int, float)) or initial_accumulator_value < 0:
            raise ValueError(f"Adagrad: initial_accumulator_value must be a number >= 0, got "
                             f"{initial_accumulator_value!r}")
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)

    def slot_initial_value(self, slot):
        return self.initial_accumulator_value

    def update_rule(self, step):
        return "adagrad_update", {"epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
