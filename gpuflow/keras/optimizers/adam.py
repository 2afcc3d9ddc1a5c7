"""The Adam family: Adam (and AMSGrad), AdamW, Adamax, Nadam, with Keras 3's update rules.

Bias corrections depend only on the step, so they are computed here once per step in
float64 and passed to the fused kernel as scalars.
"""
from __future__ import annotations

import math

from .base import Optimizer, power


def _check_betas(cls, beta_1, beta_2, epsilon):
    for what, v in (("beta_1", beta_1), ("beta_2", beta_2)):
        if not isinstance(v, (int, float)) or not 0 <= v < 1:
            raise ValueError(f"{cls}: {what} must be a number in [0, 1), got {v!r}")
    if not isinstance(epsilon, (int, float)) or epsilon <= 0:
        raise ValueError(f"{cls}: epsilon must be a number > 0, got {epsilon!r}")


class _AdamBase(Optimizer):
    slot_names = ("m", "v")

    def __init__(self, learning_rate, beta_1, beta_2, epsilon, name, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        _check_betas(type(self).__name__, beta_1, beta_2, epsilon)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adam(_AdamBase):
    """Adam (optionally AMSGrad) with Keras' defaults and epsilon placement, one fused kernel per
        variable and step.
    """
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, name="adam", **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, **kwargs)
        self.amsgrad = bool(amsgrad)

    @property
    def slot_names(self):
        return ("m", "v", "v_hat") if self.amsgrad else ("m", "v")

    def _step_powers(self):
        return {"beta_1_power": self.beta_1, "beta_2_power": self.beta_2}

    def update_rule(self, step):
        return ("adam_amsgrad_update" if self.amsgrad else "adam_update"), {
            "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
            "beta_1_power": power(self.beta_1, step), "beta_2_power": power(self.beta_2, step)}

    def get_config(self):
        return {**super().get_config(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (p -= lr * weight_decay * p before each update)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, name="adamw",
                 **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a number (AdamW without it is Adam)")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema, name=name, **kwargs)


class Adamax(_AdamBase):
    """Adam with the infinity norm: u = max(beta_2 * u, |g|)."""
    slot_names = ("m", "u")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, name="adamax", **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, **kwargs)

    def _step_powers(self):
        return {"beta_1_power": self.beta_1}

    def update_rule(self, step):
        return "adamax_update", {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                                 "beta_1_power": power(self.beta_1, step)}


class Nadam(_AdamBase):
    """Adam with Nesterov momentum and the momentum schedule u_t = beta_1 (1 - 0.5 * 0.96^(0.004 t))."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, name="nadam", **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema, **kwargs)
        self._u_product = (0, 1.0)  # (t, prod of u_1..u_t): Keras keeps it in a variable; it is a function of t

    def _u(self, t):
        return self.beta_1 * (1.0 - 0.5 * math.pow(0.96, t * 0.004))

    def _product(self, t):
        done, product = self._u_product
        if done > t:
            done, product = 0, 1.0
        for i in range(done + 1, t + 1):
            product *= self._u(i)
        self._u_product = (t, product)
        return product

    def update_rule(self, step):
        t = step + 1
        u_t, u_next = self._u(t), self._u(t + 1)
        product = self._product(t)
        return "nadam_update", {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                                "m_coef": u_next / (1.0 - product * u_next), "g_coef": (1.0 - u_t) / (1.0 - product),
                                "v_coef": 1.0 / (1.0 - power(self.beta_2, step))}
