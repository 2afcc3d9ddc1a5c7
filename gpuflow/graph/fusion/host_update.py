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
from ...runtime import host

# Every rule's kernel in both types, built as one library (one build, however many rules a program uses).
NAMES = tuple(dict.fromkeys(f"{kernel}<{t}>" for kernel, _ in _KERNELS.values() for t in ("float", "double")))


def host_multi_update(rule: str, hyper: dict, dtype):
    """`run(*arrays, out=None)` (Runner.many's layout: p0, g0, *slots0, p1, ..., step) through the host kernel,
    or None when the dtype is not float32/float64 or host kernels are off here."""
    if dtype not in (dtypes.float32, dtypes.float64):
        return None
    kernel = host.kernel("optim.cu", f"{_KERNELS[rule][0]}<{dtype.ctype}>", NAMES)
    if kernel is None:
        return None
    n_in, n_out = 2 + len(RULES[rule][0]), 1 + len(RULES[rule][0])
    skipped_step = numpy_multi_update(rule)
    prepared = {}  # the tensors' sizes → their calls (a node's never change)

    def run(*arrays, out=None, **_params):  # params: only for reading the IR (rule, parameters, kernel)
        step = arrays[-1]
        if step[-1] == 0.0:
            return skipped_step(*arrays, out=out, **hyper)
        given = [None if out is None else out[t * n_out:(t + 1) * n_out] for t in range(len(arrays) // n_in)]
        outs, local = [], []  # per tensor: p, g, *slots, *outs; then step
        for t, k in enumerate(range(0, len(arrays) - 1, n_in)):
            ins = [a if type(a) is np.ndarray and a.flags.c_contiguous else np.array(a, order="C")
                   for a in arrays[k:k + n_in]]
            mine = given[t] if given[t] is not None and all(_writable(o, ins[0]) for o in given[t]) else \
                [np.empty(ins[0].shape, ins[0].dtype) for _ in range(n_out)]
            outs.append(mine)
            local += ins + list(mine)
        sizes = tuple(a.size for a in local)
        calls = prepared.get(sizes)
        if calls is None:
            calls = prepared[sizes] = _prepare(kernel, rule, hyper, dtype.np, sizes[::n_in + n_out], n_in, n_out)
        calls.run(local + [step])
        flat = []
        for want, mine in zip(given, outs):
            if want is not None and mine is not want:  # (a buffer the kernel cannot index flat)
                for o, value in zip(want, mine):
                    np.copyto(o, value)
                mine = want
            flat += mine
        return flat[0] if len(flat) == 1 else tuple(flat)
    return run


def _prepare(kernel, rule, hyper, np_dtype, sizes, n_in, n_out):
    """The kernel's calls for tensors of these sizes, laid out from kernel_args (the cuda backend's own argument
    list) on stand-in arrays: each stand-in's position becomes the template's int."""
    templates, all_sizes = [], []
    per = n_in + n_out
    for t, n in enumerate(sizes):
        stand_ins = [np.broadcast_to(np.empty((), np_dtype), (n,)) for _ in range(per)]
        step = np.broadcast_to(np.empty((), np.float64), (0,))
        position = {id(a): t * per + j for j, a in enumerate(stand_ins)}
        position[id(step)] = len(sizes) * per
        p, g, *slots = stand_ins[:n_in]
        args = kernel_args(rule, p, g, (*slots, step), stand_ins[n_in:], hyper)[1]
        if n:  # (an empty tensor: no call)
            templates.append([position[id(a)] if isinstance(a, np.ndarray) else a for a in args])
        all_sizes += [n] * per
    return kernel.prepare(templates, all_sizes, flush_denormals=True)


def _writable(o, p) -> bool:
    return type(o) is np.ndarray and o.dtype == p.dtype and o.shape == p.shape and o.flags.c_contiguous
