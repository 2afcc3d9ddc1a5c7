"""sim: gpuflow's ops and RawKernel launches go to the thread's current stream (gpuflow/runtime/sim/queues.py).

Until the first non-default stream exists (or a profile is recorded) every call goes straight to its
implementation, as it always did. After that:

- on the default stream an op still runs at once, and what it read and wrote is checked and put on
  the timeline;
- on another stream an op is queued: its outputs are allocated now, from the primitive's own shape
  inference, and filled when the queue runs it, so the Tensor exists at once as on a GPU.

A RawKernel's `const T*` arguments are reads; its other array arguments are writes if the kernel
changed their bytes, reads otherwise.
"""
from __future__ import annotations

import numpy as np

from ...runtime import streams
from ...runtime.sim.queues import engine, fresh_outputs
from ...runtime.timeline import COMPUTE, COPY


def streamed_impls(impls: dict, device) -> dict:
    eng = engine()
    return {name: _streamed(name, fn, eng, device) for name, fn in impls.items()}


def streamed_call(name, fn, device, out_specs):
    """fn (a generated kernel's launch: arrays in, arrays out) as one op on the current stream of `device`;
    out_specs() -> [(shape, numpy dtype)] of its outputs."""
    eng = engine()

    def impl(*arrays, **params):
        if not eng.tracking or eng.executing():
            return fn(*arrays, **params)
        specs = out_specs()
        return run_op(eng, streams.current_handle(device), name, fn, arrays, params,
                      lambda: tuple(specs) if len(specs) > 1 else specs)  # a tuple: several outputs
    return impl


def _streamed(name, fn, eng, device):
    def impl(*arrays, **params):
        if not eng.tracking or eng.executing():
            return fn(*arrays, **params)
        reads = None
        if name == "copy_to":  # from another device: a host read of the source (waited for), then an upload
            if params["source"].kind == "sim":
                eng.host_read(arrays[0], streams.current_handle(params["source"]))
            reads = ()
        return run_op(eng, streams.current_handle(device), name, fn, arrays, params,
                      lambda: _infer(name, arrays, params), reads)
    impl.__name__ = getattr(fn, "__name__", name)
    return impl


def run_op(eng, queue, name, fn, arrays, params, out_specs, reads=None):
    """fn(*arrays, **params) as one op on `queue`; out_specs() -> [(shape, numpy dtype)], asked only to queue it.
    `reads`: the arrays the op reads on `queue` (default: every input array)."""
    inputs = [a for a in arrays if isinstance(a, np.ndarray)] if reads is None else list(reads)
    if queue.immediate:
        def run_now():
            out = fn(*arrays, **params)
            return out, inputs, fresh_outputs(out if isinstance(out, tuple) else (out,), inputs)
        return eng.submit(queue, name, COMPUTE, run_now)
    specs = out_specs()
    outs = [np.empty(shape, dtype) for shape, dtype in specs]

    def run_queued():
        out = fn(*arrays, **params)
        for dst, src in zip(outs, out if isinstance(out, tuple) else (out,)):
            np.copyto(dst, src)
        return None, inputs, outs
    eng.submit(queue, name, COMPUTE, run_queued, nbytes=sum(a.nbytes for a in inputs + outs))
    return outs[0] if len(outs) == 1 and not isinstance(specs, tuple) else tuple(outs)


def _infer(name, arrays, params):
    # The primitive's own inference on specs of the inputs (sim stores every dtype as its NumPy dtype).
    from ...dtypes import as_dtype
    from ...ops.dispatch import PRIMITIVES
    from ...tensor import TensorSpec
    prim = PRIMITIVES[name]
    specs = prim.infer(*[TensorSpec(a.shape, as_dtype(a.dtype)) for a in arrays], **params)
    if prim.n_outputs == 1:
        return [(tuple(specs.shape), specs.dtype.np)]
    return tuple((tuple(s.shape), s.dtype.np) for s in specs)


def copy(data, device, copy_fn=np.copy):
    """backend.copy (a Variable's own buffer) as an op on the current stream; `copy_fn` makes the copy (sim's
    allocator's, so the buffer comes from its pool)."""
    eng = engine()
    if not eng.tracking or eng.executing():
        return copy_fn(data)
    return run_op(eng, streams.current_handle(device), "copy", copy_fn, (data,), {},
                  lambda: [(data.shape, data.dtype)])


def created(data, device, name, cat) -> None:
    """A buffer just made and filled by `name` on the current stream (gf.constant's upload, gf.zeros' fill)."""
    eng = engine()
    if eng.tracking and not eng.executing():
        eng.created(streams.current_handle(device), data, name, cat)


def host_read(data, device) -> None:
    """Before Tensor.numpy() reads a sim buffer."""
    eng = engine()
    if eng.tracking:
        eng.host_read(data, streams.current_handle(device))


def launch_kernel(fn, device, grid, block, args, shared_mem) -> None:
    """A user's RawKernel launch (fn: a SimFunction) on the current stream of `device`."""
    eng = engine()
    if not eng.tracking or eng.executing():
        fn(grid, block, args, shared_mem=shared_mem)
        return
    arrays = [(i, a) for i, a in enumerate(args) if isinstance(a, np.ndarray)]

    def run():
        changed = []
        fn.launch(grid, block, args, shared_mem, changed)
        reads = [a for i, a in arrays if i not in changed or fn.params[i].ctype.startswith("const ")]
        writes = [a for i, a in arrays if i in changed and not fn.params[i].ctype.startswith("const ")]
        return None, reads, writes
    queue = streams.current_handle(device)
    if not queue.immediate:
        fn.check(grid, block, args, shared_mem)  # a bad launch fails here, not at a later call
    nbytes = None if queue.immediate else sum(a.nbytes for _, a in arrays)
    eng.submit(queue, f"kernel {fn.name}", COMPUTE, run, nbytes=nbytes)
