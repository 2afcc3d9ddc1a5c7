"""Fused optimizer updates: one launch of kernels/optim.cu per parameter.

Each kernel takes every slot its rule may keep; slots a variant does not keep are switched
off by an int flag and get the parameter's buffers in their place (never read or written).
"""
from __future__ import annotations

import numpy as np

from ._registry import impl
from .storage import ctype
from ..optim_rules import RULES

# primitive: (kernel, the slots that kernel takes, in its parameter order)
_KERNELS = {
    "sgd_update": ("sgd_update", ("momentum",)),
    "sgd_momentum_update": ("sgd_update", ("momentum",)),
    "adam_update": ("adam_update", ("m", "v", "v_hat")),
    "adam_amsgrad_update": ("adam_update", ("m", "v", "v_hat")),
    "adamax_update": ("adamax_update", ("m", "u")),
    "nadam_update": ("nadam_update", ("m", "v")),
    "rmsprop_update": ("rmsprop_update", ("velocity", "average", "momentum")),
    "rmsprop_momentum_update": ("rmsprop_update", ("velocity", "average", "momentum")),
    "rmsprop_centered_update": ("rmsprop_update", ("velocity", "average", "momentum")),
    "rmsprop_centered_momentum_update": ("rmsprop_update", ("velocity", "average", "momentum")),
    "adagrad_update": ("adagrad_update", ("accumulator",)),
    "adadelta_update": ("adadelta_update", ("accumulated_grad", "accumulated_delta_var")),
    "lion_update": ("lion_update", ("m",)),
}


def _scalars(kernel, slots, hyper, acc):
    """The kernel's by-value arguments after n and `step`, in its parameter order, with their exact C types."""
    h = dict(hyper)
    on = lambda slot: np.int32(slot in slots)  # noqa: E731
    f = lambda *names: [acc(h.get(name, 0.0)) for name in names]  # noqa: E731
    if kernel == "sgd_update":
        return f("momentum") + [on("momentum"), np.int32(bool(h.get("nesterov", False)))] + f("weight_decay")
    if kernel == "adam_update":
        return f("beta_1", "beta_2", "epsilon") + [on("v_hat")] + f("weight_decay")
    if kernel == "adamax_update":
        return f("beta_1", "beta_2", "epsilon", "weight_decay")
    if kernel == "nadam_update":
        return f("beta_1", "beta_2", "epsilon", "weight_decay")
    if kernel == "rmsprop_update":
        return f("rho", "momentum", "epsilon") + [on("average"), on("momentum")] + f("weight_decay")
    if kernel == "adadelta_update":
        return f("rho", "epsilon", "weight_decay")
    if kernel == "lion_update":
        return f("beta_1", "beta_2", "weight_decay")
    return f("epsilon", "weight_decay")


@impl(*RULES)
def update(backend, name, p, g, *arrays, out=None, **hyper):
    """`out`: buffers for the new (param, *slots), e.g. the inputs' own (the update in place: each element is
    read, then written, by one thread, so a buffer may be an input and an output at once)."""
    outs = list(out) if out is not None else [backend.xp.empty_like(p) for _ in range(1 + len(RULES[name][0]))]
    if p.size:
        kernel, args = kernel_args(name, p, g, arrays, outs, hyper)
        backend.kernel("optim.cu", kernel)((backend.grid_for(p.size),), (256,), args)
    return outs[0] if len(outs) == 1 else tuple(outs)


def kernel_args(name, p, g, arrays, outs, hyper):
    """(the optim.cu kernel's name expression, its arguments) for update `name` of one tensor: `arrays` are its
    slots and `step`, `outs` the buffers of the new (param, *slots). The host build (graph/fusion/host_update.py)
    calls the same kernels with the same arguments."""
    *slot_arrays, step = arrays
    kernel, kernel_slots = _KERNELS[name]
    slots = dict(zip(RULES[name][0], slot_arrays))
    out_slots = dict(zip(RULES[name][0], outs[1:]))
    ins = [slots.get(s, p) for s in kernel_slots]
    outs_args = [out_slots.get(s, outs[0]) for s in kernel_slots]
    acc = np.float64 if p.dtype == np.float64 else np.float32  # the kernel's acc_t<T>
    args = [p, g, *ins, outs[0], *outs_args, np.int64(p.size), step, *_scalars(kernel, slots, hyper, acc)]
    return f"{kernel}<{ctype(p)}>", tuple(args)
