"""The multi-tensor optimizer update on cpu, as kernels/optim.cu built for the host (gpuflow/runtime/host.py).

The cuda backend runs a rule's kernel once per parameter; here the same kernel, built for the CPU, runs once per
parameter of the node, with the same arguments (backend/cuda/optim.py's kernel_args). The arithmetic is
optim.cuh's per-element rule, which NumPy's rule (backend/numpy/optim.py) mirrors pass by pass: the results
are the same bit for bit, in one vectorized loop instead of ~12 NumPy passes per tensor. Denormals are flushed
as NumPy's rule flushes them. float32 and float64 only (half and bfloat16 stay on NumPy's rule), and a skipped
step (`apply` 0: copies) goes to NumPy's rule too.
"""
from __future__ import annotations

import numpy as np

from ... import dtypes
from ...backend.cuda.optim import _KERNELS, kernel_args
from ...backend.numpy.optim import multi_update as numpy_multi_update
from ...backend.optim_rules import RULES
from ...errors import InvalidArgumentError
from ...runtime import host

# Every rule's kernel in both types, built as one library (one build, however many rules a program uses).
NAMES = tuple(dict.fromkeys(f"{kernel}<{t}>" for kernel, _ in _KERNELS.values() for t in ("float", "double")))


def host_multi_update(rule: str, hyper: dict, dtype, sizes):
    """`run(*arrays, out=None)` (Runner.many's layout: p0, g0, *slots0, p1, ..., step) for parameters of these
    sizes (element counts) through the host kernel, or None when the dtype is not float32/float64 or host kernels
    are off here."""
    if dtype not in (dtypes.float32, dtypes.float64):
        return None
    kernel = host.kernel("optim.cu", f"{_KERNELS[rule][0]}<{dtype.ctype}>", NAMES)
    if kernel is None:
        return None
    n_in, n_out = 2 + len(RULES[rule][0]), 1 + len(RULES[rule][0])
    skipped_step = numpy_multi_update(rule)
    filled = [n for n in sizes if n]
    calls = _prepare(kernel, rule, hyper, dtype.np, filled, n_in, n_out, in_place=False)
    in_place_calls = _prepare(kernel, rule, hyper, dtype.np, filled, n_in, n_out, in_place=True)
    count = len(sizes)
    # the positions of each output's input (the param and its slots), and the inputs of tensors with elements
    own_input = [t * n_in + (0 if j == 0 else 1 + j) for t in range(count) for j in range(n_out)]
    read = [t * n_in + j for t in range(count) if sizes[t] for j in range(n_in)]

    def run(*arrays, out=None, **_params):  # params: only for reading the IR (rule, parameters, kernel)
        step = arrays[-1]
        if step[-1] == 0.0:
            return skipped_step(*arrays, out=out, **hyper)
        if len(arrays) != count * n_in + 1:
            raise InvalidArgumentError(f"{rule}: {count} parameters' updates take {count * n_in + 1} arrays, got "
                                       f"{len(arrays)}")
        if out is not None and all(o is arrays[k] for o, k in zip(out, own_input)) and all(
                type(arrays[k]) is np.ndarray and arrays[k].flags.c_contiguous for k in read):
            # A compiled step's case: every param and slot updated in its own buffer, each array passed once
            in_place_calls.run([arrays[k] for k in read] + [step])
            return tuple(out) if len(out) > 1 else out[0]
        flat, local, copies = [], [], []  # local: per tensor with elements, p, g, *slots, *outs; then step
        for t in range(count):
            ins = [a if type(a) is np.ndarray and a.flags.c_contiguous else np.array(a, order="C")
                   for a in arrays[t * n_in:(t + 1) * n_in]]
            given = None if out is None else out[t * n_out:(t + 1) * n_out]
            mine = given if given is not None and all(_writable(o, ins[0]) for o in given) else \
                [np.empty(ins[0].shape, ins[0].dtype) for _ in range(n_out)]
            if given is not None and mine is not given:  # (a buffer the kernel cannot index flat)
                copies.append((given, mine))
            if ins[0].size:
                local += ins
                local += mine
            flat += given if given is not None else mine
        local.append(step)
        calls.run(local)
        for given, mine in copies:
            for o, value in zip(given, mine):
                np.copyto(o, value)
        return flat[0] if len(flat) == 1 else tuple(flat)
    return run


def _prepare(kernel, rule, hyper, np_dtype, sizes, n_in, n_out, in_place):
    """The kernel's calls for (non-empty) tensors of these sizes, laid out from kernel_args (the cuda backend's own
    argument list) on stand-in arrays: each stand-in's position becomes the template's int. The arrays are, per
    tensor, p, g, *slots and (unless in place, where each output is its input) the outputs; then step."""
    templates, all_sizes = [], []
    per = n_in if in_place else n_in + n_out
    step = np.broadcast_to(np.empty((), np.float64), (0,))
    for t, n in enumerate(sizes):
        stand_ins = [np.broadcast_to(np.empty((), np_dtype), (n,)) for _ in range(per)]
        position = {id(a): t * per + j for j, a in enumerate(stand_ins)}
        position[id(step)] = len(sizes) * per
        p, g, *slots = stand_ins[:n_in]
        outs = [p, *slots] if in_place else stand_ins[n_in:]
        args = kernel_args(rule, p, g, (*slots, step), outs, hyper)[1]
        templates.append([position[id(a)] if isinstance(a, np.ndarray) else a for a in args])
        all_sizes += [n] * per
    return kernel.prepare(templates, all_sizes, flush_denormals=True)


def _writable(o, p) -> bool:
    return type(o) is np.ndarray and o.dtype == p.dtype and o.shape == p.shape and o.flags.c_contiguous
