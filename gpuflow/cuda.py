"""`gf.cuda`: user-written CUDA kernels on gpuflow tensors, like cupy.RawKernel.

    add_one = gf.cuda.RawKernel(r'''
    extern "C" __global__ void add_one(float* x, long long n) {
        for (long long i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) x[i] += 1;
    }''', "add_one")
    x = gf.zeros([1000])
    add_one((4,), (256,), (x, np.int64(1000)))      # runs on x's device: cuda, or sim

The kernel writes into the tensors it is given, in place, as a CuPy kernel would (gpuflow's own
ops never do: a tensor made by reshape or Variable.assign may share that buffer, so write only
into tensors you created for the purpose, e.g. with gf.zeros). On `sim`
it runs in the simulator with its race, bounds and barrier checks; `cpu` has no kernels.

Under `gf.config.experimental.enable_op_determinism()` a kernel that calls atomics is refused (their
order, and so a float sum, can change from run to run) unless made with `deterministic=True`.

Streams and events, as torch.cuda / CuPy name them (docs/streams.md):

    copy, compute = gf.cuda.Stream(), gf.cuda.current_stream()
    with gf.cuda.stream(copy):
        produce((4,), (256,), (x,))          # queued on `copy`
    done = copy.record_event()
    compute.wait_event(done)                  # compute's later work runs after it: no host wait
    consume((4,), (256,), (x, y))

On cuda these are CuPy streams and events; on sim, queues run in a seeded interleaving whose race
checker raises KernelError when `wait_event` is missing; on cpu work runs when issued.
"""
from __future__ import annotations

import numpy as np

from . import determinism, devices, dtypes
from .errors import InvalidArgumentError
from .runtime.counters import COUNTERS
from .runtime.sources import kernel_dir
from .runtime.streams import Event, Stream, current_stream, default_stream, stream, synchronize  # noqa: F401
from .tensor import Tensor

# Public names: what the API reference shows and `import *` takes (imported helpers are not API).
__all__ = ["RawKernel"]


class RawKernel:
    """A CUDA C++ kernel of your own, launched on gpuflow tensors: `kernel(grid, block, args)`.

        The source is compiled for the device of its tensor arguments: NVRTC through CuPy on `cuda`, the
        host compiler and the simulator (with race, bounds and barrier checks) on `sim`. Scalar arguments
        must be NumPy scalars of the kernel parameter's exact type. See docs/custom-kernels.md.

        Devices: sim, cuda (cpu runs no kernels)
    """
    def __init__(self, code: str, name: str, options=(), *, deterministic=False):
        self.code, self.name, self.deterministic = code, name, bool(deterministic)
        self.options = tuple(options) + (f"-I{kernel_dir()}",)
        self._compiled = {}

    def _function(self, device):
        fn = self._compiled.get(device)
        if fn is None:
            if device.kind == "cuda":
                import cupy
                from .runtime.cuda_headers import ensure_cupy_nvrtc, include_dirs
                ensure_cupy_nvrtc()
                options = self.options + tuple(f"-I{d}" for d in include_dirs())
                fn = cupy.RawKernel(self.code, self.name, options=options)
            elif device.kind == "sim":
                from .runtime.sim import SimKernel
                fn = SimKernel(self.code, self.name, options=self.options)
            else:
                raise InvalidArgumentError(
                    f"RawKernel {self.name}: CUDA kernels run on 'cuda' or 'sim', not on {device}; "
                    f"put the tensors there first (gf.device('sim') runs kernels on the CPU)")
            self._compiled[device] = fn
        return fn

    def __call__(self, grid, block, args, shared_mem=0):
        determinism.check_raw_kernel(self.name, self.code, self.deterministic)
        tensors = [a for a in args if isinstance(a, Tensor)]
        placed = {t._device for t in tensors}
        if len(placed) > 1:
            raise InvalidArgumentError(f"RawKernel {self.name}: tensor arguments are on different devices "
                                       f"({', '.join(map(str, placed))}); move them to one with .to(...)")
        device = placed.pop() if placed else devices.current()
        fn = self._function(device)
        converted = tuple(a._data if isinstance(a, Tensor) else a for a in args)
        for i, a in enumerate(converted):
            if type(a) in (int, float, bool):  # NumPy scalars (np.float64 subclasses float) are exact and fine
                # CuPy picks the C type from the Python type, never from the kernel's declaration: an int
                # goes as int64 and a float as double (a bool as int64 in CuPy 13, as a 1-byte bool in
                # CuPy 14); a kernel reading another type gets garbage. Say so instead of guessing.
                raise InvalidArgumentError(
                    f"RawKernel {self.name}: argument {i} is a Python {type(a).__name__}; pass a NumPy scalar of the "
                    f"kernel parameter's exact type (np.int32, np.int64, np.float32, ...)")
        COUNTERS.launches += 1
        grid = tuple(grid) if not np.isscalar(grid) else (grid,)
        block = tuple(block) if not np.isscalar(block) else (block,)
        if device.kind == "cuda":
            import cupy
            # gpuflow holds bfloat16 on cuda as uint16 bits (CuPy 13 has no bfloat16; CuPy 14's is minimal and
            # needs NumPy >= 2.1.2), so a bfloat16 scalar goes as the same bits.
            converted = tuple(a.view(np.uint16) if isinstance(a, np.generic) and a.dtype == dtypes.bfloat16.np else a
                              for a in converted)
            with cupy.cuda.Device(device.index):  # CuPy launches on its current device (and its current stream)
                fn(grid, block, converted, shared_mem=shared_mem)
        else:
            from .backend.cuda._streamed import launch_kernel
            launch_kernel(fn.function, device, grid, block, converted, shared_mem)
