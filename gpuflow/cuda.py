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
"""
from __future__ import annotations

import numpy as np

from . import devices, dtypes
from .errors import InvalidArgumentError
from .runtime.sources import kernel_dir
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
    def __init__(self, code: str, name: str, options=()):
        self.code, self.name = code, name
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
                # CuPy would pass an int as int64, a float as double and a bool as int64 too (it tests
                # isinstance(x, int) first); say so instead of guessing.
                raise InvalidArgumentError(
                    f"RawKernel {self.name}: argument {i} is a Python {type(a).__name__}; pass a NumPy scalar of the "
                    f"kernel parameter's exact type (np.int32, np.int64, np.float32, ...)")
        grid = tuple(grid) if not np.isscalar(grid) else (grid,)
        block = tuple(block) if not np.isscalar(block) else (block,)
        if device.kind == "cuda":
            import cupy
            # CuPy has no bfloat16 scalar type (its arrays hold bfloat16 as uint16): pass the same bits.
            converted = tuple(a.view(np.uint16) if isinstance(a, np.generic) and a.dtype == dtypes.bfloat16.np else a
                              for a in converted)
            with cupy.cuda.Device(device.index):  # CuPy launches on its current device
                fn(grid, block, converted, shared_mem=shared_mem)
        else:
            fn(grid, block, converted, shared_mem=shared_mem)
