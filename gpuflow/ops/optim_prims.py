"""Fused optimizer updates: one primitive per update rule (and per set of slots it keeps).

Inputs are (param, grad, *slots, step); outputs are the new (param, *slots), so a primitive
stays functional and goes through the dispatch point like any op; the optimizer assigns the
outputs back into its variables. On cuda each is one kernel (kernels/optim.cu).
`step` is a float64 vector of the per-step scalars (the learning rate first, then e.g. the
bias-correction powers, last `apply`): a tensor, so a traced step reads each step's values
instead of baking one step's numbers into the graph. `apply` is 1, or 0 for a step to skip:
then every output is its input (a LossScaleOptimizer whose gradients were not finite; its
compiled step decides that on the device, so the host cannot leave the launch out). The
fixed hyper-parameters are float params (`nesterov` a bool). No grad rule: updates are
never differentiated.

The primitives are made from RULES (gpuflow/backend/optim_rules.py), the table the backends
read too, so the three stay in step.
"""
from __future__ import annotations

from ..backend.optim_rules import RULES
from ..errors import InvalidArgumentError
from ..tensor import TensorSpec
from ._util import require
from .dispatch import primitive


def _infer(name, slots, step_params, params):
    def infer(param, grad, *specs, **hyper):
        *slot_specs, step = specs
        require(name, param, "f", "a floating-point parameter")
        if len(slot_specs) != len(slots) or step.dtype.name != "float64" or tuple(step.shape) != (len(step_params),):
            raise InvalidArgumentError(
                f"{name}: takes (param, grad, {', '.join(slots) + ', ' if slots else ''}step) with step a float64 "
                f"vector of ({', '.join(step_params)}); got {len(specs)} inputs after the gradient, the last "
                f"{step.dtype.name}{list(step.shape)}")
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


UPDATES = {name: primitive(name, _infer(name, slots, step_params, params), n_outputs=1 + len(slots))
           for name, (slots, step_params, params) in RULES.items()}
