"""Fused optimizer updates: one primitive per update rule (and per set of slots it keeps).

Inputs are (param, grad, *slots); outputs are the new (param, *slots), so a primitive stays
functional and goes through the dispatch point like any op; the optimizer assigns the
outputs back into its variables. On cuda each is one kernel (kernels/optim.cu).
Hyper-parameters, including the per-step ones (learning rate, bias-correction powers), are
float params (`nesterov` a bool). No grad rule: updates are never differentiated.

RULES maps each primitive's name to its slots and to the float params the kernel takes,
in kernel order; the backends read it so the three stay in step.
"""
from __future__ import annotations

from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require
from .dispatch import primitive

# name: (slot names, params in kernel order). weight_decay (decoupled, Keras' rule) is in all.
RULES = {
    "sgd_update": ((), ("lr", "weight_decay")),
    "sgd_momentum_update": (("momentum",), ("lr", "momentum", "nesterov", "weight_decay")),
    "adam_update": (("m", "v"), ("lr", "beta_1", "beta_2", "epsilon", "beta_1_power", "beta_2_power",
                                 "weight_decay")),
    "adam_amsgrad_update": (("m", "v", "v_hat"), ("lr", "beta_1", "beta_2", "epsilon", "beta_1_power",
                                                  "beta_2_power", "weight_decay")),
    "adamax_update": (("m", "u"), ("lr", "beta_1", "beta_2", "epsilon", "beta_1_power", "weight_decay")),
    "nadam_update": (("m", "v"), ("lr", "beta_1", "beta_2", "epsilon", "m_coef", "g_coef", "v_coef",
                                  "weight_decay")),
    "rmsprop_update": (("velocity",), ("lr", "rho", "epsilon", "weight_decay")),
    "rmsprop_momentum_update": (("velocity", "momentum"), ("lr", "rho", "momentum", "epsilon", "weight_decay")),
    "rmsprop_centered_update": (("velocity", "average"), ("lr", "rho", "epsilon", "weight_decay")),
    "rmsprop_centered_momentum_update": (("velocity", "average", "momentum"),
                                         ("lr", "rho", "momentum", "epsilon", "weight_decay")),
    "adagrad_update": (("accumulator",), ("lr", "epsilon", "weight_decay")),
}


def _infer(name, slots, params):
    def infer(param, grad, *slot_specs, **hyper):
        require(name, param, "f", "a floating-point parameter")
        for what, spec in [("gradient", grad)] + list(zip(slots, slot_specs)):
            if tuple(spec.shape) != tuple(param.shape) or spec.dtype != param.dtype:
                raise InvalidArgumentError(
                    f"{name}: the {what} is {spec.dtype.name}{list(spec.shape)} but the parameter is "
                    f"{param.dtype.name}{list(param.shape)}; they must match (cast the gradient to the "
                    f"parameter's dtype)")
        if sorted(hyper) != sorted(params):
            raise InvalidArgumentError(f"{name}: takes the params {list(params)}, got {sorted(hyper)}")
        spec = TensorSpec(param.shape, param.dtype)
        return spec if not slots else (spec,) * (1 + len(slots))
    return infer


UPDATES = {name: primitive(name, _infer(name, slots, params), n_outputs=1 + len(slots))
           for name, (slots, params) in RULES.items()}
