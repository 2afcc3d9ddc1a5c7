"""The fused optimizer updates' contract, shared by the primitives (gpuflow/ops/optim_prims.py) and by the
kernels' callers on every backend (numpy/optim.py, cuda/optim.py), so the three stay in step.

RULES maps each update primitive's name to its slots, its per-step scalars (the order of its `step`
input) and the params the kernel takes by value, in kernel order. It is data about the kernels, so it
lives in the backend layer, below the ops that are made from it.
"""
from __future__ import annotations

_LR = ("lr", "apply")
_ADAM_STEP = ("lr", "beta_1_power", "beta_2_power", "apply")
# name: (slot names, per-step scalars in `step` order, fixed params in kernel order).
# weight_decay (decoupled, Keras' rule) is in all. `apply` (last in every `step`): 1, or 0 for a step to skip
# (every output is its input: a LossScaleOptimizer's non-finite step, decided on the device).
RULES = {
    "sgd_update": ((), _LR, ("weight_decay",)),
    "sgd_momentum_update": (("momentum",), _LR, ("momentum", "nesterov", "weight_decay")),
    "adam_update": (("m", "v"), _ADAM_STEP, ("beta_1", "beta_2", "epsilon", "weight_decay")),
    "adam_amsgrad_update": (("m", "v", "v_hat"), _ADAM_STEP, ("beta_1", "beta_2", "epsilon", "weight_decay")),
    "adamax_update": (("m", "u"), ("lr", "beta_1_power", "apply"), ("beta_1", "beta_2", "epsilon", "weight_decay")),
    "nadam_update": (("m", "v"), ("lr", "m_coef", "g_coef", "v_coef", "apply"),
                     ("beta_1", "beta_2", "epsilon", "weight_decay")),
    "rmsprop_update": (("velocity",), _LR, ("rho", "epsilon", "weight_decay")),
    "rmsprop_momentum_update": (("velocity", "momentum"), _LR, ("rho", "momentum", "epsilon", "weight_decay")),
    "rmsprop_centered_update": (("velocity", "average"), _LR, ("rho", "epsilon", "weight_decay")),
    "rmsprop_centered_momentum_update": (("velocity", "average", "momentum"), _LR,
                                         ("rho", "momentum", "epsilon", "weight_decay")),
    "adagrad_update": (("accumulator",), _LR, ("epsilon", "weight_decay")),
    "adadelta_update": (("accumulated_grad", "accumulated_delta_var"), _LR, ("rho", "epsilon", "weight_decay")),
    "lion_update": (("m",), _LR, ("beta_1", "beta_2", "weight_decay")),
}
